"""Chromium in kiosk mode, driven over CDP: images on the stage page, web pages directly.

Two page targets take turns: the next asset loads into the hidden one and is swapped in
(``Target.activateTarget``) only after its load event, so the screen always holds a
painted page and never a blank frame. On X11 each target has a window of its own (the
"hidden" one is the window underneath, which Chromium keeps painting); elsewhere they
are two tabs of one window. Per-asset options (docs/legacy-api.md §13) are
set on the loading target only: custom headers, cache off for ``nocache``, certificate
errors ignored for ``skip_ssl_verify``; ``refresh_interval_s`` reloads the visible page
on a timer.

On a display the window is placed by the player itself: ``--kiosk`` only asks a window
manager for full screen, and a bare X server has none, so the window is opened at 0,0
with the size of the screen ``player.screen`` found. Chromium's stderr is logged
(rate-limited) so a crash or a GPU problem says why.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import shutil
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from anthias_edge.errors import PlayerUnavailable, StartupError
from player.qr_overlay import MARGIN_PCT, QrOverlay, svg_path
from player.renderers import (
    OutputLogger,
    PlayableItem,
    end_process_group,
    kind_of,
    wait_or_timeout,
)
from player.renderers.cdp import CdpClient
from player.screen import CursorHider, Screen

logger = logging.getLogger(__name__)

STAGE_PAGE = Path(__file__).resolve().parents[2] / "web_ui" / "static" / "stage" / "index.html"
QR_OVERLAY_SCRIPT = STAGE_PAGE.with_name("qr-overlay.js")
# The overlay's script runs in a world of its own: the page's scripts cannot reach it.
QR_OVERLAY_WORLD = "anthias-qr-overlay"
COMMON_FLAGS = (
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-default-browser-check", "--autoplay-policy=no-user-gesture-required",
    "--hide-scrollbars", "--noerrdialogs", "--disable-session-crashed-bubble",
    "--disable-infobars", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
    # Chromium otherwise backgrounds the pages of a window another one covers (mpv's,
    # during a video): uncovered after the video, it then showed a black frame before
    # the page, in about one video exit in 15 on a busy machine.
    "--disable-backgrounding-occluded-windows",
)
LAUNCH_TIMEOUT_S = 20.0
LOAD_TIMEOUT_S = 15.0
FRAME_TIMEOUT_S = 1.0
# Chromium drops a hidden tab's decoded images and, once the tab is shown, paints the
# page before the image is decoded again: one black frame of the stage between a video
# and an image. A synchronously decoded image is in the first frame painted.
STAGE_READY = ("(document.getElementById('stage') || {}).decoding = 'sync', "
               "window.stageReady")


def to_url(uri: str) -> str:
    """A local path as a file:// URL; URLs unchanged."""
    return Path(uri).as_uri() if uri.startswith("/") else uri


def stage_url(image_uri: str | None = None) -> str:
    """The stage page showing ``image_uri`` letterboxed on black, or plain black."""
    base = STAGE_PAGE.as_uri()
    return f"{base}?src={quote(to_url(image_uri), safe='')}" if image_uri else base


def chromium_command(executable: str, user_data_dir: Path, *, headless: bool,
                     window_size: tuple[int, int] | None = None,
                     as_root: bool | None = None, screen: Screen | None = None) -> list[str]:
    """The Chromium command line: kiosk with a display, ``--headless=new`` without.

    On X11 the window is placed over the whole ``screen`` (no window manager needed);
    on Wayland Chromium talks Wayland and the kiosk compositor makes it full screen.
    """
    command = [executable, *COMMON_FLAGS, f"--user-data-dir={user_data_dir}"]
    command += ["--headless=new"] if headless else ["--kiosk", "--start-fullscreen"]
    if not headless and screen is not None:
        if screen.kind == "wayland":
            command.append("--ozone-platform=wayland")
        elif screen.kind == "x11":
            command.append("--ozone-platform=x11")
            window_size = screen.size or window_size
            if window_size:
                command.append("--window-position=0,0")
    if window_size:
        command.append(f"--window-size={window_size[0]},{window_size[1]}")
    # Chromium refuses to start as root with its sandbox on (containers, CI).
    if os.geteuid() == 0 if as_root is None else as_root:
        command.append("--no-sandbox")
    command.append(stage_url())
    return command


