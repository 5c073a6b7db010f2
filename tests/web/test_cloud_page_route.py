"""``/api/v3/device/cloud``: the device's link to a cloud, against a real cloud server.

The cloud runs in its own process on PostgreSQL (tests/web/cloud_process.py); the device is
the usual test app, its sync agent real. Linking by pairing code, a wrong code's plain
refusal, the device-initiated code (shown on the Cloud page and the splash page, claimed by
an admin), unlinking (the cloud revokes the device), and the device's own sign-in check.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import basic
from tests.web.cloud_process import CloudProcess, cloud_database_name, cloud_process
from tests.web.test_session_auth import sign_in

pytestmark = pytest.mark.postgres

URL = "/api/v3/device/cloud"
MARK = "X-CSRFToken"
CREDENTIALS = {"auth_backend": "auth_basic", "username": "admin", "password": "pw",
               "password_2": "pw"}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProcess]:
    """One cloud server for the module (each test links and unlinks its own device)."""
    with cloud_process(tmp_path_factory.mktemp("cloud-home"), cloud_database_name("cloudpage")
                       ) as running:
        yield running


def _mark(client) -> dict[str, str]:
    page = client.get("/").get_data(as_text=True)
    return {MARK: re.search(r'name="csrf-token" content="([^"]*)"', page).group(1)}


def _until_linked(client, bound_s: float = 20) -> dict:
    """The status once it says linked (the server asks the cloud at most every 2 s)."""
    deadline = time.monotonic() + bound_s
    while True:
        status = client.get(URL).get_json()
        if status["linked"] or time.monotonic() > deadline:
            return status
        time.sleep(0.5)


def test_an_unlinked_device_says_so(client):
    response = client.get(URL)
    assert response.status_code == 200, response.get_json()
    status = response.get_json()
    assert status["linked"] is False
    assert status["device_code"] is None
    assert status["pending_outbox"] == 0


def test_linking_with_a_pairing_code_then_unlinking(cloud: CloudProcess, client, home: Path):
    code = cloud.pairing_code()
    # Typed as a person would: lower case, with a dash and spaces.
    typed = f" {code[:4].lower()}-{code[4:]} "
    response = client.post(f"{URL}/link", headers=_mark(client),
                           json={"cloud_url": cloud.url + "/", "code": typed, "name": "Lobby"})
    assert response.status_code == 200, response.get_json()
    linked = response.get_json()
    assert linked["linked"] is True
    assert linked["tenant_name"] == "Acme Signs"
    assert linked["device_name"] == "Lobby"
    assert linked["cloud_url"] == cloud.url
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", linked["linked_at"])
    assert cloud.device(linked["device_id"]) == {"name": "Lobby", "status": "active",
                                                  "linked_via": "code"}
    # The private key stays on the device, readable by its owner only.
    keys = list((home / ".screenly").rglob("*.pem"))
    assert keys and all(key.stat().st_mode & 0o077 == 0 for key in keys)

    # A second link while linked is refused in words; the code was single-use anyway.
    again = client.post(f"{URL}/link", headers=_mark(client),
                        json={"cloud_url": cloud.url, "code": code})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_linked"

    unlinked = client.delete(f"{URL}/link", headers=_mark(client))
    assert unlinked.status_code == 200, unlinked.get_json()
    assert unlinked.get_json()["linked"] is False
    assert "unlink_note" not in unlinked.get_json()  # the cloud was told
    assert cloud.device(linked["device_id"])["status"] == "revoked"


def test_a_wrong_code_is_refused_in_plain_words(cloud: CloudProcess, client):
    response = client.post(f"{URL}/link", headers=_mark(client),
                           json={"cloud_url": cloud.url, "code": "ZZZZ2222"})
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "pairing_code_invalid"
    assert "mistyped, already used or expired" in error["message"]
    assert client.get(URL).get_json()["linked"] is False


def test_bad_input_is_a_400_naming_the_field(cloud: CloudProcess, client):
    cases = [({"cloud_url": "ftp://x.example", "code": "ABCD2345"}, "cloud_url"),
             ({"cloud_url": cloud.url, "code": "AB1"}, "code"),
             ({"cloud_url": cloud.url}, "code"),
             ({"cloud_url": cloud.url, "code": "ABCD2345", "extra": 1}, "extra"),
             ({"cloud_url": cloud.url, "mode": "telepathy"}, "mode")]
    for body, field in cases:
        response = client.post(f"{URL}/link", headers=_mark(client), json=body)
        assert response.status_code == 400, body
        error = response.get_json()["error"]
        assert error["code"] == "validation_error" and field in error["details"], body


def test_a_code_shown_on_the_screen_is_claimed_in_the_cloud(cloud: CloudProcess, client):
    response = client.post(f"{URL}/link", headers=_mark(client),
                           json={"cloud_url": cloud.url, "mode": "device_code"})
    assert response.status_code == 200, response.get_json()
    shown = response.get_json()["device_code"]
    assert response.get_json()["linked"] is False
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{8}", shown["code"])
    # The console's Screens page, its claim dialog open on this code.
    assert shown["claim_url"] == f"{cloud.url}/#/screens/claim/{shown['code']}"
    assert "poll_token" not in shown

    splash = client.get("/splash-page").get_data(as_text=True)
    assert f"{shown['code'][:4]} {shown['code'][4:]}" in splash
    assert "<svg" in splash and 'http-equiv="refresh"' in splash
    qr = client.get(f"{URL}/code.svg")
    assert qr.status_code == 200 and qr.content_type == "image/svg+xml"

    device = cloud.claim(shown["code"], "Window")
    status = _until_linked(client)
    assert status["linked"] is True and status["device_id"] == device["device_id"]
    assert status["device_code"] is None
    assert status["device_name"] == "Window" and status["tenant_name"] == "Acme Signs"
    assert shown["code"] not in client.get("/splash-page").get_data(as_text=True)
    assert client.get(f"{URL}/code.svg").status_code == 404
    assert client.delete(f"{URL}/link", headers=_mark(client)).get_json()["linked"] is False


def test_an_unreachable_cloud_is_a_502_in_words(client):
    response = client.post(f"{URL}/link", headers=_mark(client),
                           json={"cloud_url": "http://127.0.0.1:9", "code": "ABCD2345"})
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert error["code"] == "cloud_unreachable" and "could not be reached" in error["message"]


def test_the_device_sign_in_guards_every_call(client, app):
    saved = client.patch("/api/v2/device_settings", json=CREDENTIALS)
    assert saved.status_code == 200, saved.get_json()
    assert client.get(URL).status_code == 401
    assert client.post(f"{URL}/link", json={"cloud_url": "x"}).status_code == 401
    assert client.delete(f"{URL}/link").status_code == 401
    assert client.get(URL, headers=basic("admin", "wrong")).status_code == 401
    assert client.get(URL, headers=basic("admin", "pw")).status_code == 200
    # A signed-in session must send its CSRF token with a write.
    sign_in(client)
    assert client.get(URL).status_code == 200
    refused = client.delete(f"{URL}/link")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "csrf_token_invalid"
    assert client.delete(f"{URL}/link", headers=_mark(client)).status_code == 200


def test_the_cloud_has_no_such_page_or_endpoint(cloud: CloudProcess):
    import urllib.error
    import urllib.request

    for path in (URL, "/cloud"):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(cloud.url + path, timeout=10)
        assert refused.value.code == 404, path
        refused.value.close()
