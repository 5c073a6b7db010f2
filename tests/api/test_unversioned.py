"""Routes outside the versioned API: splash page, API docs redirect, static files
(docs/legacy-api.md §3.17)."""

from __future__ import annotations

import pytest

from anthias_edge.api.unversioned import wifi_join_code
from tests.helpers import basic


@pytest.fixture
def auth_client(client):
    """A client of a device with Basic auth on (admin / pw)."""
    response = client.patch("/api/v2/device_settings", json={
        "auth_backend": "auth_basic", "username": "admin", "password": "pw", "password_2": "pw"})
    assert response.status_code == 200
    return client


def listen_on_every_address(client, port: int = 80) -> None:
    """The server listens beyond loopback, so its addresses open the dashboard elsewhere."""
    client.application.extensions["anthias"].settings.update(
        {"listen": f"[::]:{port}"}, host_level=True)


def test_the_splash_page_lists_the_device_addresses_as_links(client, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.10 2001:db8::7")
    listen_on_every_address(client)
    response = client.get("/splash-page")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "point your browser to" in page
    assert 'href="http://192.0.2.10"' in page
    assert 'href="http://[2001:db8::7]"' in page


def test_the_splash_page_links_carry_the_port_the_server_listens_on(client, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.10")
    listen_on_every_address(client, 8080)
    assert 'href="http://192.0.2.10:8080"' in client.get("/splash-page").get_data(as_text=True)


def test_the_splash_page_says_when_the_server_listens_only_on_loopback(client, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.10")
    page = client.get("/splash-page").get_data(as_text=True)
    assert "listens only on 127.0.0.1:8080" in page
    assert "http://192.0.2.10" not in page


def test_the_splash_page_says_so_when_no_address_is_known(client, monkeypatch):
    monkeypatch.setenv("MY_IP", "127.0.0.1")
    listen_on_every_address(client)
    response = client.get("/splash-page")
    assert response.status_code == 200
    assert "Unable to retrieve IP." in response.get_data(as_text=True)


def test_the_splash_page_is_open_even_with_auth_on(auth_client, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.10")
    listen_on_every_address(auth_client)
    assert auth_client.get("/api/v2/assets").status_code == 401
    response = auth_client.get("/splash-page")
    assert response.status_code == 200
    assert "http://192.0.2.10" in response.get_data(as_text=True)


def test_posting_to_the_splash_page_is_405_with_an_allow_header(client):
    response = client.post("/splash-page")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "POST" not in response.headers["Allow"]


def test_api_docs_without_a_slash_redirects_permanently(client):
    response = client.get("/api/docs")
    assert response.status_code == 301
    assert response.headers["Location"] == "/api/docs/"


def test_a_missing_static_file_is_the_html_404(client):
    with client.get("/static/nothing-here.tar.gz") as response:
        assert response.status_code == 404
        assert "<title>Not Found</title>" in response.get_data(as_text=True)


def test_a_backup_download_with_wrong_credentials_is_refused(auth_client):
    name = auth_client.post("/api/v2/backup", headers=basic("admin", "pw")).get_json()
    with auth_client.get(f"/static_with_mime/{name}", headers=basic("admin", "no")) as response:
        assert response.status_code == 401
    with auth_client.get(f"/static_with_mime/{name}", headers=basic("admin", "pw")) as response:
        assert response.status_code == 200
        assert response.data[:2] == b"\x1f\x8b"


def test_the_hotspot_page_shows_the_network_password_address_and_a_join_code(auth_client):
    response = auth_client.get("/hotspot", query_string={
        "network": "<b>Café & Co</b>", "ssid_pswd": "s3cret pass", "address": "192.168.42.1"})

    assert response.status_code == 200  # open like the splash page: the screen has no password
    page = response.get_data(as_text=True)
    assert "&lt;b&gt;Café &amp; Co&lt;/b&gt;" in page and "<b>Café" not in page
    assert "s3cret pass" in page and "192.168.42.1" in page
    assert 'aria-label="QR code that joins the Wi-Fi network' in page and "<svg" in page


def test_the_hotspot_page_without_details_gives_general_steps_and_no_code(client):
    page = client.get("/hotspot").get_data(as_text=True)
    assert "this screen's Wi-Fi hotspot" in page and "<svg" not in page


@pytest.mark.parametrize(("field", "limit"), [("network", 32), ("ssid_pswd", 63),
                                              ("address", 253)])
def test_an_overlong_hotspot_field_is_a_400_that_names_it(client, field, limit):
    response = client.get("/hotspot", query_string={field: "x" * (limit + 1)})
    assert response.status_code == 400
    assert f"{field} is longer than {limit} characters." in response.get_data(as_text=True)
    assert client.get("/hotspot", query_string={field: "x" * limit}).status_code == 200


@pytest.mark.parametrize(("network", "password", "code"), [
    ("Anthias Setup", "", "WIFI:T:nopass;S:Anthias Setup;;"),
    ("My;Net", 'a:b"c\\d,e', 'WIFI:T:WPA;S:My\\;Net;P:a\\:b\\"c\\\\d\\,e;;'),
])
def test_the_wifi_join_code_escapes_the_reserved_characters(network, password, code):
    assert wifi_join_code(network, password) == code


def test_behind_a_reverse_proxy_the_splash_page_points_to_the_proxy(client, monkeypatch):
    monkeypatch.setenv("MY_IP", "192.0.2.10")
    client.application.extensions["anthias"].settings.update(
        {"trusted_proxies": "127.0.0.1"}, host_level=True)
    page = client.get("/splash-page").get_data(as_text=True)
    assert "through the reverse proxy in front of Anthias Edge" in page
    assert "cannot be opened from another machine" not in page
