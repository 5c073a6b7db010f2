"""The QR code over an asset (issue 13), read back with zxing-cpp from what the screen shows.

Chromium: the image stage and a web page, from CDP screenshots of a headless Chromium.
mpv: a real mpv on a private Xvfb (displays :70-:79), frames grabbed with ffmpeg.
Captured frames are kept in tests/artifacts/overlay/.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from player.qr_overlay import CORNERS, QrOverlay
from player.renderers.browser import BrowserRenderer
from player.renderers.mpv import MpvRenderer
from tests.player.chromium import headless_browser
from tests.player.items import renderer_item
from tests.player.pngcheck import colours, read_png, solid_png
from tests.player.qrscan import as_seen_from, grab_display, keep, own_xvfb, scan_png, wait_for
from tests.player.screen_capture import solid_video

URL = "http://192.168.1.23:8080/q/QR0123456789ABCDEF"
PUBLIC = "https://menu.example.com/q/QRFEDCBA9876543210"
SIZE = (960, 540)
SCREEN = (1920, 1080)
BROWN = (150, 90, 40)

Image = functools.partial(renderer_item, mimetype="image")


def quadrant(scan, width: int, height: int) -> str:
    """The corner of the screen a code sits in, named as qr_overlay names corners."""
    vertical = "top" if scan.y < height / 2 else "bottom"
    return f"{vertical}-{'left' if scan.x < width / 2 else 'right'}"


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserRenderer]:
    yield from headless_browser(SIZE)


@pytest.fixture(scope="module")
def picture(browser: BrowserRenderer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    width, height, _ = read_png(browser.screenshot_png())
    return solid_png(tmp_path_factory.mktemp("img") / "brown.png", width, height, BROWN)


class _Hostile(BaseHTTPRequestHandler):
    """A page that covers the screen with its own top element and hides unknown ones."""

    body = (b"<!doctype html><html><head><style>"
            b"*{visibility:hidden !important} html,body{margin:0;background:#0a0}"
            b"#cover{visibility:visible !important;position:fixed;inset:0;z-index:2147483647;"
            b"background:rgb(0,160,0)}</style></head><body><div id=cover></div></body></html>")

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline';"
                         " require-trusted-types-for 'script'")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def hostile_page() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("corner", CORNERS)
def test_the_stage_shows_the_assets_code_in_its_corner(browser, picture, corner):
    browser.show(Image("menu", str(picture), qr_overlay=QrOverlay(URL, corner, 18)))
    shot = keep(f"stage-{corner}.png", browser.screenshot_png())
    width, height, _ = read_png(shot)
    [scan] = scan_png(shot)
    assert scan.text == URL
    assert quadrant(scan, width, height) == corner
    # Black on a white plate over the picture; nothing else of the picture changed.
    assert colours(shot) == {BROWN, (0, 0, 0), (255, 255, 255)}


def test_without_an_overlay_the_stage_shows_no_code(browser, picture):
    browser.show(Image("with", str(picture), qr_overlay=QrOverlay(URL)))
    browser.show(Image("without", str(picture)))
    shot = keep("stage-off.png", browser.screenshot_png())
    assert scan_png(shot) == []
    assert colours(shot) == {BROWN}


def test_the_code_follows_a_changed_overlay_of_the_same_asset(browser, picture):
    first = Image("menu", str(picture), qr_overlay=QrOverlay(URL, "top-left", 18))
    browser.show(first)
    browser.preload(first)
    moved = Image("menu", str(picture), qr_overlay=QrOverlay(PUBLIC, "bottom-right", 30))
    browser.show(moved)  # the preload of the old overlay must not be the one swapped in
    shot = browser.screenshot_png()
    width, height, _ = read_png(shot)
    [scan] = scan_png(shot)
    assert (scan.text, quadrant(scan, width, height)) == (PUBLIC, "bottom-right")


def test_a_web_page_cannot_hide_or_cover_the_code(browser, hostile_page):
    browser.show(renderer_item("page", hostile_page, mimetype="webpage",
                               qr_overlay=QrOverlay(PUBLIC, "top-right", 25)))
    shot = keep("web-page-top-right.png", browser.screenshot_png())
    width, height, _ = read_png(shot)
    [scan] = scan_png(shot)
    assert (scan.text, quadrant(scan, width, height)) == (PUBLIC, "top-right")
    assert (0, 160, 0) in colours(shot)  # the page itself is shown


def test_a_reloaded_web_page_keeps_its_code(browser, hostile_page):
    browser.show(renderer_item("page", hostile_page, mimetype="webpage",
                               qr_overlay=QrOverlay(URL, "bottom-left", 20)))
    session, cdp = browser._visible.session_id, browser._require_cdp()
    loaded = cdp.expect("Page.loadEventFired", session)
    cdp.call("Page.reload", {}, session_id=session)
    assert loaded.wait(30) is not None
    assert [scan.text for scan in scan_png(browser.screenshot_png())] == [URL]


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is not installed (apt-get install ffmpeg)"
    path = tmp_path_factory.mktemp("video") / "blue.mp4"
    subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i",
                    "color=c=0x3060c0:size=320x180:rate=10:duration=30", "-pix_fmt", "yuv420p",
                    str(path)], check=True, timeout=60)
    return path


@pytest.fixture(scope="module")
def screen() -> Iterator[str]:
    with own_xvfb(SCREEN) as display:
        yield display


@pytest.fixture(scope="module")
def mpv(screen: str) -> Iterator[MpvRenderer]:
    executable = shutil.which("mpv")
    assert executable, "mpv is not installed (apt-get install mpv)"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DISPLAY", screen)
        renderer = MpvRenderer(executable, screen_size=SCREEN, device_model="")
        renderer.start()
        yield renderer
        renderer.close()


def _video_frame_scans(screen: str, name: str) -> list:
    shot = keep(name, grab_display(screen, SCREEN))
    return scan_png(shot)


@pytest.mark.parametrize("corner", ["bottom-right", "top-left"])
def test_mpv_draws_the_code_over_a_video_on_a_1080p_screen(mpv, screen, video, corner):
    mpv.raise_window()
    mpv.show(renderer_item("clip", str(video), mimetype="video",
                           qr_overlay=QrOverlay(URL, corner, 18)))
    scans = wait_for(lambda: _video_frame_scans(screen, f"mpv-{corner}.png"))
    assert [scan.text for scan in scans] == [URL]
    assert quadrant(scans[0], *SCREEN) == corner
    mpv.stop()


def test_mpv_takes_the_code_away_for_a_video_without_one(mpv, screen, video):
    mpv.raise_window()
    mpv.show(renderer_item("with", str(video), mimetype="video", qr_overlay=QrOverlay(URL)))
    assert wait_for(lambda: _video_frame_scans(screen, "mpv-with.png"))
    mpv.show(renderer_item("without", str(video), mimetype="video"))
    shot = keep("mpv-off.png", grab_display(screen, SCREEN))
    assert scan_png(shot) == []
    _, height, rows = read_png(shot)
    red, _green, blue = rows[height // 2][SCREEN[0] // 2]
    assert blue > 150 and red < 100  # the video is on screen, only its code is gone
    mpv.stop()



def test_mpv_without_a_known_screen_size_draws_the_code_in_its_window(screen, tmp_path):
    # As on Wayland: no screen size, so the window's size is only known once a file plays.
    clip = solid_video(tmp_path / "wide.mp4", "0x3060c0", 5, (1280, 720))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DISPLAY", screen)
        renderer = MpvRenderer(shutil.which("mpv") or "mpv", device_model="")
        renderer.start()
        try:
            renderer.show(renderer_item("clip", str(clip), mimetype="video",
                                        qr_overlay=QrOverlay(URL, "bottom-right", 25)))
            scans = wait_for(lambda: _video_frame_scans(screen, "mpv-unknown-size.png"))
            assert [scan.text for scan in scans] == [URL]
        finally:
            renderer.close()


def test_the_default_code_on_a_1080p_screen_reads_from_two_metres(mpv, screen, video):
    # A 43" 1080p screen is 0.95 m wide; a phone 2 m away (about 70 degrees of view, a
    # 1920-pixel preview) sees it about 650 pixels wide: a third of the screen's pixels.
    mpv.raise_window()
    mpv.show(renderer_item("clip", str(video), mimetype="video", qr_overlay=QrOverlay(URL)))
    assert wait_for(lambda: _video_frame_scans(screen, "mpv-default.png"))
    seen = keep("mpv-default-from-2m.png", as_seen_from(grab_display(screen, SCREEN), 0.34))
    assert [scan.text for scan in scan_png(seen)] == [URL]
    mpv.stop()
