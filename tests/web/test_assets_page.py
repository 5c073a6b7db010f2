"""The assets page in Chromium: what a person sees, then what the API says."""

from __future__ import annotations

import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.helpers import v2_asset
from tests.web.conftest import screenshot


def tiny_png(path: Path) -> Path:
    """A valid 2x2 red PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return path


def tiny_video(path: Path) -> Path:
    """A 2-second test-pattern MP4 made with ffmpeg's lavfi source."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "testsrc=duration=2:size=160x120:rate=10", "-pix_fmt", "yuv420p", str(path)],
                   check=True, timeout=60)
    return path


def add_via_api(server, name: str, **fields) -> dict:
    """Create an active asset as a script would."""
    status, body = server.api("POST", "/api/v2/assets", v2_asset(name=name, **fields))
    assert status == 201, body
    return body


def active_names(server) -> list[str]:
    """Active assets by play order, from the API."""
    active = [a for a in server.assets() if a["is_active"]]
    return [a["name"] for a in sorted(active, key=lambda a: a["play_order"])]


def test_adding_a_url_asset_detects_its_type_and_lists_it(page, live_server):
    page.goto("/")
    page.get_by_label("Web address (URL)").fill("https://example.com/photo.JPG")
    expect(page.get_by_label("Type")).to_have_value("image")
    page.get_by_label("Web address (URL)").fill("rtsp://camera.local/stream")
    expect(page.get_by_label("Type")).to_have_value("streaming")
    page.get_by_label("Web address (URL)").fill(f"{live_server.url}/splash-page")
    expect(page.get_by_label("Type")).to_have_value("webpage")
    page.get_by_label("Name (optional)").fill("Welcome")
    page.get_by_role("button", name="Add URL").click()
    expect(page.locator("#active-list .name")).to_have_text(["Welcome"])
    expect(page.locator("#toast")).to_contain_text("Added “Welcome”")
    [asset] = live_server.assets()
    assert (asset["name"], asset["mimetype"], asset["is_active"]) == ("Welcome", "webpage", True)
    assert asset["uri"] == f"{live_server.url}/splash-page"
    assert asset["duration"] == 10
    screenshot(page, "assets-desktop")


def test_an_unreachable_url_is_refused_with_the_servers_reason(page, live_server):
    page.goto("/")
    page.get_by_label("Web address (URL)").fill("http://127.0.0.1:9/nothing-here")
    page.get_by_role("button", name="Add URL").click()
    expect(page.locator("#toast")).to_contain_text("was not added: Could not retrieve file")
    assert live_server.assets() == []


def test_uploading_an_image_and_a_video_shows_progress_and_adds_both(page, live_server, tmp_path):
    image, video = tiny_png(tmp_path / "red.png"), tiny_video(tmp_path / "clip.mp4")
    page.goto("/")
    page.get_by_label("Choose files…").set_input_files([str(image), str(video)])
    uploads = page.locator("#uploads li")
    expect(uploads).to_have_count(2)
    for name in ("red.png", "clip.mp4"):
        row = uploads.filter(has_text=name)
        expect(row.get_by_role("progressbar")).to_have_attribute("value", "100")
        expect(row.locator(".upload-status")).to_have_text("Added")
    expect(page.locator("#active-list .name")).to_have_count(2)
    assets = {a["name"]: a for a in live_server.assets()}
    assert assets["red.png"]["mimetype"] == "image"
    assert assets["red.png"]["uri"].endswith(".png")
    assert assets["clip.mp4"]["mimetype"] == "video"
    assert assets["clip.mp4"]["duration"] == 2  # computed by the server from the file
    image_id = assets["red.png"]["asset_id"]
    status, content = live_server.api("GET", f"/api/v2/assets/{image_id}/content")
    assert status == 200
    assert content["type"] == "file" and content["mimetype"] == "image/png"


