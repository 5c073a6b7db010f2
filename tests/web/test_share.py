"""Sharing from the device dashboard (issue 13): the Share dialog and the Shared list.

Real Chromium on a real server: the code on screen and the downloaded PNG are decoded with
zxing-cpp and must give the exact link the API reports; scans are real visits of /q/<code>.
"""

from __future__ import annotations

import io
import re
import urllib.request
from pathlib import Path
from typing import Any

import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from tests.helpers import basic
from tests.web.conftest import ARTIFACTS
from tests.web.console.accessibility import assert_accessible
from tests.web.test_assets_page import add_via_api

TALL_PHONE = {"width": 390, "height": 844}
SHOTS = ARTIFACTS / "web"
CODE = re.compile(r"/q/(QR[0-9A-F]{16})$")


def shot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """A screenshot under tests/artifacts/web/ for review."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def decode(png: bytes) -> list[str]:
    """The texts of every QR code zxing-cpp finds in a PNG."""
    image = Image.open(io.BytesIO(png)).convert("L")
    return [code.text for code in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormat.QRCode)]


def visit(live_server, code: str) -> int:
    """Open the landing page of ``code`` as a phone would (one scan); answer the status."""
    try:
        with urllib.request.urlopen(f"{live_server.url}/q/{code}", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def mark(headers: dict[str, str] | None = None) -> dict[str, str]:
    """What the dashboard's pages send with every API call (any value on a device with no
    password)."""
    return {"X-CSRFToken": "script", **(headers or {})}


def share_of(live_server, code: str) -> dict:
    """The QR content as v3 reports it."""
    status, body = live_server.api("GET", f"/api/v3/qr-content/{code}", headers=mark())
    assert status == 200, body
    return body


def share_from_dialog(page: Any, name: str, *, barcode: bool = False) -> str:
    """Open the Share dialog of ``name``, share it, wait for the code; answer the link."""
    page.get_by_role("button", name=f"Share {name}", exact=True).click()
    dialog = page.locator("#share-dialog")
    expect(dialog.get_by_role("button", name="Share with a QR code")).to_be_visible()
    if barcode:
        dialog.get_by_label("Also make a barcode").check()
    dialog.get_by_role("button", name="Share with a QR code").click()
    expect(dialog.locator("#share-code")).to_be_visible()
    page.wait_for_function(
        "() => { const i = document.getElementById('share-image');"
        " return i.complete && i.naturalWidth > 0; }")
    return dialog.get_by_label("Link").input_value()


def test_sharing_an_asset_shows_a_code_that_opens_its_landing_page(page, live_server):
    add_via_api(live_server, "Lunch menu")
    page.goto("/")
    link = share_from_dialog(page, "Lunch menu")

    code = CODE.search(link).group(1)
    shared = share_of(live_server, code)
    assert shared["landing_url"] == link
    assert shared["title"] == "Lunch menu" and shared["is_active"] is True
    # What a phone's camera would read off the screen is that very link.
    assert decode(page.locator("#share-image").screenshot()) == [link]
    shot(page, "share-dialog-desktop", full_page=False)

    # A phone opens what it read: the asset's own landing page, no sign-in.
    phone = page.context.new_page()
    phone.set_viewport_size(TALL_PHONE)
    phone.goto(link)
    expect(phone.get_by_role("heading", name="Lunch menu")).to_be_visible()
    phone.close()
    assert visit(live_server, code) == 200
    page.get_by_role("button", name="Close").click()
    page.reload()
    row = page.locator(f'#share-list li.share[data-code="{code}"]')
    expect(row.locator(".name")).to_have_text("Lunch menu")
    expect(row.locator(".scans")).to_have_text(re.compile(r"^2 scans, last "))
    expect(row.locator(".share-url")).to_have_text(link)


def test_the_dialog_reopens_the_same_code_instead_of_making_another(page, live_server):
    add_via_api(live_server, "Timetable")
    page.goto("/")
    first = share_from_dialog(page, "Timetable")
    page.get_by_role("button", name="Close").click()
    page.get_by_role("button", name="Share Timetable", exact=True).click()
    expect(page.locator("#share-code")).to_be_visible()
    assert page.get_by_label("Link").input_value() == first
    status, body = live_server.api("GET", "/api/v3/qr-content", headers=mark())
    assert status == 200 and len(body["items"]) == 1


def test_copy_puts_the_link_on_the_clipboard(page, live_server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    add_via_api(live_server, "Poster")
    page.goto("/")
    link = share_from_dialog(page, "Poster")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#share-message")).to_have_text("Link copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == link


def test_copy_works_where_the_page_has_no_clipboard_api(browser, live_server):
    # A device on its LAN is plain HTTP: no navigator.clipboard there, only the selection.
    context = browser.new_context(base_url=live_server.url, timezone_id="UTC")
    context.add_init_script("delete Navigator.prototype.clipboard;")
    page = context.new_page()
    try:
        add_via_api(live_server, "Flyer")
        page.goto("/")
        page.evaluate("""() => { window.copied = [];
          document.addEventListener('copy', () => window.copied.push(String(getSelection()) ||
            document.activeElement.value.slice(document.activeElement.selectionStart,
                                               document.activeElement.selectionEnd))); }""")
        link = share_from_dialog(page, "Flyer")
        page.get_by_role("button", name="Copy link").click()
        expect(page.locator("#share-message")).to_have_text("Link copied.")
        assert page.evaluate("() => window.copied") == [link]
    finally:
        context.close()


def test_an_expiry_is_set_and_cleared_from_the_dialog(page, live_server):
    add_via_api(live_server, "Offer")
    page.goto("/")
    link = share_from_dialog(page, "Offer")
    code = CODE.search(link).group(1)
    page.get_by_label("Stop sharing on", exact=True).fill("2099-03-04T15:30")
    page.get_by_role("button", name="Save date").click()
    expect(page.locator("#share-message")).to_have_text(re.compile(r"^Expires 03/04/2099 3:30 PM"))
    assert share_of(live_server, code)["expires_at"].startswith("2099-03-04T15:30:00")
    expect(page.locator("#share-status")).to_have_text("Until 03/04/2099 3:30 PM")

    page.get_by_role("button", name="No expiry").click()
    expect(page.locator("#share-status")).to_have_text("No expiry")
    assert share_of(live_server, code)["expires_at"] is None
    assert page.get_by_label("Stop sharing on", exact=True).input_value() == ""


def test_an_expiry_may_be_given_when_sharing(page, live_server):
    add_via_api(live_server, "Concert")
    page.goto("/")
    page.get_by_role("button", name="Share Concert", exact=True).click()
    page.get_by_label("Stop sharing on (optional)").fill("2098-12-31T23:00")
    page.get_by_role("button", name="Share with a QR code").click()
    expect(page.locator("#share-status")).to_have_text("Until 12/31/2098 11:00 PM")
    code = CODE.search(page.get_by_label("Link").input_value()).group(1)
    assert share_of(live_server, code)["expires_at"].startswith("2098-12-31T23:00:00")


def test_png_and_svg_downloads_hold_the_code(page, live_server, tmp_path):
    add_via_api(live_server, "Price list")
    page.goto("/")
    link = share_from_dialog(page, "Price list", barcode=True)
    code = CODE.search(link).group(1)
    with page.expect_download() as png_download:
        page.get_by_role("button", name="Download PNG").click()
    png = png_download.value
    assert png.suggested_filename == f"price-list-{code}.png"
    assert decode(Path(png.path()).read_bytes()) == [link]
    with page.expect_download() as svg_download:
        page.get_by_role("button", name="Download SVG").click()
    svg = Path(svg_download.value.path()).read_text(encoding="utf-8")
    assert svg_download.value.suggested_filename == f"price-list-{code}.svg"
    assert "<svg" in svg
    # The SVG drawn by the browser reads as the same link.
    (tmp_path / "code.svg").write_text(svg, encoding="utf-8")
    page.goto((tmp_path / "code.svg").as_uri())
    assert decode(page.screenshot()) == [link]


def test_the_barcode_is_offered_only_when_one_was_made(page, live_server):
    add_via_api(live_server, "Coupon")
    add_via_api(live_server, "Plain")
    page.goto("/")
    share_from_dialog(page, "Coupon", barcode=True)
    expect(page.get_by_role("button", name="Download barcode")).to_be_visible()
    expect(page.locator("#share-barcode-text")).to_have_text(
        re.compile(r"^Barcode: BC[0-9A-F]{12}$"))
    page.get_by_role("button", name="Close").click()
    share_from_dialog(page, "Plain")
    expect(page.get_by_role("button", name="Download barcode")).to_be_hidden()


def test_print_shows_only_the_code_title_and_link(page, live_server):
    add_via_api(live_server, "Wine list")
    page.goto("/")
    link = share_from_dialog(page, "Wine list")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_role("button", name="Print").click()
    assert page.evaluate("() => window.printed") == 1
    page.emulate_media(media="print")
    try:
        sheet = page.locator("#print-sheet")
        expect(sheet).to_be_visible()
        expect(sheet.locator("h1")).to_have_text("Wine list")
        expect(sheet).to_contain_text(link)
        for hidden in ("#share-dialog", "#active-list", "header.top", "#share-list"):
            expect(page.locator(hidden)).to_be_hidden()
        printed = shot(page, "share-print")
        assert decode(printed.read_bytes()) == [link]
    finally:
        page.emulate_media(media="screen")


def test_stop_sharing_makes_the_landing_page_gone(page, live_server):
    add_via_api(live_server, "Old menu")
    page.goto("/")
    link = share_from_dialog(page, "Old menu")
    code = CODE.search(link).group(1)
    assert visit(live_server, code) == 200
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#share-dialog").get_by_role("button", name="Stop sharing").click()
    expect(page.locator("#share-status")).to_have_text("Stopped")
    expect(page.locator("#share-inactive")).to_be_visible()
    assert share_of(live_server, code)["is_active"] is False
    assert visit(live_server, code) == 410
    page.get_by_role("button", name="Close").click()
    row = page.locator(f'#share-list li.share[data-code="{code}"]')
    expect(row.locator(".state")).to_have_text("Stopped")
    expect(row.get_by_role("button", name="Stop sharing Old menu")).to_be_hidden()


def test_the_shared_list_stops_a_share_and_shows_counts(page, live_server):
    add_via_api(live_server, "Breakfast")
    add_via_api(live_server, "Dinner")
    page.goto("/")
    expect(page.locator("#share-empty")).to_be_visible()
    breakfast = CODE.search(share_from_dialog(page, "Breakfast")).group(1)
    page.get_by_role("button", name="Close").click()
    dinner = CODE.search(share_from_dialog(page, "Dinner")).group(1)
    page.get_by_role("button", name="Close").click()
    for _ in range(3):
        assert visit(live_server, dinner) == 200
    page.reload()
    rows = page.locator("#share-list li.share")
    expect(rows).to_have_count(2)
    expect(page.locator("#share-count")).to_have_text("(2)")
    dinner_row = page.locator(f'#share-list li.share[data-code="{dinner}"]')
    expect(dinner_row.locator(".scans")).to_have_text(re.compile(r"^3 scans, last "))
    expect(page.locator(f'li.share[data-code="{breakfast}"] .scans')).to_have_text("0 scans")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Stop sharing Breakfast").click()
    expect(page.locator(f'li.share[data-code="{breakfast}"] .state')).to_have_text("Stopped")
    assert share_of(live_server, breakfast)["is_active"] is False
    assert share_of(live_server, dinner)["is_active"] is True

    shot(page, "share-list-desktop")
    page.get_by_role("button", name="Show code of Dinner").click()
    expect(page.locator("#share-scans")).to_have_text(re.compile(r"^3 scans"))


def test_the_dialog_and_list_on_a_phone(phone, live_server):
    add_via_api(live_server, "Specials")
    phone.set_viewport_size(TALL_PHONE)
    phone.goto("/")
    link = share_from_dialog(phone, "Specials")
    # The whole dialog fits the phone's width: nothing scrolls sideways.
    assert phone.evaluate(
        "() => document.getElementById('share-dialog').scrollWidth"
        " <= document.getElementById('share-dialog').clientWidth")
    assert decode(phone.locator("#share-image").screenshot()) == [link]
    shot(phone, "share-dialog-phone", full_page=False)
    # The dark theme keeps the code dark on a white plate, which phones read.
    phone.emulate_media(color_scheme="dark")
    assert decode(phone.locator("#share-image").screenshot()) == [link]
    shot(phone, "share-dialog-phone-dark", full_page=False)
    phone.emulate_media(color_scheme="light")
    phone.get_by_role("button", name="Close").click()
    phone.locator("#share-list").scroll_into_view_if_needed()
    expect(phone.locator("#share-list li.share")).to_have_count(1)
    shot(phone, "share-list-phone")


def test_a_signed_in_dashboard_shares_with_its_session(page, live_server):
    assert live_server.api("PATCH", "/api/v2/device_settings", {
        "auth_backend": "auth_basic", "username": "admin", "password": "pw",
        "password_2": "pw"})[0] == 200
    auth = basic("admin", "pw")
    status, _ = live_server.api("POST", "/api/v2/assets", {
        "name": "Members' news", "uri": "https://example.com/news", "mimetype": "webpage",
        "start_date": "2020-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z",
        "duration": 10, "is_enabled": True, "skip_asset_check": True}, headers=auth)
    assert status == 201
    page.goto("/")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    link = share_from_dialog(page, "Members' news")
    code = CODE.search(link).group(1)
    status, body = live_server.api("GET", f"/api/v3/qr-content/{code}", headers=mark(auth))
    assert status == 200 and body["created_by"] == "device-dashboard"
    # Without the session (or Basic), the same call is refused.
    assert live_server.api("GET", f"/api/v3/qr-content/{code}", headers=mark())[0] == 401


def test_the_share_dialog_and_list_pass_axe_and_work_from_the_keyboard(page, live_server):
    add_via_api(live_server, "Notice board")
    page.goto("/")
    share = page.get_by_role("button", name="Share Notice board", exact=True)
    share.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Share with a QR code")).to_be_focused()
    assert_accessible(page, "the Share dialog before sharing")
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Copy link")).to_be_focused()
    expect(page.locator("#share-status")).to_have_text("No expiry")
    assert_accessible(page, "the Share dialog with its code")
    page.keyboard.press("Escape")
    expect(page.locator("#share-dialog")).not_to_be_visible()
    expect(page.locator("#share-list li.share")).to_have_count(1)
    assert_accessible(page, "the assets page with the Shared list")


def test_a_refused_share_says_why_and_makes_nothing(page, live_server):
    asset = add_via_api(live_server, "Gone soon")
    page.goto("/")
    page.get_by_role("button", name="Share Gone soon", exact=True).click()
    expect(page.get_by_role("button", name="Share with a QR code")).to_be_visible()
    page.get_by_label("Stop sharing on (optional)").fill("2001-01-01T10:00")
    page.get_by_role("button", name="Share with a QR code").click()
    expect(page.locator("#share-message")).to_have_text(re.compile(r"^Not shared: .*expires"))
    # Meanwhile someone deletes the asset: the dialog says so instead of failing silently.
    assert live_server.api("DELETE", f"/api/v2/assets/{asset['asset_id']}")[0] == 204
    page.get_by_label("Stop sharing on (optional)").fill("")
    page.get_by_role("button", name="Share with a QR code").click()
    expect(page.locator("#share-message")).to_have_text(re.compile(r"^Not shared: "))
    expect(page.locator("#share-code")).to_be_hidden()
    status, body = live_server.api("GET", "/api/v3/qr-content", headers=mark())
    assert status == 200 and body["items"] == []
