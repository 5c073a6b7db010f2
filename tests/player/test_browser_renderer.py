"""The browser renderer against a real headless Chromium, checked through CDP screenshots."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from player.renderers import find_chromium
from player.renderers.browser import BrowserRenderer, chromium_command
from tests.player.chromium import headless_browser
from tests.player.items import renderer_item
from tests.player.pngcheck import colours, group_members, read_png, solid_png

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 128, 0)
SIZE = (500, 200)


Item = functools.partial(renderer_item, mimetype="image")


class _Page(BaseHTTPRequestHandler):
    requests: list[dict[str, str]] = []

    def do_GET(self) -> None:
        if self.path == "/page":  # not /favicon.ico
            type(self).requests.append(dict(self.headers))
        body = b"<html><body style='margin:0;background:rgb(0,128,0)'></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture(scope="module")
def browser() -> Iterator[BrowserRenderer]:
    yield from headless_browser(SIZE)


@pytest.fixture(scope="module")
def images(browser: BrowserRenderer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("images")
    # The viewport's own size (headless keeps room for window chrome), so an image fills it.
    width, height, _ = read_png(browser.screenshot_png())
    return {"red": solid_png(folder / "red.png", width, height, RED),
            "blue": solid_png(folder / "blue.png", width, height, BLUE),
            "wide": solid_png(folder / "wide.png", width * 4, height, RED)}


@pytest.fixture
def page_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    handler = type("Page", (_Page,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/page", handler.requests
    server.shutdown()
    server.server_close()


def test_a_red_image_then_a_web_page_show_the_expected_pixels(browser, images, page_server):
    url, requests = page_server
    browser.show(Item("red", str(images["red"])))
    assert colours(browser.screenshot_png()) == {RED}
    assert browser.current() == "red"

    browser.show(Item("page", url, mimetype="webpage"))
    assert colours(browser.screenshot_png()) == {GREEN}
    assert browser.current() == "page"
    assert len(requests) == 1


def test_an_image_is_letterboxed_on_black(browser, images):
    browser.show(Item("wide", str(images["wide"])))
    assert colours(browser.screenshot_png()) == {RED, (0, 0, 0)}


def test_custom_headers_and_nocache_reach_the_web_server(browser, page_server):
    url, requests = page_server
    browser.show(Item("page", url, mimetype="web", nocache=True,
                      custom_headers={"X-Signage": "lobby"}))
    browser.show(Item("plain", url, mimetype="web"))
    assert requests[0]["X-Signage"] == "lobby"
    assert "no-cache" in requests[0].get("Cache-Control", "")
    # Headers belong to the asset that set them, not to the next one on that target.
    assert all("X-Signage" not in r for r in requests[1:])


def test_a_page_with_a_refresh_interval_is_reloaded(browser, page_server):
    url, requests = page_server
    browser.show(Item("refresh", url, mimetype="web", refresh_interval_s=1, nocache=True))
    deadline = time.monotonic() + 5
    while len(requests) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    browser.stop()
    assert len(requests) >= 3


@pytest.mark.parametrize("preloaded", [True, False], ids=["preloaded", "loaded-on-show"])
def test_no_frame_between_two_image_assets_is_blank(browser, images, preloaded):
    browser.show(Item("red", str(images["red"])))
    if preloaded:
        browser.preload(Item("blue", str(images["blue"])))
    shots: list[bytes] = []
    swapping = threading.Thread(target=browser.show, args=(Item("blue", str(images["blue"])),))
    # Screenshots before, during and after the swap, taken as fast as CDP answers.
    for _ in range(5):
        shots.append(browser.screenshot_png())
    swapping.start()
    while swapping.is_alive():
        shots.append(browser.screenshot_png())
    shots.extend(browser.screenshot_png() for _ in range(5))
    swapping.join()
    seen = [colours(shot) for shot in shots]
    assert all(c in ({RED}, {BLUE}) for c in seen), [c for c in seen if c not in ({RED}, {BLUE})]
    assert seen[0] == {RED} and seen[-1] == {BLUE}


def _switch_and_look(browser: BrowserRenderer, images: dict[str, Path],
                     preload: bool) -> list[tuple[str | None, set[tuple[int, int, int]]]]:
    """Show red and blue in turn; after each show, the asset reported and the colours seen."""
    seen = []
    for n in range(10):
        name = ("red", "blue")[n % 2]
        item = Item(f"{name}-{n}", str(images[name]))
        if preload:
            browser.preload(item)  # the play loop preloads while the previous asset is on screen
        browser.show(item)
        seen.append((browser.current(), colours(browser.screenshot_png())))
    return seen


@pytest.mark.parametrize("preload", [True, False], ids=["preloaded", "loaded-on-show"])
def test_each_switch_shows_the_next_asset(browser, images, preload):
    # How fast a switch is belongs to benchmarks/player.py (Chromium ``next`` latency).
    seen = _switch_and_look(browser, images, preload)
    assert seen == [(f"{name}-{n}", {colour})
                    for n, (name, colour) in enumerate([("red", RED), ("blue", BLUE)] * 5)]


def test_stop_blanks_the_screen(browser, images):
    browser.show(Item("red", str(images["red"])))
    browser.stop()
    assert colours(browser.screenshot_png()) == {(0, 0, 0)}
    assert browser.current() is None


def test_wait_until_done_reports_timeout_and_interrupt(browser):
    interrupt = threading.Event()
    assert browser.wait_until_done(0.05, interrupt) == "timeout"
    interrupt.set()
    assert browser.wait_until_done(30, interrupt) == "interrupted"


def test_the_command_line_depends_on_headless_and_root(tmp_path):
    kiosk = chromium_command("chromium", tmp_path, headless=False, as_root=False)
    headless = chromium_command("chromium", tmp_path, headless=True, as_root=True)
    assert "--kiosk" in kiosk and "--headless=new" not in kiosk
    assert "--no-sandbox" not in kiosk and "--no-sandbox" in headless
    assert "--headless=new" in headless and "--kiosk" not in headless
    assert f"--user-data-dir={tmp_path}" in kiosk
    assert "--remote-debugging-port=0" in kiosk


def test_close_leaves_no_chromium_process(images: dict[str, Path]) -> None:
    renderer = BrowserRenderer(find_chromium() or "chromium", headless=True, window_size=SIZE)
    renderer.start()
    renderer.show(Item("red", str(images["red"])))
    pgid = renderer._process.pid
    profile = renderer._user_data_dir
    assert group_members(pgid)
    renderer.close()
    assert group_members(pgid) == []
    assert not profile.exists()


def test_on_an_x_screen_chromium_opens_over_the_whole_screen(tmp_path):
    # --kiosk needs a window manager; a bare X server has none, so the window is placed.
    from player.screen import Screen

    command = chromium_command("chromium", tmp_path, headless=False, as_root=False,
                               screen=Screen("x11", 1920, 1080))
    assert "--window-position=0,0" in command and "--window-size=1920,1080" in command
    assert "--kiosk" in command
    wayland = chromium_command("chromium", tmp_path, headless=False, as_root=False,
                               screen=Screen("wayland"))
    assert "--ozone-platform=wayland" in wayland and "--kiosk" in wayland
