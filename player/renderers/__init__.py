"""Renderers: what puts an asset on the screen, behind one small interface.

``browser`` (Chromium over CDP) shows images and web pages, ``mpv`` (JSON IPC) plays
videos and streams, ``headless`` records what would be shown. ``choose_renderer`` picks
by name or, for ``auto``, by what is installed; with both Chromium and mpv it returns a
``MediaRouter`` that sends each asset to the right one (legacy-api.md 8.4).
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
from pathlib import Path
from typing import Protocol, runtime_checkable

from anthias_edge.errors import StartupError

logger = logging.getLogger(__name__)

OUTCOMES = ("ended", "interrupted", "timeout")
STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "rtp", "srt", "udp")


class PlayableItem(Protocol):
    """The fields a renderer reads from a play item (``player.schedule.PlayItem``)."""

    asset_id: str
    uri: str
    mimetype: str
    duration: float
    nocache: bool
    refresh_interval_s: int
    custom_headers: dict[str, str]
    skip_ssl_verify: bool


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
    """Images and web pages in the browser, everything else in mpv (legacy-api.md 8.4)."""

    def __init__(self, browser: Renderer, media: Renderer) -> None:
        self.browser = browser
        self.media = media
        self._active: Renderer = browser

    def _for(self, item: PlayableItem) -> Renderer:
        return self.browser if kind_of(item) in ("image", "web") else self.media

    def start(self) -> None:
        """Start both renderers."""
        self.browser.start()
        self.media.start()

    def show(self, item: PlayableItem) -> None:
        """Show on the right renderer, then clear the other one underneath it."""
        target = self._for(item)
        target.show(item)
        if target is not self._active:
            self._active.stop()
        self._active = target

    def preload(self, item: PlayableItem) -> None:
        """Preload on the renderer that will show the item."""
        self._for(item).preload(item)

    def wait_until_done(self, timeout_s: float, interrupt: threading.Event) -> str:
        """Delegate to the renderer showing the current asset."""
        return self._active.wait_until_done(timeout_s, interrupt)

    def stop(self) -> None:
        """Stop both."""
        self.media.stop()
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

    record_path = record_path or Path.home() / ".screenly" / "shown.jsonl"
    chromium, mpv = find_chromium(), shutil.which("mpv")
    if name == "headless":
        return HeadlessRenderer(record_path)
    if name == "browser":
        if chromium is None:
            raise StartupError("renderer 'browser' needs Chromium, which is not installed.")
        return BrowserRenderer(chromium, headless=headless)
    if name == "mpv":
        if mpv is None:
            raise StartupError("renderer 'mpv' needs mpv, which is not installed.")
        return MpvRenderer(mpv, audio_output=audio_output, headless=headless)
    if name != "auto":
        raise StartupError(f"Unknown renderer {name!r}: use auto, browser, mpv or headless.")
    if chromium is None or not (headless or has_display()):
        logger.info("No Chromium or no display: recording shown assets to %s", record_path)
        return HeadlessRenderer(record_path)
    browser = BrowserRenderer(chromium, headless=headless)
    if mpv is None:
        logger.warning("mpv is not installed: videos and streams will play in Chromium")
        return browser
    return MediaRouter(browser, MpvRenderer(mpv, audio_output=audio_output, headless=headless))
