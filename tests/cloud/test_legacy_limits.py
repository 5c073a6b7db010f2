"""A cloud tenant's plan limit and asset creators, on every create path.

``max_assets`` holds on a tenant's subdomain (legacy v1-v2), on v3 and on v3's legacy
proxy, each refusal in its version's error shape, also when clients create at once. Every
asset created by an authenticated user records them in ``created_by``.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from flask import Flask
from flask.testing import FlaskClient

from anthias_edge.services.tenants import TenantService
from tests.cloud.conftest import BASE_DOMAIN
from tests.cloud.pg import drop_database, fresh_database, query
from tests.helpers import ACTIVE, basic, serve_wsgi, v1_model, v2_asset

pytestmark = pytest.mark.postgres

DATABASE = "anthias_legacy_limits_test"
PASSWORD = "correct horse battery"
HOST = f"acme.{BASE_DOMAIN}"
LEGACY_REFUSED = {"error": "This tenant has reached the asset limit of its plan: 2 assets "
                           "on plan 'free'."}

LEGACY_CREATES: dict[str, Callable[[], dict[str, Any]]] = {
    "/api/v1/assets": lambda: {"data": v1_model()},
    "/api/v1.1/assets": lambda: {"data": v1_model()},
    "/api/v1.2/assets": lambda: {"json": {
        "name": "Anthias", "uri": "https://anthias.screenly.io", **ACTIVE, "duration": "20",
        "mimetype": "webpage", "is_enabled": 1, "nocache": 0, "play_order": 0,
        "skip_asset_check": 1}},
    "/api/v2/assets": lambda: {"json": v2_asset()},
}


@pytest.fixture(scope="module")
def cloud_server_url() -> Iterator[str]:
    """A database of this module's own, so colleagues' cloud tests never share it."""
    yield fresh_database(DATABASE)
    drop_database(DATABASE)


@pytest.fixture
def acme(cloud_app: Flask, make_tenant: Callable[..., str]) -> str:
    """Tenant acme (owner alice, editor eve) on a plan of 2 assets."""
    tenant_id = make_tenant("acme", "alice", PASSWORD, {"eve": "editor"})
    with cloud_app.extensions["anthias"].database.connection_context():
        TenantService(tenant_id).set_plan(max_assets=2)
    return tenant_id


def _bearer(client: FlaskClient, username: str, tenant_id: str) -> dict[str, str]:
    response = client.post("/api/v3/auth/token", base_url=f"http://{HOST}", json={
        "username": username, "password": PASSWORD, "tenant": tenant_id})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": "Bearer " + response.get_json()["access_token"]}


def _v3_assets(client: FlaskClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/api/v3/assets", base_url=f"http://{HOST}", headers=headers)
    assert response.status_code == 200
    return response.get_json()["items"]


def _user_id(cloud_url: str, username: str) -> str:
    return query(cloud_url, "SELECT id FROM users WHERE username = %s", (username,))[0][0]


@pytest.mark.parametrize("path", LEGACY_CREATES)
def test_a_subdomain_create_beyond_the_plan_limit_is_refused_in_the_legacy_shape(
        cloud_app: Flask, acme: str, path: str) -> None:
    client = cloud_app.test_client()
    kwargs = {"base_url": f"http://{HOST}", "headers": basic("alice", PASSWORD)}
    made = [client.post(path, **kwargs, **LEGACY_CREATES[path]()).status_code
            for _ in range(2)]

    over = client.post(path, **kwargs, **LEGACY_CREATES[path]())

    assert made == [201, 201]
    assert over.status_code == 500  # every legacy refusal is Anthias's 500 (docs/legacy-api.md Q0)
    assert over.get_json() == LEGACY_REFUSED
    assert len(client.get("/api/v2/assets", **kwargs).get_json()) == 2


@pytest.mark.parametrize("path", ["/api/v3/assets", "/api/v3/legacy/assets"])
def test_a_v3_create_beyond_the_plan_limit_is_a_409(cloud_app: Flask, acme: str,
                                                   path: str) -> None:
    client = cloud_app.test_client()
    headers = _bearer(client, "alice", acme)
    body = v2_asset() if "legacy" in path else {
        "name": "Page", "uri": "https://example.com/", "mimetype": "webpage",
        "skip_asset_check": True}
    made = [client.post(path, base_url=f"http://{HOST}", headers=headers, json=body).status_code
            for _ in range(2)]

    over = client.post(path, base_url=f"http://{HOST}", headers=headers, json=body)

    assert made == [201, 201]
    assert over.status_code == 409
    assert over.get_json()["error"] == {
        "code": "asset_limit_reached",
        "message": "This tenant has reached the asset limit of its plan: 2 assets on plan "
                   "'free'.",
        "details": {"limit": "max_assets", "plan": "free", "max_assets": 2, "assets": 2}}


def test_clients_creating_at_once_on_the_subdomain_never_pass_the_limit(
        cloud_app: Flask, acme: str) -> None:
    statuses: list[int] = []
    auth = basic("alice", PASSWORD)

    def create_three(base_url: str) -> None:
        parsed = urlparse(base_url)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        for _ in range(3):
            conn.request("POST", "/api/v2/assets", body=json.dumps(v2_asset()), headers={
                "Host": HOST, "Content-Type": "application/json", **auth})
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
        conn.close()

    with cloud_app.extensions["anthias"].database.connection_context():
        TenantService(acme).set_plan(max_assets=5)
    with serve_wsgi(cloud_app, threads=6) as base_url:
        threads = [threading.Thread(target=create_three, args=(base_url,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    assert sorted(statuses) == [201] * 5 + [500] * 7
    listed = cloud_app.test_client().get("/api/v2/assets", base_url=f"http://{HOST}",
                                         headers=auth).get_json()
    assert len(listed) == 5


@pytest.mark.parametrize("path", ["/api/v1/assets", "/api/v1.2/assets", "/api/v2/assets"])
def test_a_subdomain_create_records_the_authenticated_user_as_its_creator(
        cloud_app: Flask, cloud_url: str, acme: str, path: str) -> None:
    client = cloud_app.test_client()

    made = client.post(path, base_url=f"http://{HOST}", headers=basic("eve", PASSWORD),
                       **LEGACY_CREATES[path]())

    assert made.status_code == 201
    [shown] = _v3_assets(client, _bearer(client, "alice", acme))
    assert shown["asset_id"] == made.get_json()["asset_id"]
    assert shown["created_by"] == _user_id(cloud_url, "eve")


def test_a_create_through_the_v3_legacy_proxy_records_its_creator(
        cloud_app: Flask, cloud_url: str, acme: str) -> None:
    client = cloud_app.test_client()

    made = client.post("/api/v3/legacy/assets", base_url=f"http://{HOST}",
                       headers=_bearer(client, "eve", acme), json=v2_asset())

    assert made.status_code == 201
    [shown] = _v3_assets(client, _bearer(client, "alice", acme))
    assert shown["created_by"] == _user_id(cloud_url, "eve")
    # The v2 answer itself keeps Anthias's thirteen fields.
    assert "created_by" not in made.get_json()


def test_an_api_token_create_through_the_legacy_proxy_records_the_tokens_user(
        cloud_app: Flask, cloud_url: str, acme: str) -> None:
    client = cloud_app.test_client()
    runtime = cloud_app.extensions["anthias"]
    with runtime.database.connection_context():
        _, secret = runtime.auth.create_api_token(acme, _user_id(cloud_url, "eve"), "script",
                                                  ["assets.create", "assets.view"])

    made = client.post("/api/v3/legacy/assets", base_url=f"http://{HOST}",
                       headers={"Authorization": f"Bearer {secret}"}, json=v2_asset())

    assert made.status_code == 201, made.get_json()
    [shown] = _v3_assets(client, _bearer(client, "alice", acme))
    assert shown["created_by"] == _user_id(cloud_url, "eve")
