"""Renderers: what puts an asset on the screen, behind one small interface.

``browser`` (Chromium over CDP) shows images and web pages, ``mpv`` (JSON IPC) plays
videos and streams, ``headless`` records what would be shown. ``choose_renderer`` picks
by name or, for ``auto``, by what is installed; with both Chromium and mpv it returns a
``MediaRouter`` that sends each asset to the right one (docs/legacy-api.md §8.4).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from anthias_edge.errors import PlayerUnavailable, StartupError
from player.qr_overlay import QrOverlay

logger = logging.getLogger(__name__)

OUTCOMES = ("ended", "interrupted", "timeout")
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "rtp", "srt", "udp")
RENDERER_FAILURES = (PlayerUnavailable, OSError, TimeoutError)
# Leaving a video: how long Chromium's new tab is drawn under mpv's held last frame before
# mpv's window goes (MediaRouter.show). A fixed wait, not a detected event.
UNCOVER_SETTLE_S = 0.15


class PlayableItem(Protocol):
    """The fields a renderer reads from a play item (``player.rotation.PlayItem``)."""

    asset_id: str
    uri: str
    mimetype: str
    duration: float
    nocache: bool
    refresh_interval_s: int
    custom_headers: dict[str, str]
    skip_ssl_verify: bool
    qr_overlay: QrOverlay | None


@runtime_checkable
class Renderer(Protocol):
    """Shows one asset at a time; every method is called from the play loop's thread.

    ``wait_until_done`` returns ``"ended"`` (natural end, videos), ``"interrupted"``
    (the event was set) or ``"timeout"`` (the duration ran out). ``interrupt`` may be set
    from any thread.
    """

    def start(self) -> None:
        """Launch the backing process; raise StartupError when it cannot run."""

    def show(self, item: PlayableItem) -> None:
        """Put ``item`` on screen; return once it is there."""

    def preload(self, item: PlayableItem) -> None:
        """Prepare ``item`` off screen so the next ``show`` of it is instant (may be a no-op)."""

    def wait_until_done(self, timeout_s: float, interrupt: threading.Event) -> str:
        """Block until the shown asset ends, ``interrupt`` is set or ``timeout_s`` passes."""

    def stop(self) -> None:
        """Take the current asset off screen (black)."""

    def current(self) -> str | None:
        """The asset id on screen, or None."""

    def close(self) -> None:
        """Stop and release the backing process; safe to call twice."""


def kind_of(item: PlayableItem) -> str:
    """``image``, ``web``, ``stream`` or ``video``; anything unknown plays in mpv, as upstream."""
    mimetype = (item.mimetype or "").lower()
    if "image" in mimetype:
        return "image"
    if "web" in mimetype:
        return "web"
    scheme = item.uri.split(":", 1)[0].lower() if ":" in item.uri else ""
    if "stream" in mimetype or scheme in STREAM_SCHEMES or ".m3u8" in item.uri.lower():
        return "stream"
    return "video"


def wait_or_timeout(timeout_s: float, interrupt: threading.Event) -> str:
    """``interrupted`` when the event is set within ``timeout_s``, else ``timeout``."""
    return "interrupted" if interrupt.wait(max(0.0, timeout_s)) else "timeout"


class OutputLogger:
    """Logs what a renderer process writes to stderr, at most ``burst`` lines per ``window_s``.

    Chromium and mpv explain their own failures there (a GPU context that cannot be made,
    a lost X connection); a chatty process must not flood the journal, so lines past the
    budget are counted and the count is logged when the next window opens.
    """

    def __init__(self, name: str, burst: int = 20, window_s: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, level: int = logging.WARNING) -> None:
        self.name = name
        self.level = level
        self.burst = burst
        self.window_s = window_s
        self.clock = clock
        self._window_start = -window_s
        self._logged = 0
        self._dropped = 0
        self.log = logging.getLogger(f"{__name__}.{name}")

    def line(self, text: str) -> None:
        """Log one line of output, unless this window's budget is spent."""
        text = text.rstrip()
        if not text:
            return
        now = self.clock()
        if now - self._window_start >= self.window_s:
            if self._dropped:
                self.log.warning("(%d more lines from %s were not logged)", self._dropped,
                                 self.name)
            self._window_start, self._logged, self._dropped = now, 0, 0
        if self._logged < self.burst:
            self._logged += 1
            self.log.log(self.level, "%s", text)
        else:
            self._dropped += 1

    def follow(self, process: subprocess.Popen[bytes]) -> threading.Thread:
        """Read ``process``'s stderr on a daemon thread until it closes."""
        stream = process.stderr
        assert stream is not None

        def pump() -> None:
            with contextlib.suppress(OSError, ValueError):
                for raw in stream:
                    self.line(raw.decode(errors="replace"))
            stream.close()
            if self._dropped:
                self.log.warning("(%d more lines from %s were not logged)", self._dropped,
                                 self.name)

        thread = threading.Thread(target=pump, name=f"{self.name}-stderr", daemon=True)
        thread.start()
        return thread


