"""The Content page in a real browser: what each role sees, and an editor's whole day."""

from __future__ import annotations

import itertools
import re
import struct
import uuid
import zlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from anthias_edge.models import Asset
from anthias_edge.permissions import ROLES
from tests.web.console.helpers import PHONE, ConsoleServer, save_screenshots, sign_in, username

pytestmark = pytest.mark.postgres

ALL_PAGES = ["Content", "Sharing", "Screens", "People", "API tokens", "Activity",
             "Organisation", "Billing"]
PAGES = {"owner": ALL_PAGES, "admin": ALL_PAGES,
         "editor": ["Content", "Sharing", "Screens", "Organisation"],
         "viewer": ["Content", "Sharing", "Screens", "Organisation"]}
CHANGES_CONTENT = {"owner": True, "admin": True, "editor": True, "viewer": False}
_serial = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other test uses (the server lives for the whole session)."""
    return f"{prefix} {next(_serial)}-{uuid.uuid4().hex[:6]}"


def png(path: Path, padding: int = 0) -> Path:
    """A real 2x2 PNG, followed by ``padding`` bytes after its end (which viewers ignore)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    pixels = b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2,
                                                                      0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(pixels)) + chunk(b"IEND", b"")
                     + b"\x00" * padding)
    return path


def row(page, name: str):
    """The list entry of the asset called ``name``."""
    return page.locator(".asset").filter(has=page.get_by_role("heading", name=name, exact=True))


def settled(page) -> None:
    """Wait until the list shows what the filters ask for."""
    expect(page.locator(".asset-list")).to_have_attribute("aria-busy", "false")


def search(page, text: str) -> None:
    """Type into the search field (the list follows without a button)."""
    page.get_by_label("Search", exact=True).fill(text)
    settled(page)


def stored(server: ConsoleServer, name: str) -> Asset | None:
    with server.db():
        return Asset.get_or_none(Asset.name == name)


def mark_window(page) -> None:
    """Mark this document: a full reload would lose the mark."""
    page.evaluate("() => { window.__noReload = true; }")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("() => window.__noReload === true")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_its_pages_and_content_controls(
        console_server: ConsoleServer, console_page, role: str):
    name = unique(f"Menu board for {role}")
    console_server.add_assets("acme", [name])
    page = console_page

    sign_in(page, console_server.url("acme"), username("acme", role))
    search(page, name)
    entry = row(page, name)
    expect(entry).to_have_count(1)

    assert page.locator(".nav a").all_inner_texts() == PAGES[role]
    header_buttons = page.locator(".page-header").get_by_role("button").all_inner_texts()
    if CHANGES_CONTENT[role]:
        assert header_buttons == ["Add web page", "Upload image or video"]
        assert entry.get_by_role("button").all_inner_texts() == ["Preview", "Share", "Edit",
                                                                 "Delete"]
        assert entry.get_by_role("checkbox", name="Enabled").is_checked()
    else:
        assert header_buttons == []
        # Share shows the code when there is one; creating one is the editor's (qr.create).
        assert entry.get_by_role("button").all_inner_texts() == ["Preview", "Share"]
        assert entry.get_by_role("checkbox").count() == 0


