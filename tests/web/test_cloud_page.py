"""The device dashboard's Cloud page in Chromium, linked to a real cloud server.

The cloud runs in its own process on PostgreSQL (tests/web/cloud_process.py), the device is
the usual live test server with its real sync agent. Desktop (1366x768) and phone (390x844):
the not-linked state, a wrong code's message, linking with a pairing code, the linked state,
unlinking, and a code shown on the screen (and the splash page) that an admin claims.
Screenshots of each state go to /tmp/shots_c/ for review.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.cloud_process import CloudProcess, cloud_database_name, cloud_process
from tests.web.conftest import LiveServer
from tests.web.console.accessibility import assert_accessible

pytestmark = pytest.mark.postgres

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SHOTS = Path("/tmp/shots_c")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    """One cloud server for the module."""
    with cloud_process(tmp_path_factory.mktemp("cloud-home"),
                       cloud_database_name("cloudpage_ui")) as running:
        yield running


@pytest.fixture
def open_tab(new_tab: Callable[..., Any], live_server: LiveServer) -> Callable[[dict], Any]:
    """``open_tab(viewport)``: a tab on the device; any JavaScript error fails the test."""
    return lambda viewport: new_tab(viewport, live_server.url)


def shot(page: Any, name: str) -> None:
    """A full-page screenshot for review."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")  # a sticky header stays where the page began
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_link_with_a_code_see_the_state_and_unlink(cloud: CloudProcess, open_tab, size: str):
    page = open_tab(DESKTOP if size == "desktop" else PHONE)
    page.goto("/cloud")
    expect(page.locator("#link-state")).to_have_text("Not linked")
    expect(page.get_by_role("link", name="Cloud")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("heading", name="Link this device")).to_be_visible()
    shot(page, f"device-cloud-unlinked-{size}")
    assert_accessible(page, "Cloud page, not linked")

    # Nothing typed: the page says what is missing, next to the field.
    page.get_by_label("Cloud address").fill(cloud.url)
    page.get_by_role("button", name="Link with this code").click()
    expect(page.locator("#code-error")).to_have_text(
        "Enter the pairing code from the cloud console.")
    # A code the cloud never made: its refusal in words, and still not linked.
    page.get_by_label("Pairing code").fill("ZZZZ-2222")
    page.get_by_role("button", name="Link with this code").click()
    expect(page.locator("#link-message")).to_contain_text("mistyped, already used or expired")
    expect(page.locator("#link-state")).to_have_text("Not linked")
    shot(page, f"device-cloud-wrong-code-{size}")

    code = cloud.pairing_code()
    page.get_by_label("Name of this screen").fill(f"Front desk {size}")
    page.get_by_label("Pairing code").fill(code.lower())
    page.get_by_role("button", name="Link with this code").click()
    expect(page.locator("#link-state")).to_have_text("Linked")
    facts = page.locator("#cloud-state")
    expect(facts.locator('[data-fact="tenant"]')).to_have_text("Acme Signs")
    expect(facts.locator('[data-fact="device"]')).to_have_text(f"Front desk {size}")
    expect(facts.locator('[data-fact="cloud_url"]')).to_have_text(cloud.url)
    expect(facts.locator('[data-fact="pending"]')).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("#link-section")).to_be_hidden()
    expect(page.locator("#cloud-message")).to_have_text("Linked to Acme Signs.")
    shot(page, f"device-cloud-linked-{size}")
    assert_accessible(page, "Cloud page, linked")

    # Reloaded, the page reads the same state back from the device.
    page.reload()
    expect(page.locator("#link-state")).to_have_text("Linked")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Unlink from the cloud").click()
    expect(page.locator("#link-state")).to_have_text("Not linked")
    expect(page.locator("#cloud-message")).to_have_text(
        "Unlinked. This device works on its own now.")
    expect(page.get_by_role("heading", name="Link this device")).to_be_visible()
    shot(page, f"device-cloud-unlinked-after-{size}")


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_a_code_shown_on_the_screen_is_claimed(cloud: CloudProcess, open_tab, size: str):
    page = open_tab(DESKTOP if size == "desktop" else PHONE)
    page.goto("/cloud")
    expect(page.locator("#link-state")).to_have_text("Not linked")
    page.get_by_label("Cloud address").fill(cloud.url)
    page.get_by_role("button", name="Show a code on this screen instead").click()
    code_box = page.locator("#device-code-value")
    expect(code_box).to_have_text(re.compile(r"^[2-9A-HJ-NP-Z]{4} [2-9A-HJ-NP-Z]{4}$"))
    expect(page.locator("#device-code-expiry")).to_contain_text("Valid for")
    qr = page.locator("#device-code-qr")
    expect(qr).to_be_visible()
    page.wait_for_function("() => { const img = document.getElementById('device-code-qr');"
                           " return img.complete && img.naturalWidth > 0; }")
    expect(page.locator("#link-section")).to_be_hidden()
    shot(page, f"device-cloud-code-{size}")
    assert_accessible(page, "Cloud page, showing a code")

    code = code_box.inner_text().replace(" ", "")
    splash = open_tab(DESKTOP)
    splash.goto("/splash-page")
    expect(splash.locator("#device-code")).to_have_text(f"{code[:4]} {code[4:]}")
    shot(splash, f"splash-code-{size}")

    cloud.claim(code, f"Window {size}")
    # The page asks every few seconds; the claim shows without a reload.
    expect(page.locator("#link-state")).to_have_text("Linked")
    expect(page.locator('[data-fact="device"]')).to_have_text(f"Window {size}")
    expect(page.locator("#device-code")).to_be_hidden()
    expect(page.locator("#cloud-message")).to_contain_text("Claimed")
    shot(page, f"device-cloud-claimed-{size}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Unlink from the cloud").click()
    expect(page.locator("#link-state")).to_have_text("Not linked")


def test_stopping_a_shown_code_brings_the_form_back(cloud: CloudProcess, open_tab):
    page = open_tab(DESKTOP)
    page.goto("/cloud")
    page.get_by_label("Cloud address").fill(cloud.url)
    page.get_by_role("button", name="Show a code on this screen instead").click()
    expect(page.locator("#device-code-value")).to_be_visible()
    page.get_by_role("button", name="Stop showing the code").click()
    expect(page.locator("#device-code")).to_be_hidden()
    expect(page.get_by_role("heading", name="Link this device")).to_be_visible()
    splash = open_tab(DESKTOP)
    splash.goto("/splash-page")
    expect(splash.locator("#device-code")).to_have_count(0)
