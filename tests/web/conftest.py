"""A real server on 127.0.0.1 and the system Chromium driven by Playwright.

Browser tests fail (never skip) when Playwright or Chromium is missing: the dashboard is only
proven in a real browser.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.helpers import serve_wsgi

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
EXPECT_TIMEOUT_MS = 15_000


@dataclass
class LiveServer:
    """The server's base URL plus a tiny JSON client for checking what the API says."""

    url: str
    app: Flask

    def api(self, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """Call the API the way a script would; answer (status, parsed JSON or text)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json",
                                                  **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode()

    def assets(self) -> list[dict[str, Any]]:
        """The v2 asset list, which must be answered."""
        status, body = self.api("GET", "/api/v2/assets")
        assert status == 200, body
        return body


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """``app`` served by waitress on a free loopback port for the length of one test."""
    with serve_wsgi(app, threads=8) as url:
        yield LiveServer(url, app)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """The system Chromium; a missing browser or Playwright fails the run."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail("Playwright is not installed: .venv/bin/pip install playwright")
    # expect() waits for what the user will see; its 5 s default is short on a CI machine whose
    # two cores also run the server, a player and PostgreSQL. A bound on waiting, not a speed.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _open_page(browser: Any, live_server: LiveServer, viewport: dict[str, int]) -> Iterator[Any]:
    # One time zone for every run: dates shown on the pages must not depend on the host's.
    context = browser.new_context(viewport=viewport, base_url=live_server.url,
                                  accept_downloads=True, timezone_id="UTC")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def new_tab(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_tab(viewport, base_url=None)``: a fresh tab with cookies of its own, in UTC and
    British English; a JavaScript error on any tab it opened fails the test."""
    contexts: list[Any] = []
    errors: list[str] = []

    def open_one(viewport: dict[str, int], base_url: str | None = None) -> Any:
        context = browser.new_context(viewport=viewport, base_url=base_url, timezone_id="UTC",
                                      locale="en-GB")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_one
    for context in contexts:
        context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh desktop-sized tab (1280x800) that fails the test on any JavaScript error."""
    yield from _open_page(browser, live_server, DESKTOP)


@pytest.fixture
def phone(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """A fresh phone-sized tab (360x740)."""
    yield from _open_page(browser, live_server, PHONE)


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under tests/artifacts/ for review."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
