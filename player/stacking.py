"""Which X window is on top: mpv's or Chromium's, with or without a window manager.

On a bare X server nobody stacks windows but the clients, so mpv's window is raised and
lowered with plain X requests. Under a window manager (a desktop session) that does not
last: the manager keeps a focused full-screen window in a layer above every other, so a
raised mpv stayed under Chromium (a desktop session showed no video at all). There the
window to show is *activated* the EWMH way (``_NET_ACTIVE_WINDOW``), which every such
manager honours by raising and focusing it, and its own full-screen layer then covers
Chromium, panels and docks.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import time

from player.screen import xlib

logger = logging.getLogger(__name__)

# X protocol constants (X.h).
_CLIENT_MESSAGE = 33
_SUBSTRUCTURE_NOTIFY_AND_REDIRECT = (1 << 19) | (1 << 20)
_ANY_PROPERTY_TYPE = 0
# EWMH source indication "pager": a request on the user's behalf, which window managers
# obey at once instead of applying focus-stealing prevention.
_SOURCE_PAGER = 2
# How long a restack through the window manager may take before the player moves on.
MANAGED_RESTACK_TIMEOUT_S = 0.5
_POLL_S = 0.01


class _ClientMessage(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong),
                ("message_type", ctypes.c_ulong), ("format", ctypes.c_int),
                ("data", ctypes.c_long * 5)]


class _Event(ctypes.Union):
    # XEvent is a union padded to 24 longs; XSendEvent reads that many bytes.
    _fields_ = [("client", _ClientMessage), ("pad", ctypes.c_long * 24)]


class WindowRaiser:
    """Raises and lowers a top-level X window found by its title.

    mpv cannot raise its own window without a window manager (``ontop`` asks one), and
    mapping a new window for each video shows it first at a small size; so mpv keeps one
    window for its whole life, and the player raises it when a video's first frame is out.
    """

    def __init__(self, display: str | None, title: str) -> None:
        self.display = display
        self.title = title.encode()
        self._lib = xlib()
        self._handle: int | None = None
        self._window: int | None = None  # the top-level window: the client or its frame
        self._client: int | None = None  # the titled window itself
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
                lib.XFree.argtypes = [ctypes.c_void_p]
                lib.XInternAtom.restype = ctypes.c_ulong
                lib.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
                lib.XGetWindowProperty.argtypes = [
                    ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_long,
                    ctypes.c_long, ctypes.c_int, ctypes.c_ulong, ctypes.POINTER(ctypes.c_ulong),
                    ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_ulong),
                    ctypes.POINTER(ctypes.c_ulong), ctypes.POINTER(ctypes.c_void_p)]
                lib.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int,
                                           ctypes.c_long, ctypes.POINTER(_Event)]
                lib.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
        return self._handle

    def _root(self, handle: int) -> int:
        assert self._lib is not None
        return self._lib.XDefaultRootWindow(handle)

    def _children(self, handle: int, window: int) -> list[int]:
        """``window``'s children, bottom to top."""
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

    def _titled(self, handle: int, window: int, depth: int) -> int | None:
        """The window named by the title: ``window`` or a descendant ``depth`` levels down."""
        lib = self._lib
        assert lib is not None
        name = ctypes.c_char_p()
        if lib.XFetchName(handle, window, ctypes.byref(name)) and name.value:
            matched = name.value == self.title
            lib.XFree(name)
            if matched:
                return window
        if depth > 0:
            for child in self._children(handle, window):
                if (found := self._titled(handle, child, depth - 1)) is not None:
                    return found
        return None

    def _find(self, handle: int) -> int | None:
        """The top-level window holding the titled one: itself on a bare X server, the
        frame a window manager put around it otherwise."""
        for window in self._children(handle, self._root(handle)):
            if self._titled(handle, window, 0) is not None:
                self.framed, self._client = False, window
                return window
            if (client := self._titled(handle, window, 2)) is not None:
                self.framed, self._client = True, client
                return window
        return None

    def _root_windows(self, handle: int, name: bytes) -> list[int]:
        """A window-list property of the root window (format 32), or [] when unset."""
        lib = self._lib
        assert lib is not None
        atom = lib.XInternAtom(handle, name, 0)
        kind, fmt = ctypes.c_ulong(), ctypes.c_int()
        count, after, data = ctypes.c_ulong(), ctypes.c_ulong(), ctypes.c_void_p()
        status = lib.XGetWindowProperty(handle, self._root(handle), atom, 0, 1024, 0,
                                        _ANY_PROPERTY_TYPE, ctypes.byref(kind),
                                        ctypes.byref(fmt), ctypes.byref(count),
                                        ctypes.byref(after), ctypes.byref(data))
        if status != 0 or not data.value:
            return []
        try:
            if fmt.value != 32:
                return []
            # Format 32 comes back as C longs, whatever their size.
            values = ctypes.cast(data, ctypes.POINTER(ctypes.c_ulong))
            return [values[index] for index in range(count.value)]
        finally:
            lib.XFree(data)

    def managed(self) -> bool:
        """Whether an EWMH window manager runs on the display (a desktop session)."""
        handle = self._open()
        return handle is not None and bool(self._root_windows(handle,
                                                              b"_NET_SUPPORTING_WM_CHECK"))

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
        level = [w for w in self._children(handle, self._root(handle)) if w != mine]
        for _depth in range(3):
            windows += level
            level = [child for window in level for child in self._children(handle, window)]
        for window in windows:
            lib.XSetWindowBackgroundPixmap(handle, window, 0)  # None
        lib.XFlush(handle)
        return len(windows)

    def raise_window(self) -> bool:
        """Put the window above every other; False when it cannot be found."""
        return self._restack(on_top=True)

    def lower_window(self) -> bool:
        """Put the window below every other; False when it cannot be found."""
        return self._restack(on_top=False)

    def _restack(self, *, on_top: bool) -> bool:
        handle = self._open()
        lib = self._lib
        if handle is None or lib is None:
            return False
        if self._window is None:
            self._window = self._find(handle)
            if self._window is None:
                return False
        if self.managed():
            return self._restack_managed(handle, on_top=on_top)
        call = lib.XRaiseWindow if on_top else lib.XLowerWindow
        call.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
        call(handle, self._window)
        # XSync, not XFlush: the stacking has changed once this returns.
        lib.XSync(handle, 0)
        return True

    def _restack_managed(self, handle: int, *, on_top: bool) -> bool:
        """Activate this window (to raise it) or the top other one (to lower it), then wait
        until the window manager's stacking list shows the change."""
        mine = self._client
        stacking = self._root_windows(handle, b"_NET_CLIENT_LIST_STACKING")
        if stacking and (stacking[-1] == mine) == on_top:
            # Already so (Chromium activates its own window when it swaps pages): asking
            # again would only move the focus around once more.
            return True
        others = [window for window in stacking if window != mine]
        target = mine if on_top else (others[-1] if others else None)
        if target is None:
            return False
        self._activate(handle, target)
        deadline = time.monotonic() + MANAGED_RESTACK_TIMEOUT_S
        while time.monotonic() < deadline:
            stacking = self._root_windows(handle, b"_NET_CLIENT_LIST_STACKING")
            if stacking and (stacking[-1] == mine) == on_top:
                return True
            time.sleep(_POLL_S)
        logger.warning("The window manager did not put mpv's window %s in %.1f s",
                       "on top" if on_top else "below", MANAGED_RESTACK_TIMEOUT_S)
        return False

    def _activate(self, handle: int, window: int) -> None:
        lib = self._lib
        assert lib is not None
        event = _Event()
        event.client.type = _CLIENT_MESSAGE
        event.client.send_event = 1
        event.client.window = window
        event.client.message_type = lib.XInternAtom(handle, b"_NET_ACTIVE_WINDOW", 0)
        event.client.format = 32
        event.client.data[0] = _SOURCE_PAGER
        lib.XSendEvent(handle, self._root(handle), 0, _SUBSTRUCTURE_NOTIFY_AND_REDIRECT,
                       ctypes.byref(event))
        lib.XSync(handle, 0)

    def close(self) -> None:
        """Close the X connection."""
        if self._lib is not None and self._handle is not None:
            with contextlib.suppress(Exception):
                self._lib.XCloseDisplay(self._handle)
        self._handle, self._window, self._client = None, None, None