def overlay_script(overlay: QrOverlay) -> str:
    """The script that draws ``overlay`` on a page: qr-overlay.js applied to its spec."""
    count, path = svg_path(overlay.url)
    spec = {"n": count, "d": path, "corner": overlay.corner, "size": overlay.size_pct,
            "margin": MARGIN_PCT}
    return f"({_overlay_source()})({json.dumps(spec)});"


@functools.lru_cache(maxsize=1)
def _overlay_source() -> str:
    return QR_OVERLAY_SCRIPT.read_text(encoding="utf-8").strip().rstrip(";")


class _Target:
    """One page target and its flat CDP session."""

    def __init__(self, target_id: str, session_id: str) -> None:
        self.target_id = target_id
        self.session_id = session_id
        self.key: tuple[str, str, object] | None = None
        self.overlay_script: str | None = None  # the identifier of its overlay script


def _key(item: PlayableItem) -> tuple[str, str, object]:
    # The overlay is part of what was loaded: a preload made before it changed is stale.
    return (item.asset_id, item.uri, item.qr_overlay)


class BrowserRenderer:
    """Images and web pages in Chromium with preload-and-swap between two targets."""

    def __init__(self, executable: str, *, headless: bool = False,
                 window_size: tuple[int, int] | None = None,
                 load_timeout_s: float = LOAD_TIMEOUT_S, screen: Screen | None = None) -> None:
        self.executable = executable
        self.headless = headless
        self.window_size = window_size
        self.screen = screen
        self._cursor = CursorHider()
        self.load_timeout_s = load_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._user_data_dir: Path | None = None
        self._cdp: CdpClient | None = None
        self._visible: _Target | None = None
        self._hidden: _Target | None = None
        self._current: str | None = None
        # One worker loads the hidden target, so preloads, loads and blanking stay ordered.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser-load")
        self._preload: tuple[tuple[str, str], Future[None]] | None = None
        self._show_lock = threading.Lock()
        # Held while a screenshot is taken and while the hidden target is reused, so a
        # screenshot that read the old visible target never sees it being blanked.
        self._shot_lock = threading.Lock()
        self._refresh: threading.Timer | None = None
        self._generation = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Launch Chromium, connect over CDP and set up the two targets."""
        self._user_data_dir = Path(tempfile.mkdtemp(prefix="anthias-chromium-"))
        command = chromium_command(self.executable, self._user_data_dir, headless=self.headless,
                                   window_size=self.window_size, screen=self.screen)
        logger.info("Starting Chromium: %s", " ".join(command))
        if not self.headless and self.screen is not None and self.screen.kind == "x11":
            self._cursor.hide(os.environ.get("DISPLAY"))
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL,
                                             stderr=subprocess.PIPE, start_new_session=True)
            # INFO: Chromium reports harmless trouble (no D-Bus) as ERROR on every start.
            OutputLogger("chromium", level=logging.INFO).follow(self._process)
            self._cdp = CdpClient(self._devtools_url())
            first = self._cdp.call("Target.getTargets")["targetInfos"]
            page_id = next(t["targetId"] for t in first if t["type"] == "page")
            params: dict[str, object] = {"url": stage_url()}
            if self.headless and self.window_size:
                # Headless opens each target in its own window, at a default size otherwise.
                params.update(newWindow=True, width=self.window_size[0], height=self.window_size[1])
            elif (size := self._second_window_size()) is not None:
                params.update(newWindow=True, left=0, top=0, width=size[0], height=size[1])
            second_id = self._cdp.call("Target.createTarget", params)["targetId"]
            if params.get("newWindow") and not self.headless:
                # As the kiosk window is: a window manager then gives it the whole screen.
                window = self._cdp.call("Browser.getWindowForTarget", {"targetId": second_id})
                self._cdp.call("Browser.setWindowBounds", {
                    "windowId": window["windowId"], "bounds": {"windowState": "fullscreen"}})
            self._visible, self._hidden = self._attach(page_id), self._attach(second_id)
            self._cdp.call("Target.activateTarget", {"targetId": page_id})
        except (OSError, StopIteration, PlayerUnavailable) as ex:
            self.close()
            raise StartupError(f"Chromium did not start: {ex}") from ex

    def _second_window_size(self) -> tuple[int, int] | None:
        """The size of the second target's own window on X11, or None to keep it a tab.

        A tab that was hidden has dropped its painted tiles: shown again, it is drawn
        anew, and on a busy machine the screen showed the page's background (black on the
        image stage) for a frame before the page. A window under another one stays
        visible to Chromium (``--disable-backgrounding-occluded-windows``), so the next
        asset is painted before its window is raised. Under Wayland a compositor decides
        which window shows, so there the targets stay two tabs of one window.
        """
        if self.screen is None or self.screen.kind != "x11" or not self.screen.size:
            return None
        return self.screen.size

    def _devtools_url(self) -> str:
        # Chromium writes "<port>\n<browser path>" once the DevTools server listens.
        assert self._process is not None and self._user_data_dir is not None
        port_file = self._user_data_dir / "DevToolsActivePort"
        deadline = time.monotonic() + LAUNCH_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise PlayerUnavailable(f"Chromium exited with code {self._process.returncode}")
            lines = port_file.read_text().split() if port_file.exists() else []
            if len(lines) >= 2:
                return f"ws://127.0.0.1:{lines[0]}{lines[1]}"
            time.sleep(0.05)
        raise PlayerUnavailable("Chromium did not open its DevTools port in time.")

    def _attach(self, target_id: str) -> _Target:
        assert self._cdp is not None
        session = self._cdp.call("Target.attachToTarget",
                                 {"targetId": target_id, "flatten": True})["sessionId"]
        for method in ("Page.enable", "Network.enable"):
            self._cdp.call(method, session_id=session)
        return _Target(target_id, session)

    def close(self) -> None:
        """Close Chromium and kill its whole process group; remove the profile."""
        self._cancel_refresh()
        self._worker.shutdown(wait=False, cancel_futures=True)
        if self._cdp is not None:
            with contextlib.suppress(PlayerUnavailable):
                self._cdp.call("Browser.close", timeout=2)
            self._cdp.close()
            self._cdp = None
        if self._process is not None:
            end_process_group(self._process)
            self._process = None
        if self._user_data_dir is not None:
            shutil.rmtree(self._user_data_dir, ignore_errors=True)
            self._user_data_dir = None
        self._cursor.close()
        self._current = None

    # -- the Renderer interface ------------------------------------------------------------

    def preload(self, item: PlayableItem) -> None:
        """Start loading ``item`` into the hidden target in the background."""
        with self._show_lock:
            self._preload = (_key(item), self._worker.submit(self._load_hidden, item))

    def show(self, item: PlayableItem) -> None:
        """Swap ``item`` in: from the preload when it matches, else after loading it now."""
        with self._show_lock:
            self._cancel_refresh()
            pending, self._preload = self._preload, None
            loaded = False
            if pending is not None and pending[0] == _key(item):
                loaded = self._settled(pending[1])
            if not loaded:
                self._settled(self._worker.submit(self._load_hidden, item), raise_errors=True)
            self._swap()
            self._current = item.asset_id
            self._generation += 1
            if kind_of(item) == "web" and item.refresh_interval_s > 0:
                self._schedule_refresh(item, self._generation)

    def wait_until_done(self, timeout_s: float, interrupt: threading.Event) -> str:
        """Pages and images have no natural end: the duration or an interrupt ends them."""
        return wait_or_timeout(timeout_s, interrupt)

    def stop(self) -> None:
        """Show black: the blank stage page is swapped in like any asset."""
        with self._show_lock:
            self._cancel_refresh()
            self._preload = None
            self._settled(self._worker.submit(self._load_hidden, None), raise_errors=True)
            self._swap()
            self._current = None

    def bring_to_front(self) -> None:
        """Raise Chromium's window over mpv's (activating a target raises its window)."""
        with self._show_lock:
            if self._visible is not None:
                self._require_cdp().call("Target.activateTarget",
                                         {"targetId": self._visible.target_id})

    def current(self) -> str | None:
        """The asset id on screen."""
        return self._current

    def screenshot_png(self) -> bytes:
        """A PNG of what the visible target shows (tests and diagnostics)."""
        import base64

        cdp = self._require_cdp()
        with self._shot_lock:
            target = self._visible
            assert target is not None
            data = cdp.call("Page.captureScreenshot", {"format": "png"},
                            session_id=target.session_id)["data"]
        return base64.b64decode(data)

    # -- internals -------------------------------------------------------------------------

    def _require_cdp(self) -> CdpClient:
        if self._cdp is None or self._cdp.closed:
            raise PlayerUnavailable("Chromium is not running.")
        return self._cdp

    def _settled(self, future: Future[None], raise_errors: bool = False) -> bool:
        try:
            future.result(timeout=self.load_timeout_s + 5)
            return True
        except Exception:
            if raise_errors:
                raise
            logger.warning("Preload failed; loading again", exc_info=True)
            return False

    def _load_hidden(self, item: PlayableItem | None) -> None:
        cdp = self._require_cdp()
        # Taking the lock waits out a screenshot that may still read this target as visible.
        with self._shot_lock:
            target = self._hidden
        assert target is not None
        session = target.session_id
        kind = kind_of(item) if item is not None else "image"
        web = item is not None and kind not in ("image",)
        headers = dict(item.custom_headers or {}) if web and item is not None else {}
        cdp.call("Network.setExtraHTTPHeaders", {"headers": headers}, session_id=session)
        cdp.call("Network.setCacheDisabled",
                 {"cacheDisabled": bool(item is not None and item.nocache)}, session_id=session)
        cdp.call("Security.setIgnoreCertificateErrors",
                 {"ignore": bool(item is not None and item.skip_ssl_verify)}, session_id=session)
        url = to_url(item.uri) if web and item is not None else stage_url(
            item.uri if item is not None else None)
        target.key = None
        self._set_overlay(target, item.qr_overlay if item else None)
        loaded = cdp.expect("Page.loadEventFired", session)
        answer = cdp.call("Page.navigate", {"url": url}, session_id=session)
        if answer.get("errorText"):
            logger.warning("Loading %s failed: %s", url, answer["errorText"])
        if loaded.wait(self.load_timeout_s) is None:
            cdp.forget(loaded)
            logger.warning("%s did not finish loading in %.0f s; showing it anyway",
                           url, self.load_timeout_s)
        elif not web:
            state = cdp.call("Runtime.evaluate", {"expression": STAGE_READY,
                                                  "awaitPromise": True}, session_id=session,
                             timeout=self.load_timeout_s)
            if state.get("result", {}).get("value") == "error":
                logger.warning("Image %s could not be loaded", url)
        target.key = _key(item) if item is not None else None

    def _set_overlay(self, target: _Target, overlay: QrOverlay | None) -> None:
        """Draw ``overlay`` (or nothing) on every document the target loads from now on.

        A script on new documents, not one run after the load: the code is drawn before
        the load event (so before the swap: no frame without it), and again on reloads.
        """
        cdp = self._require_cdp()
        if target.overlay_script is not None:
            cdp.call("Page.removeScriptToEvaluateOnNewDocument",
                     {"identifier": target.overlay_script}, session_id=target.session_id)
            target.overlay_script = None
        if overlay is not None:
            answer = cdp.call("Page.addScriptToEvaluateOnNewDocument",
                              {"source": overlay_script(overlay), "worldName": QR_OVERLAY_WORLD},
                              session_id=target.session_id)
            target.overlay_script = answer["identifier"]

    def _swap(self) -> None:
        cdp = self._require_cdp()
        assert self._hidden is not None and self._visible is not None
        incoming = self._hidden
        cdp.call("Target.activateTarget", {"targetId": incoming.target_id})
        with self._shot_lock:
            self._visible, self._hidden = incoming, self._visible
        # Return once the new page has run an animation frame callback: it is rendering
        # (the callback runs before that frame is painted, not after).
        try:
            cdp.call("Runtime.evaluate", {
                "expression": "new Promise(r => requestAnimationFrame(() => r(1)))",
                "awaitPromise": True}, session_id=incoming.session_id, timeout=FRAME_TIMEOUT_S)
        except PlayerUnavailable:
            logger.debug("No animation frame within %.1f s after the swap", FRAME_TIMEOUT_S)

    def _schedule_refresh(self, item: PlayableItem, generation: int) -> None:
        def reload() -> None:
            if generation != self._generation or self._cdp is None or self._visible is None:
                return
            try:
                self._cdp.call("Page.reload", {"ignoreCache": bool(item.nocache)},
                               session_id=self._visible.session_id)
            except PlayerUnavailable:
                logger.warning("Refreshing %s failed", item.uri, exc_info=True)
            self._schedule_refresh(item, generation)

        self._refresh = threading.Timer(item.refresh_interval_s, reload)
        self._refresh.daemon = True
        self._refresh.start()

    def _cancel_refresh(self) -> None:
        self._generation += 1
        if self._refresh is not None:
            self._refresh.cancel()
            self._refresh = None

