"""Settings, sign-in, system facts, power, backup and restore in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers import basic, v2_asset
from tests.web.conftest import screenshot


def test_changing_a_setting_saves_it(page, live_server):
    page.goto("/settings")
    expect(page.get_by_text("Seconds a new image or web page is shown")).to_be_visible()
    page.get_by_label("Player name").fill("Lobby")
    page.get_by_label("Default duration (seconds)").fill("25")
    page.get_by_label("Shuffle the playlist").check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").first).to_have_text("Settings were successfully saved.")
    status, settings = live_server.api("GET", "/api/v2/device_settings")
    assert status == 200
    assert (settings["player_name"], settings["default_duration"]) == ("Lobby", 25)
    assert settings["shuffle_playlist"] is True
    page.reload()
    expect(page.get_by_label("Player name")).to_have_value("Lobby")
    screenshot(page, "settings-desktop")


def test_every_device_setting_has_a_labelled_control_with_help(page, live_server):
    page.goto("/settings")
    for label in ("Player name", "Default duration (seconds)", "Default stream duration (seconds)",
                  "Audio output", "Date format", "Show the splash page at start",
                  "Add the example assets", "Shuffle the playlist", "Use a 24-hour clock",
                  "Detailed player logs", "Authentication"):
        control = page.get_by_label(label, exact=True)
        expect(control).to_be_visible()
        help_id = control.get_attribute("aria-describedby")
        assert help_id and page.locator(f"#{help_id}").inner_text().strip()


def test_the_form_is_disabled_until_the_settings_are_read(page, live_server):
    # Typing into the form before its values arrive would be overwritten by them, so the page
    # holds the fields disabled until the read answers.
    assert live_server.api("PATCH", "/api/v2/device_settings", {"player_name": "Lobby"})[0] == 200
    held = []
    page.route("**/api/v2/device_settings", lambda route: held.append(route))
    page.goto("/settings")
    expect(page.locator("#settings-form")).to_have_attribute("aria-busy", "true")
    expect(page.get_by_label("Player name")).to_be_disabled()
    expect(page.get_by_role("button", name="Save settings")).to_be_disabled()
    for _ in range(50):  # the route handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1
    held[0].continue_()
    expect(page.get_by_label("Player name")).to_be_enabled()
    expect(page.get_by_label("Player name")).to_have_value("Lobby")
    expect(page.locator("#settings-form")).not_to_have_attribute("aria-busy", "true")


def test_mismatched_new_passwords_are_refused_with_anthias_message(page, live_server):
    page.goto("/settings")
    page.get_by_label("Authentication").select_option("auth_basic")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("New password", exact=True).fill("one")
    page.get_by_label("Repeat the new password").fill("two")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-message")).to_have_text("Not saved: New passwords do not match!")
    assert live_server.api("GET", "/api/v2/device_settings")[1]["auth_backend"] == ""


def test_turning_auth_on_leads_to_sign_in_and_then_back_to_settings(page, live_server):
    page.goto("/settings")
    page.get_by_label("Authentication").select_option("auth_basic")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("New password", exact=True).fill("s3cret")
    page.get_by_label("Repeat the new password").fill("s3cret")
    page.get_by_role("button", name="Save settings").click()
    expect(page).to_have_url(f"{live_server.url}/login?next=/settings&saved=1")
    assert live_server.api("GET", "/api/v2/device_settings")[0] == 401
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That user name and password do not match. Try again.")
    screenshot(page, "login-desktop")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("s3cret")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/settings")
    expect(page.get_by_label("Authentication")).to_have_value("auth_basic")
    # A change now needs the current password, and Anthias's refusal is shown when it is missing.
    page.get_by_label("Authentication").select_option("")
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#settings-message")).to_have_text(
        "Not saved: Must supply current password to change authentication method")
    status, body = live_server.api("GET", "/api/v2/device_settings",
                                   headers=basic("admin", "s3cret"))
    assert (status, body["auth_backend"], body["username"]) == (200, "auth_basic", "admin")
    # The session writes (with its CSRF token) through the page.
    page.goto("/")
    page.get_by_label("Web address (URL)").fill(f"{live_server.url}/splash-page")
    page.get_by_role("button", name="Add URL").click()
    expect(page.locator("#active-list li")).to_have_count(1)
    status, assets = live_server.api("GET", "/api/v2/assets", headers=basic("admin", "s3cret"))
    assert len(assets) == 1
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login")
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/login?next=/")


def test_the_system_page_shows_device_facts_in_plain_units(page, live_server):
    page.goto("/system-info")
    facts = page.locator("#facts")
    expect(facts.locator("dt")).to_contain_text(
        ["Device", "Running for", "Free disk space", "Memory"])
    memory = facts.locator("dt:has-text('Memory') + dd").inner_text()
    assert " used of " in memory and ("MiB" in memory or "GiB" in memory)
    assert "hour" in facts.locator("dt:has-text('Running for') + dd").inner_text()
    screenshot(page, "system-desktop")


def test_restart_asks_first_and_reports_it(page, live_server):
    page.goto("/system-info")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Restart the device").click()
    expect(page.locator("#power-message")).to_be_hidden()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Restart the device").click()
    expect(page.locator("#power-message")).to_contain_text("The device is restarting")


@pytest.mark.sqlite_only  # a backup carries the device's SQLite file, not a cloud database
def test_a_backup_downloads_and_restores_what_it_held(page, live_server, tmp_path):
    status, kept = live_server.api("POST", "/api/v2/assets", v2_asset(name="Keep me"))
    assert status == 201
    page.goto("/system-info")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download a backup").click()
    archive = tmp_path / download.value.suggested_filename
    download.value.save_as(archive)
    assert archive.name.endswith(".tar.gz") and archive.stat().st_size > 0
    live_server.api("DELETE", f"/api/v2/assets/{kept['asset_id']}")
    assert live_server.assets() == []
    page.get_by_label("Backup file to restore (.tar.gz)").set_input_files(str(archive))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Restore this backup").click()
    expect(page.locator("#backup-message")).to_have_text(
        f"Restored “{archive.name}”: Recovery successful.")
    expect(page.locator("#restore-progress")).to_have_attribute("value", "100")
    assert [a["name"] for a in live_server.assets()] == ["Keep me"]


def test_a_wrong_restore_file_gets_a_clear_result(page, live_server, tmp_path):
    wrong = tmp_path / "photo.png"
    wrong.write_bytes(b"not a backup")
    page.goto("/system-info")
    page.get_by_label("Backup file to restore (.tar.gz)").set_input_files(str(wrong))
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Restore this backup").click()
    # Checked in the browser before anything is asked or sent.
    expect(page.locator("#backup-message")).to_have_text(
        "The backup was not restored: “photo.png” is not a .tar.gz archive.")


def test_the_splash_page_shows_a_qr_code(page, live_server, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.10")
    live_server.app.extensions["anthias"].settings.update({"listen": "0.0.0.0:8080"},
                                                          host_level=True)
    page.goto("/splash-page")
    expect(page.get_by_role("img", name="QR code that opens http://192.0.2.10:8080")).to_be_visible()
    screenshot(page, "splash-desktop")
