"""What v1, v1.1 and v1.2 share: dates, JSON rendering, negotiation, routing, Basic auth.

docs/legacy-api.md §1.2-1.5, §2.1, §3.0 and §6.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers import ACTIVE, basic, v1_model

VERSIONS = ["v1", "v1.1", "v1.2"]
FORMAT_ERROR = ("Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].")
ID = "0123456789abcdef0123456789abcdef"

# Every route of the three versions with the methods it serves (docs/legacy-api.md §3.0).
ROUTES: list[tuple[str, str]] = [
    ("GET", "/api/v1/assets"), ("POST", "/api/v1/assets"),
    ("GET", f"/api/v1/assets/{ID}"), ("PUT", f"/api/v1/assets/{ID}"),
    ("DELETE", f"/api/v1/assets/{ID}"), ("GET", f"/api/v1/assets/{ID}/content"),
    ("POST", "/api/v1/file_asset"), ("POST", "/api/v1/assets/order"),
    ("GET", "/api/v1/assets/control/next"), ("POST", "/api/v1/backup"),
    ("POST", "/api/v1/recover"), ("POST", "/api/v1/reboot"), ("POST", "/api/v1/shutdown"),
    ("GET", "/api/v1/info"), ("GET", "/api/v1/viewer_current_asset"),
    ("GET", "/api/v1.1/assets"), ("POST", "/api/v1.1/assets"),
    ("GET", f"/api/v1.1/assets/{ID}"), ("PUT", f"/api/v1.1/assets/{ID}"),
    ("DELETE", f"/api/v1.1/assets/{ID}"),
    ("GET", "/api/v1.2/assets"), ("POST", "/api/v1.2/assets"),
    ("GET", f"/api/v1.2/assets/{ID}"), ("PUT", f"/api/v1.2/assets/{ID}"),
    ("PATCH", f"/api/v1.2/assets/{ID}"), ("DELETE", f"/api/v1.2/assets/{ID}"),
]

# One method each route does not serve (docs/legacy-api.md §1.4).
WRONG_METHODS: list[tuple[str, str]] = [
    ("DELETE", "/api/v1/assets"), ("POST", f"/api/v1/assets/{ID}"),
    ("PATCH", f"/api/v1/assets/{ID}"), ("POST", f"/api/v1/assets/{ID}/content"),
    ("GET", "/api/v1/file_asset"), ("GET", "/api/v1/assets/order"),
    ("POST", "/api/v1/assets/control/next"), ("GET", "/api/v1/backup"),
    ("GET", "/api/v1/recover"), ("GET", "/api/v1/reboot"), ("GET", "/api/v1/shutdown"),
    ("POST", "/api/v1/info"), ("POST", "/api/v1/viewer_current_asset"),
    ("PUT", "/api/v1.1/assets"), ("PATCH", f"/api/v1.1/assets/{ID}"),
    ("DELETE", "/api/v1.2/assets"), ("POST", f"/api/v1.2/assets/{ID}"),
]


def post_asset(client: FlaskClient, version: str, **fields: Any) -> Any:
    """Create through ``version`` in its own encoding."""
    if version == "v1.2":
        body = {"name": "Anthias", "uri": "https://anthias.screenly.io", **ACTIVE,
                "duration": "20", "mimetype": "webpage", "is_enabled": 1,
                "skip_asset_check": 1, **fields}
        return client.post("/api/v1.2/assets", json=body)
    return client.post(f"/api/{version}/assets", data=v1_model(**fields))


# -- dates -----------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("sent", "shown"), [
    ("2019-08-24T14:15:22Z", "2019-08-24T14:15:22Z"),
    ("2019-08-24T14:15:22.123456Z", "2019-08-24T14:15:22.123456Z"),
    ("2019-08-24T14:15:22.5Z", "2019-08-24T14:15:22.500000Z"),
    ("2019-08-24T14:15:22.000Z", "2019-08-24T14:15:22Z"),
    ("2019-08-24T16:15:22+02:00", "2019-08-24T14:15:22Z"),
    ("2019-08-24T09:15:22-05:00", "2019-08-24T14:15:22Z"),
    ("2019-08-24T14:15:22", "2019-08-24T14:15:22Z"),
    ("2019-08-24 14:15", "2019-08-24T14:15:00Z"),
])
def test_dates_are_stored_in_utc_and_shown_with_z(
        client: FlaskClient, version: str, sent: str, shown: str) -> None:
    response = post_asset(client, version, start_date=sent)
    assert response.status_code == 201
    assert response.get_json()["start_date"] == shown
    assert client.get(f"/api/{version}/assets").get_json()[0]["start_date"] == shown


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("sent", ["2019-08-24", "24/08/2019 14:15", "yesterday", 1566656122])
def test_a_malformed_date_is_a_400_with_drfs_message(
        client: FlaskClient, version: str, sent: Any) -> None:
    response = post_asset(client, version, end_date=sent)
    assert response.status_code == 400
    assert response.get_json() == {"end_date": [FORMAT_ERROR]}


def test_dates_are_shown_in_the_device_zone_with_its_offset(
        client: FlaskClient, app: Flask, tmp_path: Path) -> None:
    zone_file = tmp_path / "berlin"
    zone_file.write_text("Europe/Berlin\n", encoding="utf-8")
    app.extensions["anthias"].zone_file = str(zone_file)
    body = post_asset(client, "v1.2", start_date="2019-08-24T14:15:22Z").get_json()
    assert body["start_date"] == "2019-08-24T16:15:22+02:00"


@pytest.mark.parametrize(("dates", "active"), [
    (ACTIVE, 1),
    ({"start_date": "2099-01-01T00:00:00Z", "end_date": "2019-01-01T00:00:00Z"}, 0),
    ({"start_date": "2000-01-01T00:00:00Z", "end_date": "2001-01-01T00:00:00Z"}, 0),
    ({"start_date": "2098-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z"}, 0),
])
def test_is_active_needs_enabled_and_now_inside_the_dates(
        client: FlaskClient, dates: dict, active: int) -> None:
    body = post_asset(client, "v1.2", **dates).get_json()  # an inverted range is accepted
    assert body["is_active"] == active


# -- rendering -------------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_json_is_compact_utf8_with_the_json_content_type(
        client: FlaskClient, version: str) -> None:
    response = post_asset(client, version, name="Café ✓")
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    assert "Café ✓".encode() in response.data
    assert b", " not in response.data and b'": ' not in response.data


@pytest.mark.parametrize("version", VERSIONS)
def test_the_list_is_compact_and_in_v1_format(client: FlaskClient, version: str) -> None:
    created = post_asset(client, version).get_json()
    response = client.get(f"/api/{version}/assets")
    assert response.data == json.dumps([created], separators=(",", ":")).encode()
    assert (created["duration"], created["is_enabled"], created["nocache"]) == ("20", 1, 0)


@pytest.mark.parametrize("path", ["/api/v1/assets", "/api/v1.1/assets", "/api/v1.2/assets"])
def test_a_browser_gets_the_browsable_html_page(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Asset List View V1" in response.get_data(as_text=True)


def test_format_json_forces_json_for_a_browser(client: FlaskClient) -> None:
    response = client.get("/api/v1/assets?format=json",
                          headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert (response.status_code, response.data) == (200, b"[]")
    assert response.headers["Content-Type"] == "application/json"


@pytest.mark.parametrize(("accept", "query"), [
    ("application/xml", ""), ("text/html", "?format=json")])
def test_an_accept_header_that_cannot_be_satisfied_is_a_500(
        client: FlaskClient, accept: str, query: str) -> None:
    response = client.get(f"/api/v1.2/assets{query}", headers={"Accept": accept})
    assert response.status_code == 500
    assert response.data == b'{"error":"Could not satisfy the request Accept header."}'


@pytest.mark.parametrize("version", VERSIONS)
def test_head_answers_like_get_without_a_body(client: FlaskClient, version: str) -> None:
    asset_id = post_asset(client, version).get_json()["asset_id"]
    for path in (f"/api/{version}/assets", f"/api/{version}/assets/{asset_id}"):
        response = client.head(path)
        assert (response.status_code, response.data) == (200, b"")
        assert response.headers["Content-Type"] == "application/json"
        assert int(response.headers["Content-Length"]) == len(client.get(path).data)


@pytest.mark.parametrize(("path", "name"), [
    ("/api/v1/assets", "Asset List View V1"),
    (f"/api/v1/assets/{ID}", "Asset View V1"),
    ("/api/v1.1/assets", "Asset List View V1 1"),
    (f"/api/v1.2/assets/{ID}", "Asset View V1 2"),
    (f"/api/v1/assets/{ID}/content", "Asset Content View V1"),
    ("/api/v1/file_asset", "File Asset View V1"),
    ("/api/v1/assets/order", "Playlist Order View V1"),
    ("/api/v1/assets/control/next", "Assets Control View V1"),
    ("/api/v1/info", "Info View V1"),
    ("/api/v1/viewer_current_asset", "Viewer Current Asset View V1"),
])
def test_options_describes_the_view_as_drf_did(client: FlaskClient, path: str, name: str) -> None:
    response = client.options(path)
    assert response.status_code == 200
    assert response.get_json() == {
        "name": name, "description": "", "renders": ["application/json", "text/html"],
        "parses": ["application/json", "application/x-www-form-urlencoded",
                   "multipart/form-data"]}


# -- routing ---------------------------------------------------------------
@pytest.mark.parametrize(("method", "path"), WRONG_METHODS)
def test_a_method_a_route_does_not_serve_is_a_500_naming_it(
        client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method)
    assert response.status_code == 500
    assert response.get_json() == {"error": f'Method "{method}" not allowed.'}


@pytest.mark.parametrize("path", ["/api/v1/assets/", "/api/v1.1/assets/", "/api/v1.2/assets/",
                                  f"/api/v1.2/assets/{ID}/", "/api/v1/info/"])
def test_a_trailing_slash_is_the_html_not_found_page(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>Not Found</title>" in response.get_data(as_text=True)


# -- Basic auth ------------------------------------------------------------
PASSWORD = "s3cret pass"


@pytest.fixture
def locked(make_app: Callable[..., Flask]) -> FlaskClient:
    """A client of a server with Basic auth on for ``admin`` / PASSWORD, player "Lobby"."""
    return make_app(ANTHIAS_AUTH_BACKEND="auth_basic", ANTHIAS_USER="admin",
                    ANTHIAS_PASSWORD=hashlib.sha256(PASSWORD.encode()).hexdigest(),
                    ANTHIAS_PLAYER_NAME="Lobby").test_client()


def assert_denied(response: Any, realm: str = "Anthias Lobby") -> None:
    """Anthias's exact 401 (docs/legacy-api.md §6.2)."""
    assert response.status_code == 401
    assert response.data == b"Access denied"
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["WWW-Authenticate"] == f'Basic realm="{realm}"'


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_route_refuses_a_request_without_credentials(
        locked: FlaskClient, method: str, path: str) -> None:
    assert_denied(locked.open(path, method=method))


