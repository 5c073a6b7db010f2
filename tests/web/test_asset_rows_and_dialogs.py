"""Asset rows, the edit and preview dialogs, toasts and uploads."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.web.conftest import ARTIFACTS, screenshot
from tests.web.test_assets_page import add_via_api, tiny_png

TALL_PHONE = {"width": 390, "height": 844}
START = "2020-02-01T09:05:00.000Z"
END = "2099-03-04T15:30:00.000Z"


def test_dates_and_times_follow_the_date_format_and_clock_settings(page, live_server):
    assert live_server.api("PATCH", "/api/v2/device_settings", {
        "date_format": "dd.mm.yyyy", "use_24_hour_clock": True})[0] == 200
    add_via_api(live_server, "Menu", start_date=START, end_date=END)
    asset = live_server.assets()
    assert live_server.api("PATCH", f"/api/v2/assets/{asset[0]['asset_id']}", {
        "play_time_from": "09:00:00", "play_time_to": "17:30:00"})[0] == 200
    page.goto("/")
    row = page.locator("li.asset")  # playing or not, depending on the hour the test runs
    expect(row).to_contain_text("01.02.2020 09:05")
    expect(row).to_contain_text("04.03.2099 15:30")
    expect(row).to_contain_text("09:00\N{EN DASH}17:30")
    assert live_server.api("PATCH", "/api/v2/device_settings", {
        "date_format": "mm/dd/yyyy", "use_24_hour_clock": False})[0] == 200
    page.reload()
    expect(row).to_contain_text("02/01/2020 9:05 AM")
    expect(row).to_contain_text("03/04/2099 3:30 PM")
    expect(row).to_contain_text("9:00 AM\N{EN DASH}5:30 PM")
    # The browser's own date picker follows its locale; the chosen format is shown under it.
    row.get_by_role("button", name="Edit Menu").click()
    expect(page.locator(".readback[data-for=edit-end]")).to_have_text("03/04/2099 3:30 PM")


def test_rows_show_start_and_end(page, live_server):
    assert live_server.api("PATCH", "/api/v2/device_settings", {
        "date_format": "yyyy-mm-dd", "use_24_hour_clock": True})[0] == 200
    add_via_api(live_server, "Menu", start_date=START, end_date=END)
    page.goto("/")
    row = page.locator("#active-list li.asset")
    expect(row.locator(".start")).to_have_text("Start 2020-02-01 09:05")
    expect(row.locator(".end")).to_have_text("End 2099-03-04 15:30")
    screenshot(page, "asset-dates-desktop")
    page.set_viewport_size(TALL_PHONE)
    screenshot(page, "asset-dates-phone")


def test_an_end_before_the_start_is_refused_next_to_the_field(page, live_server):
    add_via_api(live_server, "Menu", start_date=START, end_date=END)
    page.goto("/")
    page.get_by_role("button", name="Edit Menu").click()
    page.get_by_label("Starts").fill("2026-06-10T10:00")
    page.get_by_label("Ends").fill("2026-06-01T10:00")
    page.get_by_role("button", name="Save", exact=True).click()
    ends = page.get_by_label("Ends")
    expect(ends).to_have_attribute("aria-invalid", "true")
    message = page.locator(f"#{ends.get_attribute('aria-describedby')}")
    expect(message).to_have_text("The end must be after the start.")
    expect(page.locator("#edit-dialog")).to_be_visible()
    assert live_server.assets()[0]["end_date"].startswith("2099-03-04")
    screenshot(page, "edit-end-before-start-desktop")
    # Once corrected it saves, and the message goes.
    ends.fill("2026-06-20T10:00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#edit-dialog")).to_be_hidden()
    assert live_server.assets()[0]["end_date"].startswith("2026-06-20")


def test_rows_under_not_playing_have_no_move_buttons(page, live_server):
    add_via_api(live_server, "Playing")
    add_via_api(live_server, "Off", is_enabled=False)
    page.goto("/")
    off = page.locator("#inactive-list li.asset")
    expect(off.locator(".name")).to_have_text("Off")
    expect(off.get_by_role("button", name="Move up Off")).to_be_hidden()
    expect(off.get_by_role("button", name="Move down Off")).to_be_hidden()
    expect(off.locator(".handle")).to_be_hidden()
    expect(page.get_by_role("button", name="Move up Playing")).to_be_visible()


def test_no_toast_shows_until_there_is_something_to_say(page, live_server):
    for path in ("/", "/settings", "/system-info"):
        page.goto(path)
        expect(page.locator("#toast")).to_be_hidden()


def _covered_buttons(page, row) -> list[str]:
    """Buttons of ``row`` whose centre is not theirs to click (something lies on top)."""
    return row.evaluate("""(row) => [...row.querySelectorAll('button')]
        .filter((b) => b.offsetParent)
        .filter((b) => {
          const r = b.getBoundingClientRect();
          const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
          return !b.contains(hit);
        }).map((b) => b.getAttribute('aria-label') || b.textContent)""")


def test_a_toast_never_blocks_the_buttons_under_it(phone, live_server):
    add_via_api(live_server, "First")
    phone.goto("/")
    phone.get_by_role("button", name="Next ▶").click()
    expect(phone.locator("#toast")).to_be_visible()
    row = phone.locator("#active-list li.asset").first
    # The row at the very bottom of the screen, where the toast appears.
    row.evaluate("(row) => row.scrollIntoView({block: 'end'})")
    assert _covered_buttons(phone, row) == []
    phone.screenshot(path=str(ARTIFACTS / "toast-over-row-phone.png"))  # the screen as seen
    row.get_by_role("button", name="Edit First").click(timeout=2000)
    expect(phone.locator("#edit-dialog")).to_be_visible()


def _buttons_seen_under_the_toast(page) -> list[str]:
    """Row controls a user could see before the toast came that now lie under it.

    The toast lets clicks through, so ``elementFromPoint`` answers what is under it there:
    a row's control (covered by the toast) or the header (hidden before the toast came).
    """
    return page.evaluate("""() => {
      const toast = document.getElementById('toast').getBoundingClientRect();
      return [...document.querySelectorAll('li.asset button, li.asset .switch')]
        .filter((control) => control.offsetParent)
        .filter((control) => {
          const r = control.getBoundingClientRect();
          const left = Math.max(r.left, toast.left), right = Math.min(r.right, toast.right);
          const top = Math.max(r.top, toast.top), bottom = Math.min(r.bottom, toast.bottom);
          if (left >= right || top >= bottom) return false;
          const under = document.elementFromPoint((left + right) / 2, (top + bottom) / 2);
          return control.contains(under);
        }).map((control) => control.getAttribute('aria-label') || control.textContent.trim())
    }""")


def test_on_a_phone_the_toast_covers_no_row_button_wherever_the_page_is_scrolled(
        phone, live_server):
    for number in range(1, 7):
        add_via_api(live_server, f"Row {number}")
    phone.goto("/")
    toast = phone.locator("#toast")
    phone.get_by_role("button", name="Next ▶").click()
    expect(toast).to_contain_text("show the next asset")
    assert _buttons_seen_under_the_toast(phone) == []
    # Scrolled down: a row's buttons at the bottom of the screen, another row's at the top.
    rows = phone.locator("#active-list li.asset")
    rows.first.evaluate("(row) => row.scrollIntoView({block: 'end'})")
    assert _buttons_seen_under_the_toast(phone) == []
    phone.screenshot(path=str(ARTIFACTS / "toast-phone-scrolled.png"))
    rows.nth(3).evaluate("(row) => row.scrollIntoView({block: 'end'})")
    phone.get_by_role("button", name="Edit Row 3").click()
    phone.get_by_role("button", name="Save", exact=True).click()
    expect(toast).to_contain_text("Saved “Row 3”")
    assert _buttons_seen_under_the_toast(phone) == []
    rows.nth(4).evaluate("(row) => row.scrollIntoView({block: 'start'})")
    phone.evaluate("window.scrollBy(0, -40)")
    assert _buttons_seen_under_the_toast(phone) == []
    # Gone, it takes no room and nothing of it shows.
    phone.keyboard.press("Escape")
    expect(toast).to_be_hidden()


def test_finished_uploads_can_be_dismissed(page, live_server, tmp_path):
    first, second = tiny_png(tmp_path / "one.png"), tiny_png(tmp_path / "two.png")
    page.goto("/")
    page.locator("#file-input").set_input_files([str(first), str(second)])
    uploads = page.locator("#uploads li")
    expect(uploads.locator(".upload-status")).to_have_text(["Added", "Added"])
    screenshot(page, "uploads-finished-desktop")
    page.get_by_role("button", name="Dismiss one.png").click()
    expect(uploads.locator(".upload-name")).to_have_text(["two.png"])
    page.get_by_role("button", name="Dismiss two.png").click()
    expect(uploads).to_have_count(0)


def test_the_edit_dialog_does_not_show_the_file_path(phone, live_server, tmp_path):
    asset_dir = live_server.app.extensions["anthias"].settings.asset_dir
    image = tiny_png(asset_dir / ("a" * 40 + ".png"))
    add_via_api(live_server, "Poster", uri=str(image), mimetype="image")
    phone.goto("/")
    phone.get_by_role("button", name="Edit Poster").click()
    dialog = phone.locator("#edit-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).not_to_contain_text(str(asset_dir))
    expect(dialog).to_contain_text("Uploaded file")
    assert dialog.evaluate("(d) => d.scrollWidth <= d.clientWidth")
    phone.set_viewport_size(TALL_PHONE)
    screenshot(phone, "edit-dialog-phone")


def test_a_web_page_previews_in_a_frame_with_a_link_as_fallback(page, live_server):
    url = f"{live_server.url}/splash-page"
    add_via_api(live_server, "Welcome", uri=url, mimetype="webpage")
    page.goto("/")
    page.get_by_role("button", name="Preview Welcome").click()
    frame = page.frame_locator("#preview-body iframe")
    expect(frame.get_by_role("heading", name="Anthias Edge")).to_be_visible()
    link = page.locator("#preview-body").get_by_role("link", name=re.compile("new tab"))
    expect(link).to_have_attribute("href", url)
    screenshot(page, "preview-webpage-desktop")
