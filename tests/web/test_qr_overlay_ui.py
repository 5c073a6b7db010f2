"""The QR code on screen in the device dashboard (issue 13): the edit dialog's switch, corner
and size, and the settings page's public address; checked against what the player reads."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from anthias_edge.models import Asset, QRContent
from player.playlist_source import load_items_from_db
from tests.web.conftest import PHONE, screenshot
from tests.web.test_assets_page import add_via_api

PUBLIC = "https://signs.example.com"


def _database(live_server):
    return live_server.app.extensions["anthias"].database.connection_context()


def _overlay_and_codes(live_server, asset_id: str):
    with _database(live_server):
        overlay = Asset.get_by_id(asset_id).qr_overlay
        codes = [row.qr_code for row in QRContent.select().where(
            (QRContent.asset == asset_id) & QRContent.is_active)]
    return overlay, codes


def _set_public_url(page, value: str) -> None:
    page.goto("/settings")
    field = page.get_by_label("Public address")
    expect(field).to_be_enabled()
    field.fill(value)
    page.get_by_role("button", name="Save settings").click()


def test_switching_the_code_on_shares_the_asset_and_the_player_draws_it(page, live_server):
    _set_public_url(page, PUBLIC)
    expect(page.get_by_role("status").first).to_have_text("Settings were successfully saved.")
    asset_id = add_via_api(live_server, "Menu")["asset_id"]
    page.goto("/")
    page.get_by_role("button", name="Edit Menu").click()
    dialog = page.locator("#edit-dialog")
    switch = dialog.get_by_label("Show a QR code over this asset that opens it on a phone")
    expect(switch).to_be_enabled()
    expect(switch).not_to_be_checked()
    expect(dialog.get_by_label("Corner")).to_be_disabled()
    switch.check()
    expect(dialog.locator("#edit-qr-hint")).to_have_text(
        "Saving also shares this asset: it gets a code anyone who scans it can open.")
    dialog.get_by_label("Corner").select_option(label="Top left")
    dialog.get_by_label(re.compile(r"^Size")).fill("25")
    screenshot(page, "overlay/edit-dialog-desktop")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    overlay, codes = _overlay_and_codes(live_server, asset_id)
    assert overlay == {"enabled": True, "corner": "top-left", "size": 25}
    assert len(codes) == 1
    # What the screen draws: this code, to the public address, in that corner and size.
    with _database(live_server):
        [item] = load_items_from_db(link=lambda code: f"{PUBLIC}/q/{code}")
    assert (item.qr_overlay.url, item.qr_overlay.corner, item.qr_overlay.size_pct) == (
        f"{PUBLIC}/q/{codes[0]}", "top-left", 25)
    # Opened again, the dialog shows what was saved and where the code leads.
    page.get_by_role("button", name="Edit Menu").click()
    expect(switch).to_be_checked()
    expect(dialog.get_by_label("Corner")).to_have_value("top-left")
    expect(dialog.get_by_label(re.compile(r"^Size"))).to_have_value("25")
    expect(dialog.locator("#edit-qr-hint")).to_have_text(
        f"Phones that scan it open {PUBLIC}/q/{codes[0]}")


def test_switching_the_code_off_keeps_the_share_and_draws_nothing(page, live_server):
    asset_id = add_via_api(live_server, "Menu")["asset_id"]
    page.goto("/")
    page.get_by_role("button", name="Edit Menu").click()
    dialog = page.locator("#edit-dialog")
    switch = dialog.get_by_label("Show a QR code over this asset that opens it on a phone")
    switch.check()
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    page.get_by_role("button", name="Edit Menu").click()
    expect(switch).to_be_checked()
    switch.uncheck()
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(dialog).to_be_hidden()
    overlay, codes = _overlay_and_codes(live_server, asset_id)
    assert overlay == {"enabled": False, "corner": "bottom-right", "size": 18}
    assert len(codes) == 1
    with _database(live_server):
        [item] = load_items_from_db(link=lambda code: f"{PUBLIC}/q/{code}")
    assert item.qr_overlay is None


def test_a_size_out_of_range_is_refused_next_to_the_field(phone, live_server):
    asset_id = add_via_api(live_server, "Menu")["asset_id"]
    phone.goto("/")
    phone.get_by_role("button", name="Edit Menu").click()
    dialog = phone.locator("#edit-dialog")
    dialog.get_by_label("Show a QR code over this asset that opens it on a phone").check()
    size = dialog.get_by_label(re.compile(r"^Size"))
    size.fill("60")
    dialog.get_by_role("button", name="Save", exact=True).click()
    expect(size).to_have_attribute("aria-invalid", "true")
    expect(phone.locator("#edit-qr-size-error")).to_have_text("Give a whole number from 5 to 40.")
    expect(dialog).to_be_visible()
    screenshot(phone, "overlay/edit-dialog-size-refused-phone")
    assert _overlay_and_codes(live_server, asset_id) == (None, [])


def test_the_settings_page_sets_the_public_address_and_refuses_a_bad_one(page, live_server):
    page.goto("/settings")
    field = page.get_by_label("Public address")
    expect(field).to_be_enabled()
    for described in field.get_attribute("aria-describedby").split()[:2]:
        assert page.locator(f"#{described}").inner_text().strip()
    # The test server listens on loopback only: the page says the screen shows no codes yet.
    expect(page.locator("#public_url-now")).to_contain_text("shows no codes")
    _set_public_url(page, "signs.example.com")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#public_url-error")).to_contain_text(
        "must be an absolute http:// or https:// URL")
    expect(page.get_by_role("status").first).to_have_text(
        "Not saved: check the public address.")
    screenshot(page, "overlay/settings-public-url-refused-desktop")
    assert live_server.app.extensions["anthias"].settings["public_url"] == ""
    field.fill(PUBLIC)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_have_text("Settings were successfully saved.")
    expect(page.locator("#public_url-now")).to_have_text(
        f"Codes on the screen now lead to {PUBLIC}/q/…")
    page.set_viewport_size(PHONE)
    screenshot(page, "overlay/settings-public-url-phone")
