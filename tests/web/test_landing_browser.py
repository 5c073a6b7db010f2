"""The landing page in a real Chromium, phone-sized and desktop: what a person who scanned a
code sees. Screenshots go to tests/artifacts/landing/ for review."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import ARTIFACTS, DESKTOP, LiveServer
from tests.web.console.accessibility import assert_accessible
from tests.web.landing_data import add_asset, add_code, png, scans

SHOTS = ARTIFACTS / "landing"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def tab(request: pytest.FixtureRequest, browser: Any, live_server: LiveServer
        ) -> Iterator[Any]:
    """A tab of the given size that fails the test on a script error or a blocked resource."""
    context = browser.new_context(viewport=request.param, base_url=live_server.url,
                                  is_mobile=request.param is PHONE, timezone_id="UTC")
    page = context.new_page()
    problems: list[tuple[str, str]] = []
    page.on("pageerror", lambda error: problems.append((str(error), "")))
    # A Content-Security-Policy refusal, or any resource failing, is a console error.
    page.on("console", lambda message: problems.append((message.text,
                                                        message.location.get("url", "")))
            if message.type == "error" else None)
    page.set_default_timeout(15_000)
    page.size_name = "phone" if request.param is PHONE else "desktop"
    page.error_documents = set()  # pages a test opens expecting their 4xx
    yield page
    context.close()
    unexpected = [text for text, url in problems
                  if not (url in page.error_documents and "status of 4" in text)]
    assert unexpected == [], problems


def shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}-{page.size_name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def fits_the_width(page: Any) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_scanned_picture_shows_inline_with_its_title_and_counts_once(tab, live_server):
    code = add_code(live_server.app,
                    add_asset(live_server.app, data=png(1200, 800, (30, 120, 200))),
                    title="Harvest fair: today's programme",
                    description="Stalls open 10:00-18:00.\nMusic from 14:00 in the square.")

    tab.goto(f"/q/{code.qr_code}")
    tab.wait_for_function("document.querySelector('img').complete")

    assert tab.locator("h1").inner_text() == "Harvest fair: today's programme"
    assert "Music from 14:00" in tab.locator(".description").inner_text()
    assert tab.evaluate("document.querySelector('img').naturalWidth") == 1200
    width = tab.evaluate("document.querySelector('img').getBoundingClientRect().width")
    assert 0 < width <= tab.viewport_size["width"]
    assert fits_the_width(tab)
    assert_accessible(tab, "picture landing page")
    shot(tab, "picture")
    assert scans(live_server.app, code.qr_code)[0] == 1


def test_a_shared_video_plays_and_seeks(tab, live_server, video_file):
    code = add_code(live_server.app, add_asset(live_server.app, mimetype="video",
                                               file=video_file),
                    title="Trailer", description="Two seconds of test pattern.")
    partial: list[int] = []
    tab.on("response", lambda response: partial.append(response.status)
           if response.url.endswith("/media") else None)

    tab.goto(f"/q/{code.qr_code}")
    tab.wait_for_function("document.querySelector('video').readyState >= 1")
    duration = tab.evaluate("document.querySelector('video').duration")
    seeked = tab.evaluate("""() => new Promise(resolve => {
        const video = document.querySelector('video');
        video.addEventListener('seeked', () => resolve(video.currentTime), {once: true});
        video.currentTime = 1.5;
    })""")

    assert tab.evaluate("document.querySelector('video').controls") is True
    assert 1.9 < duration < 2.2
    assert abs(seeked - 1.5) < 0.2
    assert 206 in partial  # the browser fetched ranges, as it does to seek
    assert fits_the_width(tab)
    assert_accessible(tab, "video landing page")
    shot(tab, "video")
    assert scans(live_server.app, code.qr_code)[0] == 1


def test_a_shared_web_page_is_one_big_link(tab, live_server):
    code = add_code(live_server.app, add_asset(live_server.app, mimetype="webpage",
                                               uri="https://example.com/events/2026"),
                    title="Events this winter", description="")

    tab.goto(f"/q/{code.qr_code}")
    button = tab.get_by_role("link", name="Open example.com")

    assert button.get_attribute("href") == "https://example.com/events/2026"
    box = button.bounding_box()
    assert box["height"] >= 44  # a comfortable target for a thumb
    assert fits_the_width(tab)
    assert_accessible(tab, "web page landing page")
    shot(tab, "web-page")


def test_an_expired_and_an_unknown_code_get_friendly_pages(tab, live_server):
    import datetime as dt

    code = add_code(live_server.app, add_asset(live_server.app),
                    expires_at=dt.datetime(2021, 1, 1))
    seen = []
    tab.on("response", lambda response: seen.append(response.status)
           if "/q/" in response.url else None)

    tab.error_documents.update({f"{live_server.url}/q/{code.qr_code}",
                                f"{live_server.url}/q/QR0000000000000000"})
    tab.goto(f"/q/{code.qr_code}")
    gone = tab.locator("h1").inner_text()
    assert_accessible(tab, "410 page")
    shot(tab, "expired")
    tab.goto("/q/QR0000000000000000")
    unknown = tab.locator("h1").inner_text()
    shot(tab, "unknown")

    assert seen == [410, 404]
    assert gone == "No longer available"
    assert unknown == "Nothing here"