def test_an_editor_adds_edits_disables_and_deletes_a_web_page(console_server: ConsoleServer,
                                                               console_page):
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "editor"))
    mark_window(page)
    name = unique("Opening hours")

    page.locator(".page-header").get_by_role("button", name="Add web page").click()
    dialog = page.get_by_role("dialog", name="Add a web page")
    dialog.get_by_label("Name", exact=True).fill(name)
    dialog.get_by_label("Address (URL)").fill("https://example.com/hours")
    dialog.get_by_label("Add it even if the address does not answer now").check()
    dialog.get_by_label("From", exact=True).fill("09:00")  # an opening time without a closing time
    dialog.get_by_role("button", name="Add web page").click()
    # The API's message appears next to the field it is about.
    opening = page.get_by_label("From", exact=True)  # "has" locators are relative
    field_error = dialog.locator(".field", has=opening).locator(".field-error")
    expect(field_error).to_contain_text("must be set together")
    dialog.get_by_label("Until", exact=True).fill("17:30")
    dialog.get_by_role("button", name="Add web page").click()

    expect(dialog).to_have_count(0)
    entry = row(page, name)
    expect(entry).to_contain_text("Web page")
    expect(entry).to_contain_text("09:00\u201317:30")
    assert stored(console_server, name).play_time_from == "09:00:00"

    entry.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog", name=f"Edit “{name}”")
    new_name = f"{name} (weekdays)"
    dialog.get_by_label("Name", exact=True).fill(new_name)
    dialog.get_by_label("Duration in seconds").fill("25")
    dialog.get_by_label("Sat").uncheck()
    dialog.get_by_label("Sun").uncheck()
    dialog.get_by_label("Tags", exact=True).fill("lobby, promo")
    dialog.get_by_role("button", name="Save changes").click()

    expect(dialog).to_have_count(0)
    entry = row(page, new_name)
    expect(entry).to_contain_text("25 s")
    expect(entry).to_contain_text("Mon, Tue, Wed, Thu, Fri")
    expect(entry.locator(".tag")).to_have_text(["lobby", "promo"])
    saved = stored(console_server, new_name)
    assert (saved.duration, saved.play_days, saved.tags) == (25, [1, 2, 3, 4, 5],
                                                             ["lobby", "promo"])

    entry.get_by_role("checkbox", name="Enabled").uncheck()
    expect(entry).to_contain_text("Disabled")
    assert stored(console_server, new_name).is_enabled is False

    entry.get_by_role("button", name="Delete").click()
    confirm = page.get_by_role("dialog")
    expect(confirm).to_contain_text(f"Delete “{new_name}”?")
    confirm.get_by_role("button", name="Delete").click()

    expect(row(page, new_name)).to_have_count(0)
    assert stored(console_server, new_name) is None
    assert_not_reloaded(page)


def test_a_delete_can_be_cancelled(console_server: ConsoleServer, console_page):
    name = unique("Keep me")
    console_server.add_assets("acme", [name])
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "editor"))
    search(page, name)

    row(page, name).get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(row(page, name)).to_have_count(1)
    assert stored(console_server, name) is not None


def test_an_upload_shows_its_progress_then_the_new_image(console_server: ConsoleServer,
                                                         console_page, tmp_path: Path):
    name = unique("Poster")
    # Two chunks (5,000,000 bytes each at most): the second is held to see the bar half-way.
    picture = png(tmp_path / f"{name}.png", padding=6_000_000)
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "editor"))
    held = []
    chunks = []

    def hold_second(route):
        chunks.append(route.request.headers.get("content-range"))
        if len(chunks) == 2:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/v3/uploads", hold_second)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload image or video").click()
    chooser.value.set_files(str(picture))

    panel = page.locator(".upload-panel")
    expect(panel).to_contain_text(f"Uploading “{name}.png”")
    # 5,000,000 of 6,000,0xx bytes stored; the held chunk may count as sent, never as stored.
    expect(panel.locator(".upload-percent")).to_have_text(re.compile(r"^(8[3-9]|9[0-9]) %$"))
    assert 83 <= panel.get_by_role("progressbar").evaluate("bar => bar.value") <= 99
    expect(panel).to_contain_text("Uploading")
    held[0].continue_()

    entry = row(page, name)
    expect(entry).to_contain_text("Image")
    expect(panel).to_have_count(0)
    assert chunks[0].startswith("bytes 0-4999999/")
    assert stored(console_server, name).mimetype == "image"

    entry.get_by_role("button", name="Preview").click()
    image = page.get_by_role("dialog").get_by_role("img", name=name)
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 2


def test_an_uploaded_video_gets_its_measured_length(console_server: ConsoleServer,
                                                    console_page, video_file: Path):
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "editor"))
    clip = video_file.with_name(f"{unique('Clip')}.mp4")
    video_file.rename(clip)

    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload image or video").click()
    chooser.value.set_files(str(clip))

    entry = row(page, clip.stem)
    expect(entry).to_contain_text("Video")
    expect(entry).to_contain_text("2 s")
    assert stored(console_server, clip.stem).duration == 2