def test_dropping_a_file_on_the_drop_zone_uploads_it(page, live_server):
    page.goto("/")
    page.evaluate("""() => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array([1, 2, 3])], "dropped.gif", {type: "image/gif"}));
        document.getElementById("dropzone").dispatchEvent(
            new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
    }""")
    expect(page.locator("#uploads li .upload-status")).to_have_text("Added")
    assert [a["name"] for a in live_server.assets()] == ["dropped.gif"]


def test_a_rejected_file_type_gets_a_clear_message(page, live_server, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not media")
    page.goto("/")
    page.get_by_label("Choose files…").set_input_files(str(notes))
    expect(page.locator("#uploads li [role=alert]")).to_have_text(
        "“notes.txt” is not an image or video, so it cannot be added.")
    assert live_server.assets() == []


def test_cancelling_an_upload_stops_it_and_adds_nothing(page, live_server, tmp_path):
    held = []
    page.route("**/api/v2/file_asset", lambda route: held.append(route))
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * 6_000_000)
    page.goto("/")
    page.get_by_label("Choose files…").set_input_files(str(big))
    page.get_by_role("button", name="Cancel upload of big.mp4").click()
    expect(page.locator("#uploads li .upload-status")).to_have_text("Cancelled")
    assert len(held) == 1  # the second chunk was never sent
    assert live_server.assets() == []


def test_editing_an_asset_changes_its_fields_and_schedule(page, live_server):
    add_via_api(live_server, "Menu")
    page.goto("/")
    page.get_by_role("button", name="Edit Menu").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name", exact=True).fill("Lunch menu")
    dialog.get_by_label("Duration (seconds)").fill("45")
    dialog.get_by_label("Sat").uncheck()
    dialog.get_by_label("Sun").uncheck()
    dialog.get_by_label("Daily from").fill("00:00")
    dialog.get_by_label("Daily until").fill("23:59")
    dialog.get_by_label("Refresh every (seconds, 0 = never)").fill("60")
    dialog.get_by_label("Do not cache").check()
    dialog.get_by_label("Custom HTTP headers").fill("X-Token: abc")
    screenshot(page, "edit-dialog-desktop")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(".name", has_text="Lunch menu")).to_be_visible()
    [asset] = live_server.assets()
    assert asset["name"] == "Lunch menu" and asset["duration"] == 45
    assert asset["play_days"] == [1, 2, 3, 4, 5]
    assert (asset["play_time_from"], asset["play_time_to"]) == ("00:00:00", "23:59:00")
    assert asset["refresh_interval_s"] == 60 and asset["nocache"] is True
    assert asset["custom_headers"] == {"X-Token": "abc"}


def test_the_server_refusal_of_an_edit_is_shown_in_the_dialog(page, live_server):
    add_via_api(live_server, "Menu")
    page.goto("/")
    page.get_by_role("button", name="Edit Menu").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Refresh every (seconds, 0 = never)").evaluate(
        "el => { el.removeAttribute('max'); el.value = '999999'; }")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("alert")).to_contain_text("refresh")
    assert live_server.assets()[0]["refresh_interval_s"] == 0


def test_the_toggle_switches_an_asset_off_and_on(page, live_server):
    add_via_api(live_server, "Clock")
    page.goto("/")
    page.get_by_label("Enabled: Clock").uncheck()
    expect(page.locator("#inactive-list .name")).to_have_text(["Clock"])
    assert live_server.assets()[0]["is_enabled"] is False
    page.get_by_label("Enabled: Clock").check()
    expect(page.locator("#active-list .name")).to_have_text(["Clock"])
    assert live_server.assets()[0]["is_enabled"] is True


