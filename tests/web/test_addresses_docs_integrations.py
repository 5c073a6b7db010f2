"""The address people are told, the API docs with no network, the Integrations page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.web.conftest import screenshot

TALL_PHONE = {"width": 390, "height": 844}


def listen_on(live_server, listen: str) -> None:
    """Set the ``listen`` setting, as screenly.conf or ANTHIAS_LISTEN would."""
    live_server.app.extensions["anthias"].settings.update({"listen": listen}, host_level=True)


def qr_path(url: str) -> str:
    """The path data of the QR code that opens ``url``, made as the splash page makes it."""
    import qrcode
    import qrcode.image.svg

    svg = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage).to_string(
        encoding="unicode")
    return re.search(r' d="([^"]+)"', svg).group(1)


def test_the_splash_page_gives_the_address_with_the_port_the_server_listens_on(
        page, live_server, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.2")
    listen_on(live_server, "0.0.0.0:8080")
    page.goto("/splash-page")
    link = page.get_by_role("link", name="http://192.0.2.2:8080")
    expect(link).to_be_visible()
    expect(link).to_have_attribute("href", "http://192.0.2.2:8080")
    qr = page.get_by_role("img", name="QR code that opens http://192.0.2.2:8080")
    expect(qr).to_be_visible()
    assert qr.locator("path").get_attribute("d") == qr_path("http://192.0.2.2:8080/")
    screenshot(page, "splash-port-desktop")
    page.set_viewport_size(TALL_PHONE)
    screenshot(page, "splash-port-phone")


def test_port_80_is_left_out_of_the_address(page, live_server, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.2")
    listen_on(live_server, "0.0.0.0:80")
    page.goto("/splash-page")
    expect(page.get_by_role("link", name="http://192.0.2.2", exact=True)).to_be_visible()


def test_the_splash_page_says_so_when_the_server_only_listens_on_loopback(
        page, live_server, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.2")
    listen_on(live_server, "127.0.0.1:8080")
    page.goto("/splash-page")
    expect(page.get_by_text(re.compile(r"listens only on 127\.0\.0\.1:8080"))).to_be_visible()
    # An address that cannot open the dashboard is not offered as a link or a QR code.
    expect(page.get_by_role("link", name=re.compile("192.0.2.2"))).to_have_count(0)
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_have_count(0)
    screenshot(page, "splash-loopback-desktop")


def test_the_system_page_gives_the_addresses_with_the_port(phone, live_server, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.2 2001:db8::7")
    listen_on(live_server, "[::]:8080")
    phone.goto("/system-info")
    addresses = phone.locator("#facts dt:has-text('Addresses') + dd")
    expect(addresses).to_have_text("http://192.0.2.2:8080, http://[2001:db8::7]:8080")
    expect(addresses.get_by_role("link", name="http://192.0.2.2:8080")).to_be_visible()
    phone.set_viewport_size(TALL_PHONE)
    screenshot(phone, "system-addresses-phone")


def test_the_system_page_says_so_when_the_server_only_listens_on_loopback(
        page, live_server, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.2")
    listen_on(live_server, "127.0.0.1:8080")
    page.goto("/system-info")
    addresses = page.locator("#facts dt:has-text('Addresses') + dd")
    expect(addresses).to_contain_text("listens only on 127.0.0.1:8080")
    expect(addresses).not_to_contain_text("http://192.0.2.2")
    screenshot(page, "system-loopback-desktop")


def test_the_api_docs_render_with_no_network(page, live_server):
    outside: list[str] = []

    def offline(route):
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlsplit(url).hostname in ("127.0.0.1",
                                                                              "localhost"):
            route.continue_()
        else:
            outside.append(url)
            route.abort("internetdisconnected")

    page.context.route("**/*", offline)
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name=re.compile("Anthias API"))).to_be_visible(
        timeout=20_000)
    expect(page.get_by_text("/api/v2/assets", exact=False).first).to_be_attached()
    page.wait_for_load_state("networkidle")
    assert outside == []
    screenshot(page, "api-docs-offline-desktop")


def test_the_integrations_page_shows_what_the_api_reports(page, live_server, monkeypatch):
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Integrations").click()
    expect(page).to_have_url(f"{live_server.url}/integrations")
    expect(page.get_by_role("heading", name="Integrations", exact=True)).to_be_visible()
    expect(page.locator("#integrations")).to_contain_text("Not running on balena")
    screenshot(page, "integrations-desktop")
    monkeypatch.setenv("BALENA_DEVICE_UUID", "5f3c0ffee")
    monkeypatch.setenv("BALENA_APP_NAME", "lobby-screens")
    page.reload()
    facts = page.locator("#integrations")
    expect(facts.locator("dt:has-text('Device ID') + dd")).to_have_text("5f3c0ffee")
    expect(facts.locator("dt:has-text('Application name') + dd")).to_have_text("lobby-screens")
    expect(facts.locator("dt:has-text('Supervisor version') + dd")).to_have_text("Not known")
    page.set_viewport_size(TALL_PHONE)
    screenshot(page, "integrations-phone")