def test_search_type_and_tag_filters_and_paging(console_server: ConsoleServer, console_page):
    prefix = unique("Menu")
    console_server.add_assets("acme", [f"{prefix} {n:02d}" for n in range(1, 31)])
    console_server.add_assets("acme", [f"{prefix} breakfast"], tags=["breakfast"])
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "viewer"))
    mark_window(page)

    search(page, prefix)
    expect(page.locator(".asset")).to_have_count(25)
    expect(page.get_by_role("status").filter(has_text="Showing")).to_have_text(
        "Showing the first 25.")
    page.get_by_role("button", name="Show more").click()
    settled(page)
    expect(page.locator(".asset")).to_have_count(31)
    expect(page.get_by_role("button", name="Show more")).to_have_count(0)

    page.get_by_label("Tag", exact=True).fill("breakfast")
    page.get_by_label("Tag", exact=True).press("Enter")
    settled(page)
    expect(page.locator(".asset")).to_have_count(1)
    expect(row(page, f"{prefix} breakfast")).to_have_count(1)

    page.get_by_label("Type", exact=True).select_option(label="Videos")
    settled(page)
    expect(page.locator(".asset")).to_have_count(0)
    expect(page.locator(".empty-state")).to_contain_text("Nothing matches these filters.")
    page.get_by_role("button", name="Clear filters").click()
    expect(page.get_by_label("Search", exact=True)).to_have_value("")
    assert_not_reloaded(page)


def test_dates_show_in_the_users_time_zone(console_server: ConsoleServer, open_console):
    name = unique("Lunch special")
    console_server.add_assets("acme", [name], start_date="2030-01-15T10:00:00Z",
                              end_date="2030-01-20T16:30:00Z")
    page = open_console(timezone="Asia/Jakarta")  # UTC+7
    sign_in(page, console_server.url("acme"), username("acme", "viewer"))
    search(page, name)

    expect(row(page, name).locator(".schedule")).to_contain_text(
        "15 Jan 2030, 17:00 \u2013 20 Jan 2030, 23:30")


def test_an_empty_library_says_what_to_do(console_server: ConsoleServer, console_page):
    page = console_page
    sign_in(page, console_server.url("globex"), username("globex", "editor"))

    expect(page.locator(".empty-state")).to_contain_text("No content yet.")
    page.locator(".empty-state").get_by_role("button", name="Add web page").click()
    expect(page.get_by_role("dialog", name="Add a web page")).to_be_visible()


def test_screenshots_of_the_content_page(console_server: ConsoleServer, console_page):
    console_server.add_assets("acme", [unique("Welcome screen")], tags=["lobby"],
                              start_date="2026-01-01T00:00:00Z",
                              end_date="2099-01-01T00:00:00Z")
    console_server.add_assets("acme", [unique("Evening menu")], play_days=[1, 2, 3, 4, 5],
                              play_time_from="17:00:00", play_time_to="22:00:00",
                              start_date="2026-01-01T00:00:00Z",
                              end_date="2099-01-01T00:00:00Z", is_enabled=False)
    page = console_page
    sign_in(page, console_server.url("acme"), username("acme", "owner"))
    expect(page.locator(".asset").first).to_be_visible()
    # No markup carries a style attribute (Playwright's screenshots add some of their own).
    assert page.locator("[style]").count() == 0

    saved = save_screenshots(page, "content")
    page.locator(".asset").first.get_by_role("button", name="Edit").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    saved += save_screenshots(page, "content-edit")

    assert all(path.stat().st_size > 0 for path in saved)


def test_on_a_phone_the_pages_are_behind_the_menu_button(console_server: ConsoleServer,
                                                         open_console):
    page = open_console(viewport=PHONE)
    sign_in(page, console_server.url("acme"), username("acme", "admin"))
    nav_link = page.locator(".nav").get_by_role("link", name="Organisation")
    expect(nav_link).to_be_hidden()

    page.get_by_role("button", name="Menu", exact=True).click()
    nav_link.click()

    expect(page.locator('.page[data-page="organisation"]')).to_be_visible()
    expect(nav_link).to_be_hidden()  # the menu closes once a page is chosen
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
