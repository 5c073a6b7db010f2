"""The screen the player draws on: its size and kind, found at start, and the pointer hidden.

Under a bare X server (many Pi kiosks) there is no window manager, so ``--kiosk`` and
``--fs`` cannot ask anyone for a full-screen window: the player reads the root window's
size itself and places its windows at 0,0 with that size. Under a Wayland compositor
such as cage, the compositor makes every window full screen and stacks them itself, so a
compositor that answers is used directly even when Xwayland offers an X display too.
libX11 is reached through ctypes (Chromium and mpv depend on it), with ``xdpyinfo`` as a
fallback, so no Python X binding is needed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Screen:
    """``kind`` is ``x11``, ``wayland`` or ``none``; the size is known on X11 only."""

    kind: str
    width: int | None = None
    height: int | None = None

    @property
    def size(self) -> tuple[int, int] | None:
        """(width, height) when known."""
        return (self.width, self.height) if self.width and self.height else None


def _load(name: str) -> ctypes.CDLL | None:
    path = ctypes.util.find_library(name)
    if path is None:
        return None
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


# Xlib's default error handler exits the process (e.g. raising a window that just went
# away); the player must never die of that, so errors are ignored.
_ERROR_HANDLER = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)(
    lambda _display, _event: 0)
_XLIB: list[ctypes.CDLL | None] = []


def xlib() -> ctypes.CDLL | None:
    """libX11 with a non-fatal error handler, loaded once; None when it is missing."""
    if _XLIB:
        return _XLIB[0]
    lib = _load("X11")
    _XLIB.append(lib)
    if lib is None:
        return None
    lib.XSetErrorHandler.argtypes = [ctypes.c_void_p]
    lib.XSetErrorHandler(ctypes.cast(_ERROR_HANDLER, ctypes.c_void_p))
    lib.XOpenDisplay.restype = ctypes.c_void_p
    lib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for name in ("XDefaultScreen", "XCloseDisplay", "XFlush"):
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.XDisplayWidth.argtypes = lib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.XDefaultRootWindow.restype = ctypes.c_ulong
    lib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    return lib


def x11_size(display: str) -> tuple[int, int] | None:
    """The size of ``display``'s default screen in pixels, or None when it cannot be read."""
    lib = xlib()
    if lib is not None:
        handle = lib.XOpenDisplay(display.encode())
        if handle:
            try:
                screen = lib.XDefaultScreen(handle)
                return lib.XDisplayWidth(handle, screen), lib.XDisplayHeight(handle, screen)
            finally:
                lib.XCloseDisplay(handle)
    xdpyinfo = shutil.which("xdpyinfo")
    if xdpyinfo is None:
        return None
    try:
        output = subprocess.run([xdpyinfo, "-display", display], capture_output=True, text=True,
                                timeout=5, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"dimensions:\s+(\d+)x(\d+) pixels", output)
    return (int(match[1]), int(match[2])) if match else None


def wayland_answers(environ: Mapping[str, str]) -> bool:
    """Whether a Wayland compositor listens on ``WAYLAND_DISPLAY`` (a stale name does not)."""
    name = environ.get("WAYLAND_DISPLAY")
    if not name:
        return False
    path = name if name.startswith("/") else os.path.join(environ.get("XDG_RUNTIME_DIR", ""),
                                                          name)
    if not os.path.isabs(path):
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        try:
            probe.connect(path)
        except OSError:
            return False
    return True


def detect_screen(environ: Mapping[str, str] | None = None) -> Screen:
    """The screen: a Wayland compositor that answers, else ``DISPLAY``'s X server.

    Wayland comes first: under cage, Xwayland's windows are stacked by the compositor,
    which ignores X restacking, so mpv's window raised through X stayed under Chromium's.
    """
    env = os.environ if environ is None else environ
    if wayland_answers(env):
        logger.info("Wayland compositor on %s", env["WAYLAND_DISPLAY"])
        return Screen("wayland")
    display = env.get("DISPLAY")
    if display:
        size = x11_size(display)
        if size is None and env.get("WAYLAND_DISPLAY"):
            # Both are set (as in the systemd unit) but no X server answers: pure Wayland.
            return Screen("wayland")
        if size is None:
            logger.warning("Could not read the size of X display %s; windows may not fill it",
                           display)
            return Screen("x11")
        logger.info("X display %s is %dx%d", display, *size)
        return Screen("x11", *size)
    if env.get("WAYLAND_DISPLAY"):
        return Screen("wayland")
    return Screen("none")


class CursorHider:
    """Hides the X pointer over the whole screen for as long as this object is open.

    XFixes hides the cursor only while the client that asked keeps its connection, so
    the connection stays open until ``close``. Without X11 or XFixes this does nothing
    (a Wayland kiosk compositor shows no pointer without a pointing device).
    """

    def __init__(self) -> None:
        self._lib: ctypes.CDLL | None = None
        self._handle: int | None = None

    def hide(self, display: str | None) -> bool:
        """Hide the pointer on ``display``; True when it worked."""
        lib, fixes = xlib(), _load("Xfixes")
        if not display or lib is None or fixes is None:
            return False
        handle = lib.XOpenDisplay(display.encode())
        if not handle:
            return False
        fixes.XFixesHideCursor.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        fixes.XFixesHideCursor(handle, lib.XDefaultRootWindow(handle))
        lib.XFlush(handle)
        self._lib, self._handle = lib, handle
        return True

    def close(self) -> None:
        """Close the connection (the pointer shows again)."""
        if self._lib is not None and self._handle:
            with contextlib.suppress(Exception):
                self._lib.XCloseDisplay(self._handle)
        self._lib, self._handle = None, None
