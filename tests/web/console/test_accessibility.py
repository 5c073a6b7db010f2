"""axe-core on every console page, at desktop and phone width: no serious or critical
violation on the sign-in form, Content, People, API tokens, Activity and Organisation, nor in
the forms and panels those pages open."""

from __future__ import annotations

from typing import Any

import pytest

from tests.web.console.accessibility import assert_accessible, axe_violations
from tests.web.console.helpers import DESKTOP, PHONE, ConsoleServer, sign_in, username
from tests.web.console.signed_in import go, unique

pytestmark = pytest.mark.postgres

VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}
BLOCKING = ("serious", "critical")


def _blocking(page: Any, where: str) -> list[str]:
    """The serious and critical violations on the page now, one line each."""
    page.wait_for_load_state("networkidle")
    return [f"{where}: {v['impact']} {v['id']} ({v['help']}) at {v['nodes']}"
            for v in axe_violations(page) if v["impact"] in BLOCKING]


def _open_content(page: Any) -> None:
    link = page.locator('.nav a[data-page="content"]')
    if not link.is_visible():
        page.get_by_role("button", name="Menu").click()
    link.click()
    page.locator('.page[data-page="content"] h1').wait_for()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_the_sign_in_form_has_no_serious_violation(console_server: ConsoleServer,
                                                   open_console, size: str):
    page = open_console(viewport=VIEWPORTS[size])
    found = []
    page.goto(console_server.url("acme") + "/")
    page.get_by_role("heading", name="Sign in").wait_for()
    found += _blocking(page, "sign-in")
    page.get_by_role("button", name="Sign in").click()  # empty: the field errors show
    page.locator(".field-error").first.wait_for()
    found += _blocking(page, "sign-in with field errors")
    page.goto(console_server.url(None) + "/")  # the base domain asks for the organisation
    page.get_by_label("Organisation").wait_for()
    found += _blocking(page, "sign-in on the base domain")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_every_page_and_panel_has_no_serious_violation(console_server: ConsoleServer,
                                                       open_console, size: str):
    page = open_console(viewport=VIEWPORTS[size])
    sign_in(page, console_server.url("acme"), username("acme", "owner"))
    found = []

    _open_content(page)
    found += _blocking(page, "content")

    go(page, "people")
    found += _blocking(page, "people")
    page.get_by_role("button", name="Add person").click()
    page.locator("form[data-editor=add]").get_by_role("button", name="Add person").click()
    page.locator("form[data-editor=add] .field-error").first.wait_for()
    found += _blocking(page, "people: add form with field errors")
    viewer = page.locator(f'[data-user="{username("acme", "viewer")}"]')
    viewer.get_by_role("button", name="Permissions").click()
    viewer.locator("form[data-editor=permissions]").wait_for()
    found += _blocking(page, "people: permissions form")

    go(page, "tokens")
    found += _blocking(page, "tokens")
    page.get_by_role("button", name="Create token").first.click()
    page.get_by_label("Name").fill(unique("axe check"))
    page.locator("form[data-editor=token]").get_by_role("button", name="Create token").click()
    page.locator("[data-secret]").wait_for()
    found += _blocking(page, "tokens: the new secret")

    go(page, "activity")
    found += _blocking(page, "activity")
    go(page, "organisation")
    found += _blocking(page, "organisation")
    assert not found, "\n".join(found)


def test_the_check_itself_catches_a_serious_violation(console_server: ConsoleServer,
                                                      open_console):
    page = open_console()
    sign_in(page, console_server.url("acme"), username("acme", "owner"))
    go(page, "people")
    page.evaluate("""() => {
      const button = document.createElement("button");  // a button nobody can name
      document.querySelector("main").append(button);
    }""")
    with pytest.raises(AssertionError, match="critical button-name"):
        assert_accessible(page, "people with a nameless button")
