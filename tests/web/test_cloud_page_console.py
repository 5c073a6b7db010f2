"""Both sides in the browser: the console's Screens page and a device's Cloud page.

The cloud runs in its own process on PostgreSQL (tests/web/cloud_process.py), the device is
the live test server with its real sync agent; one Chromium opens both. An admin makes a
pairing code in the console and the person at the screen types it; then the screen shows
a code and the admin claims it in the console. Each time the console lists the screen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.cloud_process import PASSWORD, CloudProcess, cloud_database_name, cloud_process
from tests.web.conftest import LiveServer
from tests.web.screens_world import DESKTOP, PHONE

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    with cloud_process(tmp_path_factory.mktemp("cloud-home"),
                       cloud_database_name("cloudpage_both")) as running:
        yield running


def console_screens(new_tab: Callable[..., Any], cloud: CloudProcess, viewport: dict) -> Any:
    """The console signed in as acme's owner, on its Screens page."""
    page = new_tab(viewport)
    page.goto(cloud.url + "/")
    page.get_by_label("Organisation").fill("acme")
    page.get_by_label("User name").fill("acme-owner")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out everywhere").wait_for()
    page.goto(cloud.url + "/#/screens")
    page.locator('.page[data-page="screens"] h1').wait_for()
    return page


def test_a_code_made_in_the_console_is_typed_on_the_screen(
        cloud: CloudProcess, new_tab, live_server: LiveServer):
    console = console_screens(new_tab, cloud, DESKTOP)
    console.get_by_role("button", name="Create a pairing code").first.click()
    console.get_by_role("dialog").get_by_role("button", name="Create the code").click()
    code = console.locator(".big-code").get_attribute("data-code")

    device = new_tab(PHONE)
    device.goto(live_server.url + "/cloud")
    device.get_by_label("Cloud address").fill(cloud.url)
    device.get_by_label("Name of this screen").fill("Entrance")
    device.get_by_label("Pairing code").fill(f"{code[:4]}-{code[4:]}")
    device.get_by_role("button", name="Link with this code").click()
    expect(device.locator("#link-state")).to_have_text("Linked")
    expect(device.locator('[data-fact="tenant"]')).to_have_text("Acme Signs")

    console.get_by_role("dialog").get_by_role("button", name="Done").click()
    entrance = console.locator("tr", has=console.get_by_role("rowheader", name="Entrance"))
    expect(entrance).to_be_visible()
    # Linked, but no sync agent runs in this test: the console has not heard from it yet.
    expect(entrance.locator('[data-label="State"]')).to_have_text("Not seen yet")

    # Revoked in the console; unlinking at the screen still works (the cloud already let go).
    entrance.get_by_role("button", name="Revoke “Entrance”").click()
    console.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(entrance.locator('[data-label="State"]')).to_have_text("Revoked")
    device.once("dialog", lambda dialog: dialog.accept())
    device.get_by_role("button", name="Unlink from the cloud").click()
    expect(device.locator("#link-state")).to_have_text("Not linked")


def test_a_code_shown_on_the_screen_is_claimed_in_the_console(
        cloud: CloudProcess, new_tab, live_server: LiveServer):
    device = new_tab(DESKTOP)
    device.goto(live_server.url + "/cloud")
    device.get_by_label("Cloud address").fill(cloud.url)
    device.get_by_label("Name of this screen").fill("Shop floor")
    device.get_by_role("button", name="Show a code on this screen instead").click()
    shown = device.locator("#device-code-value")
    expect(shown).to_have_text(re.compile(r"^\w{4} \w{4}$"))
    code = shown.inner_text()

    console = console_screens(new_tab, cloud, PHONE)
    console.get_by_role("button", name="Claim a code").click()
    dialog = console.get_by_role("dialog")
    dialog.get_by_label("Code shown on the screen").fill(code.lower())
    dialog.get_by_role("button", name="Claim the screen").click()
    expect(console.locator("tr", has=console.get_by_role("rowheader", name="Shop floor"))
           ).to_be_visible()

    # The screen's page notices the claim by itself.
    expect(device.locator("#link-state")).to_have_text("Linked")
    expect(device.locator('[data-fact="device"]')).to_have_text("Shop floor")
    device.once("dialog", lambda dialog: dialog.accept())
    device.get_by_role("button", name="Unlink from the cloud").click()
    expect(device.locator("#link-state")).to_have_text("Not linked")
