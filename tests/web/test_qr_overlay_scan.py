"""Scan the screen: the code the player draws over a shared asset opens its landing page.

A real server; the settings page's public address set to it; the edit dialog's switch
turned on; the player's playlist source and its Chromium renderer draw the code; zxing-cpp
reads it from the screenshot; the decoded URL, fetched as a phone would, is the asset's
landing page (issue 13: "scans the code shown on screen with a phone ... and sees the
content").
"""

from __future__ import annotations

import urllib.request

from playwright.sync_api import expect

from player.main import code_link
from player.playlist_source import load_items_from_db
from player.renderers import find_chromium
from player.renderers.browser import BrowserRenderer
from tests.player.qrscan import keep, scan_png
from tests.web.test_assets_page import add_via_api


def test_the_code_on_screen_opens_the_assets_landing_page(page, live_server):
    runtime = live_server.app.extensions["anthias"]
    page.goto("/settings")
    page.get_by_label("Public address").fill(live_server.url)
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_have_text("Settings were successfully saved.")
    # A page of the server itself: the screen needs no network beyond this machine.
    shown = f"{live_server.url}/static/img/standby.png"
    add_via_api(live_server, "Lunch menu", uri=shown, mimetype="webpage")
    page.goto("/")
    page.get_by_role("button", name="Edit Lunch menu").click()
    page.get_by_label("Show a QR code over this asset that opens it on a phone").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#edit-dialog")).to_be_hidden()

    with runtime.database.connection_context():
        [item] = load_items_from_db(link=code_link(runtime.settings))
    screen = BrowserRenderer(find_chromium() or "chromium", headless=True,
                             window_size=(1280, 720))
    screen.start()
    try:
        screen.show(item)
        shot = keep("scan-web-page.png", screen.screenshot_png())
    finally:
        screen.close()
    [scan] = scan_png(shot)
    assert scan.text.startswith(f"{live_server.url}/q/QR")

    with urllib.request.urlopen(scan.text, timeout=10) as response:  # the phone's visit
        landing = response.read().decode()
        assert response.status == 200
    assert "Lunch menu" in landing
    assert shown in landing  # a web page is shown as a link to it
    code = scan.text.rsplit("/", 1)[1]
    status, body = live_server.api("GET", f"/api/v3/qr-content/{code}",
                                   headers={"X-CSRFToken": "dashboard"})
    assert (status, body["access_count"]) == (200, 1)  # the scan counted once