def end_process_group(process: subprocess.Popen[bytes], grace_s: float = 3.0) -> None:
    """Wait briefly for a clean exit, then SIGTERM and SIGKILL the whole group."""
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
        try:
            process.wait(timeout=grace_s)
            break
        except subprocess.TimeoutExpired:
            continue
    # Children (renderers, GPU process) may outlive the parent: clear the group anyway,
    # and give the kernel a moment to take them down so callers see a clean slate.
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.02)


class MediaRouter:
    """Images and web pages in the browser, everything else in mpv (docs/legacy-api.md §8.4).

    A switch never shows black: mpv's window opens over Chromium's and is on screen
    once mpv reports its first frame; leaving a video, the next page is swapped in
    under mpv's held last frame before mpv stops and its window goes. When mpv fails it
    is restarted on its own while Chromium keeps its picture, and the play loop never
    sees the failure unless the restart fails too.
    """

    def __init__(self, browser: Renderer, media: Renderer) -> None:
        self.browser = browser
        self.media = media
        self._active: Renderer = browser
        self.media_restarts = 0

    def _for(self, item: PlayableItem) -> Renderer:
        return self.browser if kind_of(item) in ("image", "web") else self.media

    def start(self) -> None:
        """Start both renderers at once (the screen's first picture comes sooner)."""
        failure: list[BaseException] = []

        def start_media() -> None:
            try:
                self.media.start()
            except BaseException as ex:  # re-raised below, on the caller's thread
                failure.append(ex)

        thread = threading.Thread(target=start_media, name="mpv-start", daemon=True)
        thread.start()
        try:
            self.browser.start()
        finally:
            thread.join()
        if failure:
            self.browser.close()
            raise failure[0]
        self._stack_browser_on_top()

    def _stack_browser_on_top(self) -> None:
        # mpv's idle (black) window may have mapped last, over Chromium's picture; and
        # Chromium's window must not flash its white background when raised over mpv's.
        bring_to_front = getattr(self.browser, "bring_to_front", None)
        if bring_to_front is not None:
            bring_to_front()
        keep_pixels = getattr(self.media, "keep_pixels_on_expose", None)
        if keep_pixels is not None:
            keep_pixels()

    def show(self, item: PlayableItem) -> None:
        """Show on the right renderer; the outgoing one goes only once the new one is up."""
        target = self._for(item)
        if target is self.media:
            self._media_call(lambda: self.media.show(item))
            raise_window = getattr(self.media, "raise_window", None)
            if raise_window is not None and self.media.current() is not None:
                # mpv's one window (X11) sits under Chromium's: raise it at the first frame.
                raise_window()
            # The page under mpv is left as it is: a page blanked there came back as one
            # black frame when Chromium was uncovered (it re-presents its last frame).
        else:
            leaving_media = self._active is self.media
            keep_pixels = getattr(self.media, "keep_pixels_on_expose", None)
            if keep_pixels is not None:
                # Chromium raises its own window when it swaps targets (on X11 each has a
                # window of its own) and resets its background as pages load: take it
                # away again just before, so the raised window shows the outgoing picture
                # (the video's last frame, the other window's page) until it has drawn.
                keep_pixels()
            self.browser.show(item)
            if leaving_media:
                lower_window = getattr(self.media, "lower_window", None)
                if lower_window is not None:
                    # browser.show returned once the new tab was active and had run one
                    # animation frame callback, which comes before that frame is painted;
                    # the first frames a freshly activated tab presents may still be its
                    # background colour (black on the image stage). Nothing reports when the
                    # page itself is on screen, so a fixed UNCOVER_SETTLE_S (several frames)
                    # passes under mpv's held last frame before mpv's window is put under
                    # Chromium's (X11; under Wayland that is a no-op and mpv's window goes
                    # with the stop below). The viewer sees the video's last frame meanwhile.
                    # Chromium draws while covered only because it is started with
                    # --disable-backgrounding-occluded-windows (browser.py).
                    time.sleep(UNCOVER_SETTLE_S)
                    # Chromium's raise on swap is asynchronous; this one is done on return.
                    lower_window()
                self._media_call(self.media.stop, retry=False)
        self._active = target

    def preload(self, item: PlayableItem) -> None:
        """Preload on the renderer that will show the item."""
        self._for(item).preload(item)

    def wait_until_done(self, timeout_s: float, interrupt: threading.Event) -> str:
        """Delegate to the renderer showing the current asset."""
        if self._active is self.media:
            outcome = self._media_call(lambda: self.media.wait_until_done(timeout_s, interrupt),
                                       retry=False)
            return outcome if isinstance(outcome, str) else "ended"
        return self._active.wait_until_done(timeout_s, interrupt)

    def stop(self) -> None:
        """Stop both."""
        self._media_call(self.media.stop, retry=False)
        self.browser.stop()

    def current(self) -> str | None:
        """The asset on the active renderer."""
        return self._active.current()

    def close(self) -> None:
        """Close both, even when the first one fails."""
        try:
            self.media.close()
        finally:
            self.browser.close()

    def _media_call(self, call: Callable[[], object], *, retry: bool = True) -> object:
        """Run ``call`` on mpv; when mpv has failed, restart it (and retry once if asked)."""
        try:
            return call()
        except RENDERER_FAILURES:
            logger.warning("mpv failed; restarting mpv alone", exc_info=True)
        self.media_restarts += 1
        self.media.close()
        self.media.start()  # a StartupError here goes to the play loop, which starts over
        self._stack_browser_on_top()
        return call() if retry else None