def test_dragging_a_row_reorders_the_playlist(page, live_server):
    for name in ("A", "B", "C"):
        add_via_api(live_server, name)
    live_server.api("POST", "/api/v2/assets/order",
                    {"ids": ",".join(a["asset_id"] for a in sorted(
                        live_server.assets(), key=lambda a: a["name"]))})
    page.goto("/")
    rows = page.locator("#active-list li")
    expect(rows.locator(".name")).to_have_text(["A", "B", "C"])
    rows.nth(2).drag_to(rows.nth(0), target_position={"x": 20, "y": 5})
    expect(rows.locator(".name")).to_have_text(["C", "A", "B"])
    expect(page.locator("#toast")).to_contain_text("Playing order saved")
    assert active_names(live_server) == ["C", "A", "B"]


def test_the_move_buttons_reorder_from_the_keyboard(page, live_server):
    for name in ("A", "B"):
        add_via_api(live_server, name)
    live_server.api("POST", "/api/v2/assets/order", {"ids": ",".join(
        a["asset_id"] for a in sorted(live_server.assets(), key=lambda a: a["name"]))})
    page.goto("/")
    page.get_by_role("button", name="Move down A").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#active-list .name")).to_have_text(["B", "A"])
    assert active_names(live_server) == ["B", "A"]
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused.endswith(" A")


def test_deleting_asks_first_and_then_removes_the_asset(page, live_server):
    add_via_api(live_server, "Old")
    page.goto("/")
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Delete Old").click()
    expect(page.locator("#active-list .name")).to_have_text(["Old"])
    assert len(live_server.assets()) == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete Old").click()
    expect(page.locator("#active-empty")).to_be_visible()
    assert live_server.assets() == []


def test_preview_and_download_use_the_assets_content(page, live_server, tmp_path):
    page.goto("/")
    page.get_by_label("Choose files…").set_input_files(str(tiny_png(tmp_path / "red.png")))
    expect(page.locator("#uploads .upload-status")).to_have_text("Added")
    page.get_by_role("button", name="Preview red.png").click()
    image = page.get_by_role("dialog").get_by_role("img", name="red.png")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") == 2
    page.get_by_role("button", name="Close").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download red.png").click()
    saved = tmp_path / "downloaded.png"
    download.value.save_as(saved)
    assert saved.read_bytes() == (tmp_path / "red.png").read_bytes()


def test_previous_and_next_drive_the_player(page, live_server, viewer):
    page.goto("/")
    page.get_by_role("button", name="Next ▶").click()
    expect(page.locator("#toast")).to_contain_text("show the next asset")
    assert viewer.receive(timeout_s=2).command == "next"
    page.get_by_role("button", name="◀ Previous").click()
    assert viewer.receive(timeout_s=2).command == "previous"


def test_changes_made_by_someone_else_appear_without_a_reload(page, live_server):
    page.goto("/")
    expect(page.locator("#active-empty")).to_be_visible()
    add_via_api(live_server, "From a script")
    expect(page.locator("#active-list .name")).to_have_text(["From a script"], timeout=8000)


@pytest.mark.parametrize("path", ["/", "/settings", "/system-info"])
def test_every_page_fits_a_phone_screen(phone, live_server, path):
    add_via_api(live_server, "A rather long asset name that has to wrap on a narrow phone")
    phone.goto(path)
    phone.wait_for_load_state("networkidle")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    name = {"/": "assets", "/settings": "settings", "/system-info": "system"}[path]
    screenshot(phone, f"{name}-phone")


def test_an_asset_can_be_added_and_switched_off_on_a_phone(phone, live_server):
    phone.goto("/")
    phone.get_by_label("Web address (URL)").fill(f"{live_server.url}/splash-page")
    phone.get_by_role("button", name="Add URL").click()
    row_name = f"{live_server.url}/splash-page"
    expect(phone.locator("#active-list .name")).to_have_text([row_name])
    toggle = phone.get_by_label(f"Enabled: {row_name}")
    toggle.uncheck()
    expect(phone.locator("#inactive-list .name")).to_have_text([row_name])
    assert live_server.assets()[0]["is_enabled"] is False
