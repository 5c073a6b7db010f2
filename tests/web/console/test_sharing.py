"""The console's Sharing page and Share dialog (issue 13), per role, in real Chromium.

Codes on screen and downloaded PNGs are decoded with zxing-cpp and must give the exact
landing link v3 reports; scans are real visits of /q/<code> on the tenant's host.
"""

from __future__ import annotations

import io
import re
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from anthias_edge.models import QRContent
from anthias_edge.services.qr_content import QRContentService
from tests.web.console.accessibility import assert_accessible
from tests.web.console.helpers import (
    BASE_DOMAIN,
    PHONE,
    ConsoleServer,
    save_screenshots,
    sign_in,
    username,
)
from tests.web.console.signed_in import (
    assert_not_reloaded,
    go,
    new_tenant,
    open_page,
    unique,
)

pytestmark = pytest.mark.postgres

CODE = re.compile(r"/q/(QR[0-9A-F]{16})$")


def decode(png: bytes) -> list[str]:
    """The texts of every QR code zxing-cpp finds in a PNG."""
    image = Image.open(io.BytesIO(png)).convert("L")
    return [code.text for code in zxingcpp.read_barcodes(
        image, formats=zxingcpp.BarcodeFormat.QRCode)]


def shared(server: ConsoleServer, tenant: str, title: str, **values: Any) -> QRContent:
    """A web-page asset of ``tenant`` named ``title`` and a QR content of it."""
    [asset_id] = server.add_assets(tenant, [title])
    with server.db():
        return QRContentService(server.tenant_ids[tenant], actor="test").create(
            asset_id, title=title, **values)


