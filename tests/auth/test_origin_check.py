"""Cross-site requests: a page of another site cannot make a browser change anything here.

Each attack is sent as a browser would send it (its ``Origin`` and ``Sec-Fetch-Site`` headers,
the credentials it holds); scripts, which send neither header, keep working unchanged.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from anthias_edge.messaging import ViewerEndpoint
from tests.helpers import basic, v2_asset, viewer_commands

EVIL = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
EVIL_ORIGIN_ONLY = {"Origin": "https://evil.example"}
EVIL_FETCH_ONLY = {"Sec-Fetch-Site": "cross-site"}
ADMIN = basic("admin", "pw")
CREDENTIALS = {"auth_backend": "auth_basic", "username": "admin", "password": "pw",
               "password_2": "pw"}


def form_fields(**fields) -> dict[str, str]:
    """The v2 asset body as an HTML form on another site would post it."""
    return {key: str(value).lower() if isinstance(value, bool) else str(value)
            for key, value in v2_asset(**fields).items()}


@pytest.fixture
def reboot_marker(tmp_path: Path) -> Path:
    """A file the reboot command creates, so a test can see whether it ran."""
    return tmp_path / "rebooted"


@pytest.fixture
def environ(environ: dict[str, str], reboot_marker: Path) -> dict[str, str]:
    """The usual server environment, with a reboot command that only touches a file."""
    return {**environ, "ANTHIAS_REBOOT_COMMAND": f"touch {reboot_marker}"}


@pytest.fixture
def device(app):
    """A client of a device with Basic auth on (admin / pw)."""
    client = app.test_client()
    assert client.patch("/api/v2/device_settings", json=CREDENTIALS).status_code == 200
    return client


def _names(client) -> list[str]:
    return [asset["name"] for asset in client.get("/api/v2/assets", headers=ADMIN).get_json()]


def _assert_legacy_refusal(response) -> None:
    assert response.status_code == 403, response.get_data(as_text=True)
    assert response.content_type == "application/json"
    assert "another site" in response.get_json()["error"]


@pytest.mark.parametrize("headers", [EVIL, EVIL_ORIGIN_ONLY, EVIL_FETCH_ONLY])
def test_a_form_post_from_another_site_with_basic_credentials_creates_no_asset(device, headers):
    response = device.post("/api/v2/assets", data=form_fields(name="planted"),
                           headers={**ADMIN, **headers})
    _assert_legacy_refusal(response)
    assert _names(device) == []


def test_a_form_post_from_another_site_cannot_reboot_the_device(device, reboot_marker):
    response = device.post("/api/v2/reboot", headers={**ADMIN, **EVIL})
    _assert_legacy_refusal(response)
    time.sleep(0.3)  # the command is started without waiting; give a wrong one time to run
    assert not reboot_marker.exists()


def test_a_script_sending_neither_header_still_creates_and_reboots(device, reboot_marker):
    created = device.post("/api/v2/assets", data=form_fields(name="scripted"), headers=ADMIN)
    assert created.status_code == 201, created.get_data(as_text=True)
    assert device.post("/api/v2/reboot", headers=ADMIN).status_code == 200
    assert _names(device) == ["scripted"]
    for _ in range(50):
        if reboot_marker.exists():
            break
        time.sleep(0.05)
    assert reboot_marker.exists()


def test_a_device_without_a_password_refuses_other_sites_too(client):
    """With auth off any page a person on the LAN opens could otherwise drive the device."""
    _assert_legacy_refusal(client.post("/api/v1/assets/order", data={"ids": "a"}, headers=EVIL))
    _assert_legacy_refusal(client.delete("/api/v1.2/assets/x", headers=EVIL_ORIGIN_ONLY))
    _assert_legacy_refusal(client.patch("/api/v2/device_settings", json={"player_name": "x"},
                                        headers=EVIL_FETCH_ONLY))
    assert client.get("/api/v2/device_settings").get_json()["player_name"] != "x"


def _signed_in(client) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": "admin", "password": "pw",
                                           "csrf_token": token, "next": "/"})
    assert response.status_code == 302


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_the_control_get_with_a_session_cookie_from_another_site_is_refused(
        device, viewer: ViewerEndpoint, method):
    _signed_in(device)
    response = device.open("/api/v2/assets/control/next", method=method, headers=EVIL_FETCH_ONLY)
    assert response.status_code == 403
    assert viewer_commands(viewer) == []


def test_our_own_pages_and_scripts_still_switch_assets(device, viewer: ViewerEndpoint):
    _signed_in(device)
    same_origin = device.get("/api/v2/assets/control/next",
                             headers={"Sec-Fetch-Site": "same-origin"})
    assert same_origin.status_code == 200 and same_origin.get_json() == "Asset switched"
    typed = device.get("/api/v1/assets/control/previous", headers={"Sec-Fetch-Site": "none"})
    assert typed.status_code == 200
    script = device.application.test_client().get("/api/v2/assets/control/next", headers=ADMIN)
    assert script.status_code == 200
    assert viewer_commands(viewer) == ["next", "previous", "next"]


def test_an_origin_naming_this_host_passes_and_any_other_is_refused(device):
    ok = device.post("/api/v2/assets", json=v2_asset(name="mine"),
                     headers={**ADMIN, "Origin": "http://localhost"})
    assert ok.status_code == 201
    proxied = device.post("/api/v2/assets", json=v2_asset(name="behind tls"),
                          headers={**ADMIN, "Origin": "https://signs.example.org"},
                          base_url="http://signs.example.org")
    assert proxied.status_code == 201
    for origin in ("null", "http://localhost:8081", "http://localhost.evil.example",
                   "file://"):
        refused = device.post("/api/v2/assets", json=v2_asset(name=origin),
                              headers={**ADMIN, "Origin": origin})
        assert refused.status_code == 403, origin
    assert sorted(_names(device)) == ["behind tls", "mine"]


def test_reads_from_another_site_are_not_refused(device):
    """A cross-site read leaks nothing (the browser keeps the answer from the page)."""
    assert device.get("/api/v2/assets", headers={**ADMIN, **EVIL}).status_code == 200
    assert device.options("/api/v2/assets", headers=EVIL).status_code == 200


def test_signing_in_from_another_site_is_refused(device):
    page = device.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = device.post("/login", data={"username": "admin", "password": "pw",
                                           "csrf_token": token}, headers=EVIL)
    assert response.status_code == 403
    assert response.content_type.startswith("text/plain")
    assert "another site" in response.get_data(as_text=True)
    assert device.get("/").status_code == 302  # still not signed in
