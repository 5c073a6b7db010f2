"""The screen the player draws on: its size and kind, found at start, and the pointer hidden.

Under a bare X server (many Pi kiosks) there is no window manager, so ``--kiosk`` and
``--fs`` cannot ask anyone for a full-screen window: the player reads the root window's
size itself and places its windows at 0,0 with that size. Under a Wayland compositor
such as cage, the compositor makes every window full screen. libX11 is reached through
ctypes (Chromium and mpv depend on it), with ``xdpyinfo`` as a fallback, so no Python
X binding is needed.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import re
import shutil
import subprocess
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


def _xlib() -> ctypes.CDLL | None:
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
    lib = _xlib()
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


def detect_screen(environ: dict[str, str] | None = None) -> Screen:
    """The screen from ``DISPLAY`` (preferred: Xwayland under cage is X11 too) or Wayland."""
    env = os.environ if environ is None else environ
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
        lib, fixes = _xlib(), _load("Xfixes")
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


class WindowRaiser:
    """Raises a top-level X window found by its title: stacking without a window manager.

    mpv cannot raise its own window without one (``ontop`` asks the window manager), and
    mapping a new window for each video shows it first at a small size; so mpv keeps one
    window for its whole life, and the player raises it when a video's first frame is out.
    """

    def __init__(self, display: str | None, title: str) -> None:
        self.display = display
        self.title = title.encode()
        self._lib = _xlib()
        self._handle: int | None = None
        self._window: int | None = None
        # Whether a window manager put a frame around the window (found on first use).
        self.framed: bool | None = None

    def _open(self) -> int | None:
        if self._handle is None and self._lib is not None and self.display:
            self._handle = self._lib.XOpenDisplay(self.display.encode()) or None
            if self._handle is not None:
                lib = self._lib
                lib.XQueryTree.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                           ctypes.POINTER(ctypes.c_ulong),
                                           ctypes.POINTER(ctypes.c_ulong),
                                           ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
                                           ctypes.POINTER(ctypes.c_uint)]
                lib.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                           ctypes.POINTER(ctypes.c_char_p)]
                lib.XRaiseWindow.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
                lib.XFree.argtypes = [ctypes.c_void_p]
        return self._handle

    def _children(self, handle: int, window: int) -> list[int]:
        lib = self._lib
        assert lib is not None
        root, parent = ctypes.c_ulong(), ctypes.c_ulong()
        children = ctypes.POINTER(ctypes.c_ulong)()
        count = ctypes.c_uint()
        if not lib.XQueryTree(handle, window, ctypes.byref(root), ctypes.byref(parent),
                              ctypes.byref(children), ctypes.byref(count)):
            return []
        found = [children[index] for index in range(count.value)]
        if children:
            lib.XFree(children)
        return found

    def _named(self, handle: int, window: int, depth: int) -> bool:
        lib = self._lib
        assert lib is not None
        name = ctypes.c_char_p()
        if lib.XFetchName(handle, window, ctypes.byref(name)) and name.value:
            matched = name.value == self.title
            lib.XFree(name)
            if matched:
                return True
        return depth > 0 and any(self._named(handle, child, depth - 1)
                                 for child in self._children(handle, window))

    def _find(self, handle: int) -> int | None:
        """The top-level window holding the titled one: itself on a bare X server, the
        frame a window manager put around it otherwise."""
        assert self._lib is not None
        for window in self._children(handle, self._lib.XDefaultRootWindow(handle)):
            if self._named(handle, window, 0):
                self.framed = False
                return window
            if self._named(handle, window, 2):
                self.framed = True
                return window
        return None

    def keep_pixels_on_expose(self) -> int:
        """Give every other top-level window no background, and return how many.

        When Chromium's window comes back over mpv's, the X server would fill it with its
        background colour (white) until Chromium repaints; with no background the
        outgoing picture stays on screen for those milliseconds instead.
        """
        handle = self._open()
        lib = self._lib
        if handle is None or lib is None:
            return 0
        lib.XSetWindowBackgroundPixmap.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                                   ctypes.c_ulong]
        mine = self._find(handle)
        # Chromium draws into a child window of its top-level one: both keep their pixels.
        windows: list[int] = []
        level = [w for w in self._children(handle, lib.XDefaultRootWindow(handle)) if w != mine]
        for _depth in range(3):
            windows += level
            level = [child for window in level for child in self._children(handle, window)]
        for window in windows:
            lib.XSetWindowBackgroundPixmap(handle, window, 0)  # None
        lib.XFlush(handle)
        return len(windows)

    def raise_window(self) -> bool:
        """Put the window above every other; False when it cannot be found."""
        return self._restack("XRaiseWindow")

    def lower_window(self) -> bool:
        """Put the window below every other; False when it cannot be found."""
        return self._restack("XLowerWindow")

    def _restack(self, request: str) -> bool:
        handle = self._open()
        lib = self._lib
        if handle is None or lib is None:
            return False
        if self._window is None:
            self._window = self._find(handle)
            if self._window is None:
                return False
        call = getattr(lib, request)
        call.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        call(handle, self._window)
        # XSync, not XFlush: the stacking has changed once this returns.
        lib.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        lib.XSync(handle, 0)
        return True

    def close(self) -> None:
        """Close the X connection."""
        if self._lib is not None and self._handle is not None:
            with contextlib.suppress(Exception):
                self._lib.XCloseDisplay(self._handle)
        self._handle, self._window = None, None
