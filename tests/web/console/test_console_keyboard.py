"""The console by keyboard alone, with the focus always visible, and its dialogs accessible."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.console.accessibility import assert_accessible
from tests.web.console.helpers import PASSWORD, ConsoleServer, username

pytestmark = pytest.mark.postgres

FOCUS_RING = "() => getComputedStyle(document.activeElement).outlineStyle"


def test_signing_in_and_adding_a_web_page_by_keyboard_alone(console_server: ConsoleServer,
                                                            console_page):
    page = console_page
    page.goto(console_server.url("acme") + "/")
    expect(page.get_by_label("User name")).to_be_focused()
    page.keyboard.type(username("acme", "editor"))
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Content")).to_be_focused()

    page.keyboard.press("Tab")
    add = page.locator(".page-header").get_by_role("button", name="Add web page")
    expect(add).to_be_focused()
    assert page.evaluate(FOCUS_RING) == "solid"  # the focus shows
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Add a web page")
    expect(dialog.get_by_label("Name", exact=True)).to_be_focused()
    assert_accessible(page, "the add dialog")
    page.keyboard.press("Escape")

    expect(dialog).to_have_count(0)
    expect(add).to_be_focused()


def test_the_confirmation_starts_on_its_action_and_escape_cancels(console_server: ConsoleServer,
                                                                  console_page):
    name = "Keyboard delete check"
    console_server.add_assets("globex", [name])
    page = console_page
    page.goto(console_server.url("globex") + "/")
    page.get_by_label("User name").fill(username("globex", "editor"))
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    delete = page.get_by_role("button", name=f"Delete “{name}”")
    delete.focus()
    page.keyboard.press("Enter")

    confirm = page.get_by_role("dialog")
    expect(confirm.get_by_role("button", name="Delete")).to_be_focused()
    assert_accessible(page, "the delete confirmation")
    page.keyboard.press("Escape")

    expect(confirm).to_have_count(0)
    expect(page.get_by_role("heading", name=name)).to_be_visible()
