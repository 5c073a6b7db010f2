"""How the console loads: only the opened page's code, an icon of its own, no failing request.

The ``open_console`` fixture fails a test on any error in the browser's console, which
includes any file of the page answering 4xx/5xx (the icon too).
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.console.helpers import ConsoleServer, sign_in, username
from tests.web.console.signed_in import go

pytestmark = pytest.mark.postgres

PAGES_PATH = "/console/static/pages/"


def page_modules(page: Any) -> list[str]:
    """Start recording which page modules the tab fetches; the list fills as it does."""
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url.split(PAGES_PATH, 1)[1])
            if PAGES_PATH in request.url else None)
    return fetched


def test_the_content_page_loads_no_other_pages_code(console_server: ConsoleServer,
                                                    console_page):
    page = console_page
    fetched = page_modules(page)

    sign_in(page, console_server.url("acme"), username("acme", "owner"))
    expect(page.locator(".asset-list, .empty-state").first).to_be_visible()

    assert sorted(set(fetched)) == ["content.js", "index.js"]
    # The navigation still offers every page the owner may see, and each opens on demand.
    go(page, "people")
    assert {"people.js", "directory.js"} <= set(fetched)
    assert "activity.js" not in fetched


def test_every_page_loads_with_its_icon_and_no_failing_request(console_server: ConsoleServer,
                                                               console_page):
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "owner"))
    expect(page.locator(".asset-list, .empty-state").first).to_be_visible()

    for page_id in ("people", "tokens", "activity", "organisation"):
        go(page, page_id)
    page.reload()
    page.get_by_role("button", name="Sign out everywhere").wait_for()

    icon = page.locator('link[rel="icon"]').get_attribute("href")
    status, kind = page.evaluate("""async (href) => {
      const response = await fetch(href);
      return [response.status, response.headers.get("content-type")];
    }""", icon)
    assert status == 200
    assert kind.startswith("image/svg+xml")


def test_a_page_the_user_may_not_see_shows_nothing_from_its_address(
        console_server: ConsoleServer, console_page):
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "viewer"))
    expect(page.locator(".asset-list, .empty-state").first).to_be_visible()

    page.goto(console_server.url("acme") + "/#/people")
    page.reload()

    expect(page.locator('.page[data-page="content"] h1')).to_have_text("Content")
    assert page.locator('.page[data-page="people"]').count() == 0
    assert page.locator('.nav a[data-page="people"]').count() == 0
    assert page.evaluate("() => location.hash") == "#/content"
