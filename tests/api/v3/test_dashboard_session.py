"""The device dashboard's own sign-in on v3: sharing permissions only, on a device only."""

from __future__ import annotations

import re

import pytest

from anthias_edge.api.v3.dashboard_session import DASHBOARD_ACTOR
from anthias_edge.models import AuditLog
from tests.helpers import basic

CREDENTIALS = {"auth_backend": "auth_basic", "username": "admin", "password": "pw",
               "password_2": "pw"}
# What the dashboard's pages put on every request they make (web_ui/static/js/api.js).
MARK = "X-CSRFToken"
CLOUD_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="


def _page_token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]*)"', page)
    assert match, "the dashboard carries no CSRF token"
    return match.group(1)


def _sign_in(client) -> str:
    """Sign in at /login as the dashboard does; answer the session's CSRF token."""
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": "admin", "password": "pw",
                                           "csrf_token": token, "next": "/"})
    assert response.status_code == 302
    return _page_token(client)


@pytest.fixture
def protected(client):
    """A device client with the login admin / pw on, not signed in."""
    assert client.patch("/api/v2/device_settings", json=CREDENTIALS).status_code == 200
    return client


def test_the_dashboard_of_a_device_without_a_password_reads_v3_assets(client):
    created = client.post("/api/v2/assets", json={
        "name": "Menu", "uri": "https://example.com/menu", "mimetype": "webpage",
        "start_date": "2024-01-01T00:00:00Z", "end_date": "2030-01-01T00:00:00Z",
        "duration": 10, "is_enabled": True, "skip_asset_check": True}).get_json()
    response = client.get("/api/v3/assets", headers={MARK: _page_token(client)})
    assert response.status_code == 200, response.get_json()
    assert [item["asset_id"] for item in response.get_json()["items"]] == [created["asset_id"]]


def test_a_script_without_a_token_still_gets_v3s_401(client):
    response = client.get("/api/v3/assets")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "authentication_required"


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v3/users"), ("GET", "/api/v3/tenant"), ("GET", "/api/v3/tokens"),
    ("GET", "/api/v3/audit-log"), ("POST", "/api/v3/assets")])
def test_the_dashboard_holds_no_permission_beyond_sharing(client, method, path):
    headers = {MARK: _page_token(client)}
    response = client.open(path, method=method, headers=headers,
                           json={} if method == "POST" else None)
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["error"]["code"] == "permission_denied"


def test_a_signed_out_dashboard_gets_401_so_the_page_asks_to_sign_in(protected):
    response = protected.get("/api/v3/assets", headers={MARK: "anything"})
    assert response.status_code == 401


def test_a_signed_in_dashboard_reads_v3_and_writes_only_with_its_csrf_token(protected):
    token = _sign_in(protected)
    assert protected.get("/api/v3/assets", headers={MARK: token}).status_code == 200
    refused = protected.post("/api/v3/assets", headers={MARK: "not the token"}, json={})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "csrf_token_invalid"


def test_basic_credentials_from_the_dashboard_are_checked_like_v2s(protected):
    good = protected.get("/api/v3/assets", headers={MARK: "x", **basic("admin", "pw")})
    wrong = protected.get("/api/v3/assets", headers={MARK: "x", **basic("admin", "nope")})
    assert good.status_code == 200
    assert wrong.status_code == 401


def test_the_cloud_never_takes_the_dashboard_mark_for_credentials(make_app):
    app = make_app(ANTHIAS_MODE="cloud", ANTHIAS_SECRET_KEY=CLOUD_KEY)
    response = app.test_client().get("/api/v3/assets", headers={MARK: "x"})
    assert response.status_code == 401


def test_what_the_dashboard_shares_is_audited_as_the_dashboard(app, client):
    created = client.post("/api/v2/assets", json={
        "name": "Menu", "uri": "https://example.com/menu", "mimetype": "webpage",
        "start_date": "2024-01-01T00:00:00Z", "end_date": "2030-01-01T00:00:00Z",
        "duration": 10, "is_enabled": True, "skip_asset_check": True}).get_json()
    headers = {MARK: _page_token(client)}
    response = client.post("/api/v3/qr-content", headers=headers,
                           json={"asset_id": created["asset_id"]})
    assert response.status_code == 201, response.get_json()
    shared = response.get_json()
    assert shared["created_by"] == DASHBOARD_ACTOR
    stopped = client.patch(f"/api/v3/qr-content/{shared['qr_code']}", headers=headers,
                           json={"is_active": False})
    assert stopped.status_code == 200 and stopped.get_json()["is_active"] is False
    with app.extensions["anthias"].database.connection_context():
        entries = [(row.actor, row.action) for row in
                   AuditLog.select().where(AuditLog.action.startswith("qr."))
                   .order_by(AuditLog.id)]
    assert entries == [(DASHBOARD_ACTOR, "qr.create"), (DASHBOARD_ACTOR, "qr.update")]
