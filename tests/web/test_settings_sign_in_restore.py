"""Settings help and checks, the sign-in page, the restore's checks."""

from __future__ import annotations

import io
import re
import tarfile

import pytest
from playwright.sync_api import expect

from tests.web.conftest import screenshot

TALL_PHONE = {"width": 390, "height": 844}
INTERNAL_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")


def turn_sign_in_on(live_server) -> None:
    status, body = live_server.api("PATCH", "/api/v2/device_settings", {
        "auth_backend": "auth_basic", "username": "admin", "password": "s3cret",
        "password_2": "s3cret"})
    assert status == 200, body


def test_help_texts_use_the_words_on_the_page(page, live_server):
    page.goto("/settings")
    hints = page.locator("#settings-form .hint")
    expect(hints.first).to_be_visible()
    for text in hints.all_inner_texts():
        assert not INTERNAL_NAME.search(text), text
    audio = page.locator("#help-audio_output").inner_text()
    assert "HDMI" in audio and "3.5 mm jack" in audio and "local" not in audio
    assert "User name and password" in page.locator("#help-auth_backend").inner_text()
    page.set_viewport_size(TALL_PHONE)
    screenshot(page, "settings-help-phone")


def test_current_password_is_not_asked_for_when_none_was_set(page, live_server):
    held = []
    page.route("**/api/v2/device_settings", lambda route: held.append(route))
    page.goto("/settings")
    expect(page.get_by_label("Player name")).to_be_disabled()
    expect(page.get_by_label("Current password")).to_be_hidden()
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    held[0].continue_()
    expect(page.get_by_label("Player name")).to_be_enabled()
    page.get_by_label("Authentication").select_option("auth_basic")
    expect(page.get_by_label("User name")).to_be_visible()
    expect(page.get_by_label("Current password")).to_be_hidden()


def test_sign_in_on_says_the_settings_were_saved(page, live_server):
    page.goto("/settings")
    page.get_by_label("Authentication").select_option("auth_basic")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("New password", exact=True).fill("s3cret")
    page.get_by_label("Repeat the new password").fill("s3cret")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Settings were saved")).to_have_text(
        "Settings were saved. Sign in with the new user name and password.")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("s3cret")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/settings")


@pytest.mark.parametrize("value", ["-5", "-1"])
def test_a_negative_duration_is_refused_as_negative(page, live_server, value):
    page.goto("/settings")
    page.get_by_label("Default duration (seconds)").fill(value)
    page.get_by_role("button", name="Save settings").click()
    message = page.locator("#settings-message")
    expect(message).to_have_text("Default duration (seconds) cannot be negative.")
    page.get_by_label("Default duration (seconds)").fill("2.5")
    page.get_by_role("button", name="Save settings").click()
    expect(message).to_have_text("Default duration (seconds) must be a whole number of seconds.")


def test_a_wrong_password_keeps_the_user_name(page, live_server):
    turn_sign_in_on(live_server)
    page.goto("/login")
    page.get_by_label("User name").fill("admin")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_label("User name")).to_have_value("admin")
    expect(page.get_by_label("Password")).to_be_focused()


def test_the_sign_in_page_has_no_links_back_to_itself(phone, live_server):
    turn_sign_in_on(live_server)
    phone.goto("/")
    expect(phone).to_have_url(f"{live_server.url}/login?next=/")
    nav_links = phone.locator("header a")
    for href in nav_links.evaluate_all("(links) => links.map((a) => a.href)"):
        phone.goto(href)
        assert "/login" not in phone.url, href
    phone.goto("/login")
    phone.set_viewport_size(TALL_PHONE)
    screenshot(phone, "login-phone")


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "content", "why"), [
    ("photos.tar.gz", tar_gz({"holiday/a.jpg": b"x"}), "is not an Anthias backup"),
    ("broken.tar.gz", b"this is not gzip", "is not a .tar.gz archive"),
    ("photo.png", b"\x89PNG", "is not a .tar.gz archive"),
])
def test_a_file_that_is_no_backup_is_refused_before_asking(page, live_server, tmp_path, name,
                                                             content, why):
    questions: list[str] = []
    sent: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: sent.append(request.url)
            if "/api/v2/recover" in request.url else None)
    upload = tmp_path / name
    upload.write_bytes(content)
    page.goto("/system-info")
    page.get_by_label("Backup file to restore (.tar.gz)").set_input_files(str(upload))
    page.get_by_role("button", name="Restore this backup").click()
    expect(page.locator("#backup-message")).to_have_text(
        f"The backup was not restored: “{name}” {why}.")
    assert questions == [] and sent == []


@pytest.mark.sqlite_only  # a backup carries the device's SQLite file, not a cloud database
def test_a_real_backup_is_checked_then_confirmed(page, live_server, tmp_path):
    status, name = live_server.api("POST", "/api/v2/backup")
    assert status == 201
    archive = live_server.app.extensions["anthias"].settings.static_dir / name
    questions: list[str] = []
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    page.goto("/system-info")
    page.get_by_label("Backup file to restore (.tar.gz)").set_input_files(str(archive))
    page.get_by_role("button", name="Restore this backup").click()
    expect(page.locator("#backup-message")).to_have_text("Not restored: nothing was changed.")
    assert questions == [f"Replace everything on this device with “{name}”?"]