def find_chromium() -> str | None:
    """The Chromium executable on PATH, under any of its distribution names."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def has_display() -> bool:
    """True when an X11 or Wayland session is reachable."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def choose_renderer(name: str, *, headless: bool = False, audio_output: str = "hdmi",
                    record_path: Path | None = None) -> Renderer:
    """Build (but do not start) the renderer called ``name``: auto, browser, mpv or headless.

    ``auto`` picks Chromium plus mpv when both are installed and a display exists (or
    ``headless`` is asked for), Chromium alone without mpv, and the recording renderer
    otherwise. A named renderer whose program is missing raises StartupError.
    """
    from player.renderers.browser import BrowserRenderer
    from player.renderers.headless import HeadlessRenderer
    from player.renderers.mpv import MpvRenderer
    from player.screen import Screen, detect_screen

    record_path = record_path or Path.home() / ".screenly" / "shown.jsonl"
    chromium, mpv = find_chromium(), shutil.which("mpv")
    if name == "headless":
        return HeadlessRenderer(record_path)
    # Read again at each (re)start: a display may have been plugged in or changed size.
    screen = Screen("none") if headless or not has_display() else detect_screen()
    if name == "browser":
        if chromium is None:
            raise StartupError("renderer 'browser' needs Chromium, which is not installed.")
        return BrowserRenderer(chromium, headless=headless, screen=screen)
    if name == "mpv":
        if mpv is None:
            raise StartupError("renderer 'mpv' needs mpv, which is not installed.")
        return MpvRenderer(mpv, audio_output=audio_output, headless=headless,
                           screen_size=screen.size)
    if name != "auto":
        raise StartupError(f"Unknown renderer {name!r}: use auto, browser, mpv or headless.")
    if chromium is None or not (headless or has_display()):
        logger.info("No Chromium or no display: recording shown assets to %s", record_path)
        return HeadlessRenderer(record_path)
    browser = BrowserRenderer(chromium, headless=headless, screen=screen)
    if mpv is None:
        logger.warning("mpv is not installed: videos and streams will play in Chromium")
        return browser
    return MediaRouter(browser, MpvRenderer(mpv, audio_output=audio_output, headless=headless,
                                            screen_size=screen.size))
