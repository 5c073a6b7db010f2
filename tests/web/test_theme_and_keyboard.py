"""Light and dark themes follow the system; keyboard focus is always visible."""

from __future__ import annotations

import pytest

from tests.web.conftest import DESKTOP, PHONE, screenshot

BACKGROUND = "getComputedStyle(document.body).backgroundColor"


@pytest.mark.parametrize(("scheme", "expected"), [("light", "rgb(245, 246, 248)"),
                                                  ("dark", "rgb(17, 20, 24)")])
def test_the_theme_follows_the_systems_colour_scheme(browser, live_server, scheme, expected):
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(viewport=viewport, color_scheme=scheme,
                                      base_url=live_server.url)
        page = context.new_page()
        page.goto("/")
        assert page.evaluate(BACKGROUND) == expected
        screenshot(page, f"assets-{name}-{scheme}")
        context.close()


def test_tabbing_shows_where_the_focus_is_and_skips_to_the_content(page, live_server):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "previous-asset"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"


def test_every_form_control_has_a_label(page, live_server):
    for path in ("/", "/settings", "/system-info"):
        page.goto(path)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll(
            'input:not([type=hidden]), select, textarea, button')]
            .filter((el) => !el.closest('template'))
            .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                            && !el.textContent.trim())
            .map((el) => el.outerHTML)""")
        assert unlabelled == [], f"{path}: {unlabelled}"