@pytest.mark.parametrize("header", [
    basic("admin", "wrong"), basic("other", PASSWORD),
    {"Authorization": "basic " + basic("admin", PASSWORD)["Authorization"].split()[1]},
    {"Authorization": "Bearer token"}, {"Authorization": "Basic"},
])
def test_wrong_credentials_are_refused(locked: FlaskClient, header: dict) -> None:
    assert_denied(locked.get("/api/v1.2/assets", headers=header))


def test_the_right_credentials_are_let_through(locked: FlaskClient) -> None:
    response = locked.get("/api/v1/assets", headers=basic("admin", PASSWORD))
    assert (response.status_code, response.data) == (200, b"[]")


def test_the_realm_of_an_unnamed_player_ends_with_a_space(make_app: Callable[..., Flask]) -> None:
    client = make_app(ANTHIAS_AUTH_BACKEND="auth_basic", ANTHIAS_USER="admin",
                      ANTHIAS_PASSWORD=hashlib.sha256(b"x").hexdigest()).test_client()
    assert_denied(client.get("/api/v1/assets"), realm="Anthias ")


@pytest.mark.parametrize("path", ["/api/v1/assets", f"/api/v1.2/assets/{ID}", "/api/v1/info"])
def test_options_needs_no_credentials(locked: FlaskClient, path: str) -> None:
    response = locked.options(path)
    assert response.status_code == 200
    assert response.get_json()["renders"] == ["application/json", "text/html"]