def scan(server: ConsoleServer, tenant: str, code: str) -> int:
    """Open ``code``'s landing page on the tenant's host, as a phone would; the status."""
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/q/{code}",
                                     headers={"Host": f"{tenant}.{BASE_DOMAIN}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def stored(server: ConsoleServer, code: str) -> QRContent:
    """The row as it is now."""
    with server.db():
        return QRContent.get(QRContent.qr_code == code)


def row_of(page: Any, code: str) -> Any:
    return page.locator(f'.share-list li[data-code="{code}"]')


def content_page(open_console: Any, server: ConsoleServer, user: str, **tab: Any) -> Any:
    """A new tab signed in as ``user`` on acme's address, on the Content page (the first)."""
    page = open_console(**tab)
    sign_in(page, server.url("acme"), user)
    page.locator('.page[data-page="content"] .asset-list[aria-busy="false"]').wait_for()
    page.evaluate("() => { window.__sameDocument = true; }")
    return page


def wait_for_code(page: Any) -> str:
    """Wait until the Share dialog draws its code; answer the link it shows."""
    dialog = page.locator("dialog[open]").last
    page.wait_for_function(
        "() => { const i = document.querySelector('dialog[open] .share-image');"
        " return i && i.complete && i.naturalWidth > 0; }")
    return dialog.get_by_label("Link").input_value()


def test_a_viewer_sees_shared_content_and_scans_but_no_create_or_deactivate(
        console_server: ConsoleServer, open_console):
    title = unique("Lobby notice")
    qr = shared(console_server, "acme", title)
    for _ in range(3):
        assert scan(console_server, "acme", qr.qr_code) == 200
    page = open_page(open_console, console_server, username("acme", "viewer"), "sharing")

    row = row_of(page, qr.qr_code)
    expect(row.locator(".asset-name")).to_have_text(title)
    expect(row.locator(".share-scans")).to_have_text(re.compile(r"^3 scans, last "))
    expect(page.get_by_role("button", name="Share content")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Deactivate"))).to_have_count(0)

    row.get_by_role("button", name=f"Show code of “{title}”").click()
    link = wait_for_code(page)
    # The tenant's own address, never the server's or another tenant's.
    assert re.fullmatch(rf"https?://acme\.{re.escape(BASE_DOMAIN)}(:\d+)?/q/{qr.qr_code}", link)
    assert decode(page.locator("dialog[open] .share-image").screenshot()) == [link]
    dialog = page.locator("dialog[open]")
    expect(dialog.get_by_label("Stop sharing on", exact=True)).to_have_count(0)
    expect(dialog.get_by_role("button", name="Deactivate")).to_have_count(0)
    assert_accessible(page, "the Share dialog of a viewer")
    assert_not_reloaded(page)


def test_an_editor_shares_content_from_the_sharing_page(console_server: ConsoleServer,
                                                        open_console, tmp_path):
    title = unique("Opening hours")
    [asset_id] = console_server.add_assets("acme", [title])
    editor = username("acme", "editor")
    page = open_page(open_console, console_server, editor, "sharing")

    page.get_by_role("button", name="Share content").first.click()
    page.get_by_label("Find content").fill(title)
    page.get_by_role("button", name=title, exact=True).click()
    page.get_by_role("button", name="Share with a QR code").click()
    link = wait_for_code(page)
    code = CODE.search(link).group(1)
    row = stored(console_server, code)
    assert row.asset_id == asset_id and row.is_active and row.title == title
    assert decode(page.locator("dialog[open] .share-image").screenshot()) == [link]

    with page.expect_download() as download:
        page.locator("dialog[open]").get_by_role("button", name="Download PNG").click()
    assert decode(Path(download.value.path()).read_bytes()) == [link]
    with page.expect_download() as svg:
        page.locator("dialog[open]").get_by_role("button", name="Download SVG").click()
    assert "<svg" in Path(svg.value.path()).read_text(encoding="utf-8")
    save_screenshots(page, "sharing-dialog")
    page.locator("dialog[open]").get_by_role("button", name="Close").first.click()

    listed = row_of(page, code)
    expect(listed.locator(".asset-name")).to_have_text(title)
    expect(listed.locator(".share-scans")).to_have_text("0 scans")
    listed.get_by_role("button", name=f"Deactivate “{title}”").click()
    page.locator("dialog.confirm").get_by_role("button", name="Deactivate").click()
    expect(listed.locator(".status")).to_have_text("Deactivated")
    assert stored(console_server, code).is_active is False
    assert scan(console_server, "acme", code) == 410
    assert_not_reloaded(page)


def test_the_share_dialog_sets_and_clears_an_expiry(console_server: ConsoleServer,
                                                    open_console):
    title = unique("Autumn offer")
    qr = shared(console_server, "acme", title)
    page = open_page(open_console, console_server, username("acme", "editor"), "sharing")
    row_of(page, qr.qr_code).get_by_role("button", name=f"Show code of “{title}”").click()
    wait_for_code(page)
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Stop sharing on", exact=True).fill("2099-03-04T15:30")
    dialog.get_by_role("button", name="Save date").click()
    expect(dialog.locator(".status")).to_have_text(re.compile(r"^Active until 4 Mar 2099"))
    assert stored(console_server, qr.qr_code).expires_at.isoformat().startswith("2099-03-04T15:30")
    dialog.get_by_role("button", name="No expiry").click()
    expect(dialog.locator(".status")).to_have_text("Active, no expiry")
    assert stored(console_server, qr.qr_code).expires_at is None
    # The list behind the dialog follows.
    dialog.get_by_role("button", name="Close").first.click()
    expect(row_of(page, qr.qr_code).locator(".status")).to_have_text("Active, no expiry")


def test_the_content_pages_share_button_per_role(console_server: ConsoleServer, open_console):
    title = unique("Gallery")
    console_server.add_assets("acme", [title])
    viewer = content_page(open_console, console_server, username("acme", "viewer"))
    viewer.get_by_label("Search").fill(title)
    viewer.get_by_role("button", name=f"Share “{title}”").click()
    expect(viewer.locator("dialog[open]")).to_contain_text("This content is not shared.")
    expect(viewer.get_by_role("button", name="Share with a QR code")).to_have_count(0)

    editor = content_page(open_console, console_server, username("acme", "editor"))
    editor.get_by_label("Search").fill(title)
    editor.get_by_role("button", name=f"Share “{title}”").click()
    editor.get_by_role("button", name="Share with a QR code").click()
    link = wait_for_code(editor)
    assert decode(editor.locator("dialog[open] .share-image").screenshot()) == [link]
    assert_accessible(editor, "the Share dialog of an editor")

    # Shared now: the viewer's dialog shows the same code, read-only.
    viewer.locator("dialog[open]").get_by_role("button", name="Close").click()
    viewer.get_by_role("button", name=f"Share “{title}”").click()
    assert wait_for_code(viewer) == link
    assert_not_reloaded(editor)


def test_one_tenant_never_sees_anothers_shared_content(console_server: ConsoleServer,
                                                       open_console):
    # Another tenant of this test's own: globex's library stays empty for the tests of an
    # empty library, whatever order the tests run in.
    other, _owner = new_tenant(console_server, prefix="sharingother")
    theirs = shared(console_server, other, unique("Other secret"))
    mine = shared(console_server, "acme", unique("Acme notice"))
    page = open_page(open_console, console_server, username("acme", "owner"), "sharing")
    expect(row_of(page, mine.qr_code)).to_have_count(1)
    expect(row_of(page, theirs.qr_code)).to_have_count(0)
    page.get_by_label("Search").fill(theirs.qr_code)
    expect(page.locator(".share-list .empty-state")).to_contain_text("Nothing matches")
    assert theirs.title not in page.content()


def test_status_filter_and_sharing_page_screenshots(console_server: ConsoleServer,
                                                    open_console):
    live = shared(console_server, "acme", unique("Live code"))
    stopped = shared(console_server, "acme", unique("Stopped code"))
    with console_server.db():
        QRContentService(console_server.tenant_ids["acme"]).deactivate(stopped.qr_code)
    page = open_page(open_console, console_server, username("acme", "owner"), "sharing")
    page.get_by_label("Status").select_option("inactive")
    expect(row_of(page, stopped.qr_code)).to_have_count(1)
    expect(row_of(page, live.qr_code)).to_have_count(0)
    page.get_by_label("Status").select_option("live")
    expect(row_of(page, live.qr_code)).to_have_count(1)
    expect(row_of(page, stopped.qr_code)).to_have_count(0)
    assert_accessible(page, "the Sharing page")
    page.get_by_label("Status").select_option("")
    expect(row_of(page, stopped.qr_code)).to_have_count(1)
    save_screenshots(page, "sharing")


def test_the_sharing_page_on_a_phone(console_server: ConsoleServer, open_console):
    qr = shared(console_server, "acme", unique("Phone code"))
    page = content_page(open_console, console_server, username("acme", "editor"),
                        viewport=PHONE)
    go(page, "sharing")
    row_of(page, qr.qr_code).get_by_role("button", name=re.compile("^Show code")).click()
    link = wait_for_code(page)
    assert decode(page.locator("dialog[open] .share-image").screenshot()) == [link]
    assert page.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
    assert_accessible(page, "the Share dialog on a phone")


def test_copy_link_works_on_a_plain_http_console(console_server: ConsoleServer, open_console):
    # http://acme.signage.test is no secure context: no Clipboard API, the selection copies.
    title = unique("Copy me")
    qr = shared(console_server, "acme", title)
    page = open_page(open_console, console_server, username("acme", "viewer"), "sharing")
    assert page.evaluate("() => window.isSecureContext") is False
    page.evaluate("""() => { window.copied = [];
      document.addEventListener('copy', () => { const el = document.activeElement;
        window.copied.push(el.value.slice(el.selectionStart, el.selectionEnd)); }); }""")
    row_of(page, qr.qr_code).get_by_role("button", name=f"Show code of “{title}”").click()
    link = wait_for_code(page)
    page.locator("dialog[open]").get_by_role("button", name="Copy link").click()
    expect(page.locator("dialog[open]").get_by_role("status")).to_have_text("Link copied.")
    assert page.evaluate("() => window.copied") == [link]


def test_the_sharing_page_shows_more_on_demand(console_server: ConsoleServer, open_console):
    tenant, owner = new_tenant(console_server, prefix="sharepages")
    titles = [f"Code {number:02d}" for number in range(27)]
    ids = console_server.add_assets(tenant, titles)
    with console_server.db():
        service = QRContentService(console_server.tenant_ids[tenant], actor="test")
        codes = [service.create(asset_id, title=title).qr_code
                 for asset_id, title in zip(ids, titles, strict=True)]
    page = open_page(open_console, console_server, owner, "sharing", tenant=tenant)
    rows = page.locator(".share-list li[data-code]")
    expect(rows).to_have_count(25)
    expect(page.get_by_role("status").first).to_have_text("Showing the first 25.")
    page.get_by_role("button", name="Show more").click()
    expect(rows).to_have_count(27)
    # Every code once: the second page neither repeats nor skips one.
    shown = rows.evaluate_all("items => items.map((li) => li.dataset.code)")
    assert sorted(shown) == sorted(codes)
    expect(page.get_by_role("button", name="Show more")).to_have_count(0)


def test_a_past_expiry_is_refused_next_to_its_field_and_nothing_is_made(
        console_server: ConsoleServer, open_console):
    title = unique("Past offer")
    [asset_id] = console_server.add_assets("acme", [title])
    page = content_page(open_console, console_server, username("acme", "editor"))
    page.get_by_label("Search").fill(title)
    page.get_by_role("button", name=f"Share “{title}”").click()
    dialog = page.locator("dialog[open]")
    dialog.get_by_label("Stop sharing on (optional)").fill("2001-01-01T10:00")
    dialog.get_by_role("button", name="Share with a QR code").click()
    expiry = dialog.get_by_label("Stop sharing on (optional)")
    expect(expiry).to_have_attribute("aria-invalid", "true")
    expect(dialog.locator(".field-error")).to_have_text("Must be in the future.")
    with console_server.db():
        assert QRContent.select().where(QRContent.asset == asset_id).count() == 0


def test_deactivating_in_the_dialog_updates_the_dialog_and_the_list(
        console_server: ConsoleServer, open_console):
    title = unique("Dialog stop")
    qr = shared(console_server, "acme", title)
    page = open_page(open_console, console_server, username("acme", "editor"), "sharing")
    row_of(page, qr.qr_code).get_by_role("button", name=f"Show code of “{title}”").click()
    wait_for_code(page)
    share_dialog = page.locator("dialog[open]").first
    share_dialog.get_by_role("button", name="Deactivate").click()
    page.locator("dialog.confirm").get_by_role("button", name="Deactivate").click()
    expect(share_dialog.locator(".status")).to_have_text("Deactivated")
    expect(share_dialog.get_by_role("button", name="Deactivate")).to_have_count(0)
    expect(share_dialog.get_by_label("Stop sharing on", exact=True)).to_have_count(0)
    assert stored(console_server, qr.qr_code).is_active is False
    share_dialog.get_by_role("button", name="Close").first.click()
    expect(row_of(page, qr.qr_code).locator(".status")).to_have_text("Deactivated")
    expect(row_of(page, qr.qr_code).get_by_role("button", name=re.compile("^Deactivate"))
           ).to_have_count(0)
