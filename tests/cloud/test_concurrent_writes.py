"""Concurrent legacy writes of one tenant on PostgreSQL, through a real served cloud app.

Four clients create, update, delete and reorder assets at once through ``/api/v2`` on the
tenant's subdomain (and through v3's legacy proxy). Each renumbering write must wait for the
others of its tenant instead of deadlocking, and the playlist must keep one asset per position.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from urllib.parse import urlparse

import pytest
from flask import Flask

from tests.cloud.conftest import BASE_DOMAIN
from tests.cloud.pg import drop_database, fresh_database
from tests.helpers import basic, serve_wsgi
from tests.playlist_load import write_at_once
from tests.write_load import HttpClient

pytestmark = pytest.mark.postgres

DATABASE = "anthias_concurrent_writes_test"
PASSWORD = "correct horse battery"
CLIENTS = 4


@pytest.fixture(scope="module")
def cloud_server_url() -> Iterator[str]:
    """A database of this module's own, so colleagues' cloud tests never share it."""
    yield fresh_database(DATABASE)
    drop_database(DATABASE)


def _v3_token(base_url: str, host: str, username: str, tenant: str) -> str:
    parsed = urlparse(base_url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    conn.request("POST", "/api/v3/auth/token", headers={
        "Host": host, "Content-Type": "application/json"},
        body=json.dumps({"username": username, "password": PASSWORD, "tenant": tenant}))
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    assert response.status == 200, body
    return body["access_token"]


@pytest.mark.parametrize("path", ["/api/v2", "/api/v3/legacy"])
def test_concurrent_legacy_writes_of_one_tenant_never_fail_and_keep_one_asset_per_position(
        cloud_app: Flask, make_tenant: Callable[..., str], path: str) -> None:
    tenant_id = make_tenant("acme", "alice", PASSWORD)
    host = f"acme.{BASE_DOMAIN}"
    with serve_wsgi(cloud_app, threads=CLIENTS + 2) as base_url:
        if path == "/api/v2":
            headers = basic("alice", PASSWORD)
        else:
            headers = {"Authorization": "Bearer " + _v3_token(base_url, host, "alice",
                                                              tenant_id)}
        port = urlparse(base_url).port
        clients = [HttpClient(port, prefix=path, headers={"Host": host, **headers}, timeout=30)
                   for _ in range(CLIENTS)]
        try:
            failures, orders, names = write_at_once(clients)
        finally:
            for client in clients:
                client.close()

    assert failures == []  # no "deadlock detected" 500, nor any other
    assert orders == list(range(len(orders)))
    assert len(set(names)) == len(names)
