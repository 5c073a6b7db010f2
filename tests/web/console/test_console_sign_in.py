"""Signing in to the cloud console: per tenant host, the base domain, sign-out, renewal."""

from __future__ import annotations

import pytest

from tests.web.console.helpers import (
    ConsoleServer,
    save_screenshots,
    sign_in,
    username,
)

pytestmark = pytest.mark.postgres


def test_an_owner_signs_in_on_the_tenants_own_address(console_server: ConsoleServer,
                                                      console_page):
    page = console_page
    page.goto(console_server.url("acme") + "/")
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.get_by_text("to Acme").is_visible()
    assert page.get_by_label("Organisation").count() == 0
    save_screenshots(page, "sign-in")

    sign_in(page, console_server.url("acme"), username("acme", "owner"))

    assert page.locator(".brand-name").inner_text() == "Acme"
    assert page.locator(".who-name").inner_text() == "acme-owner"