@pytest.mark.parametrize(("method", "path"), [
    ("PATCH", "/api/v1/assets"), ("POST", "/api/v1/assets/control/next")])
def test_the_method_check_comes_before_auth(locked: FlaskClient, method: str, path: str) -> None:
    response = locked.open(path, method=method)
    assert response.status_code == 500
    assert response.get_json() == {"error": f'Method "{method}" not allowed.'}


def test_a_missing_asset_without_credentials_is_a_401_not_a_500(locked: FlaskClient) -> None:
    assert_denied(locked.get(f"/api/v1/assets/{ID}"))
    response = locked.get(f"/api/v1/assets/{ID}", headers=basic("admin", PASSWORD))
    assert response.status_code == 500


def test_credentials_that_are_not_base64_are_a_503(locked: FlaskClient) -> None:
    response = locked.get("/api/v1/assets", headers={"Authorization": "Basic abc"})
    assert response.status_code == 503
    assert response.data == b"Authorization backend is unavailable: Incorrect padding"
    assert "WWW-Authenticate" not in response.headers


def test_credentials_that_are_not_utf8_are_a_503(locked: FlaskClient) -> None:
    token = base64.b64encode(b"admin:\xff\xfe").decode()
    response = locked.get("/api/v1/assets", headers={"Authorization": f"Basic {token}"})
    assert response.status_code == 503
    assert "WWW-Authenticate" not in response.headers


def test_an_unknown_url_is_a_404_even_without_credentials(locked: FlaskClient) -> None:
    response = locked.get("/api/v1/assets/")
    assert response.status_code == 404
    assert "<title>Not Found</title>" in response.get_data(as_text=True)


def test_null_characters_are_refused_as_drf_does_and_never_reach_the_database(client):
    body = {"name": "bad\x00name", "uri": "https://example.com", "mimetype": "webpage",
            "start_date": "2020-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z",
            "duration": 10, "is_enabled": True, "skip_asset_check": True}
    response = client.post("/api/v2/assets", json=body)
    assert (response.status_code, response.get_json()) == (
        400, {"name": ["Null characters are not allowed."]})
    missing = client.get("/api/v2/assets/abc%00def")
    assert (missing.status_code, missing.get_json()) == (
        500, {"error": "Asset matching query does not exist."})
