"""Concurrent legacy writes of one tenant on PostgreSQL, through a real served cloud app.

Four clients create, update, delete and reorder assets at once through ``/api/v2`` on the
tenant's subdomain (and through v3's legacy proxy). Each renumbering write must wait for the
others of its tenant instead of deadlocking, and the playlist must keep one asset per position.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from flask import Flask

from tests.cloud.conftest import BASE_DOMAIN
from tests.cloud.pg import drop_database, fresh_database, query
from tests.helpers import basic, serve_wsgi, v2_asset

pytestmark = pytest.mark.postgres

DATABASE = "anthias_concurrent_writes_test"
PASSWORD = "correct horse battery"
CLIENTS = 4
OPS_PER_CLIENT = 40
SEED_ASSETS = 4
SECRET_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="  # v3 tokens in cloud mode need one


@pytest.fixture(scope="module")
def cloud_server_url() -> Iterator[str]:
    """A database of this module's own, so colleagues' cloud tests never share it."""
    yield fresh_database(DATABASE)
    drop_database(DATABASE)


class Client:
    """One HTTP/1.1 connection to the served app, as one script would hold it."""

    def __init__(self, base_url: str, host: str, headers: dict[str, str], prefix: str) -> None:
        parsed = urlparse(base_url)
        self.conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        self.headers = {"Host": host, **headers}
        self.prefix = prefix

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        """(status, body text) of one request."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, self.prefix + path, body=data, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


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


def _work(client: Client, seed: list[str], rng: random.Random,
          failures: list[tuple[str, int, str]]) -> None:
    """Random creates, updates, deletes and reorders; keep every 5xx answer."""
    mine: list[str] = []

    def record(what: str, status: int, text: str) -> None:
        if status >= 500:
            failures.append((what, status, text))

    for n in range(OPS_PER_CLIENT):
        kind = rng.choice(("create", "create", "update", "update", "delete", "order"))
        if kind == "create" or (kind == "delete" and not mine):
            status, text = client.call("POST", "/assets", v2_asset(
                name=f"c{n}", play_order=rng.randrange(8)))
            record("create", status, text)
            if status == 201:
                mine.append(json.loads(text)["asset_id"])
        elif kind == "update":
            asset_id = rng.choice(seed + mine)
            status, text = client.call("PATCH", f"/assets/{asset_id}",
                                       {"play_order": rng.randrange(8)})
            record("update", status, text)
        elif kind == "delete":
            asset_id = mine.pop(rng.randrange(len(mine)))
            status, text = client.call("DELETE", f"/assets/{asset_id}")
            record("delete", status, text)
        else:
            status, text = client.call("GET", "/assets")
            record("list", status, text)
            if status == 200:
                ids = [a["asset_id"] for a in json.loads(text) if a["is_active"]]
                rng.shuffle(ids)
                status, text = client.call("POST", "/assets/order", {"ids": ",".join(ids)})
                record("order", status, text)


def _run_together(clients: list[Client], target: Callable[[int, Client], None]) -> None:
    threads = [threading.Thread(target=target, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a client hung"


@pytest.mark.parametrize("path", ["/api/v2", "/api/v3/legacy"])
def test_concurrent_legacy_writes_of_one_tenant_never_fail_and_keep_one_asset_per_position(
        cloud_app: Flask, cloud_url: str, make_tenant: Callable[..., str], path: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHIAS_SECRET_KEY", SECRET_KEY)
    tenant_id = make_tenant("acme", "alice", PASSWORD)
    host = f"acme.{BASE_DOMAIN}"
    with serve_wsgi(cloud_app, threads=CLIENTS + 2) as base_url:
        if path == "/api/v2":
            headers = basic("alice", PASSWORD)
        else:
            headers = {"Authorization": "Bearer " + _v3_token(base_url, host, "alice",
                                                              tenant_id)}
        clients = [Client(base_url, host, headers, path) for _ in range(CLIENTS)]
        seed = []
        for n in range(SEED_ASSETS):
            status, text = clients[0].call("POST", "/assets", v2_asset(name=f"seed{n}"))
            assert status == 201, text
            seed.append(json.loads(text)["asset_id"])

        failures: list[tuple[str, int, str]] = []
        _run_together(clients, lambda i, c: _work(c, seed, random.Random(i), failures))
        # A last round of renumbering writes only: whichever runs last must leave the
        # playlist numbered 0..n-1, which interleaved renumbering did not.
        _run_together(clients, lambda i, c: failures.extend(
            ("final update", s, t) for s, t in [c.call("PATCH", f"/assets/{seed[i % SEED_ASSETS]}",
                                                       {"play_order": i})] if s >= 500))
        for client in clients:
            client.close()

    assert failures == []
    orders = [row[0] for row in query(
        cloud_url, "SELECT play_order FROM assets WHERE tenant_id = %s AND is_enabled "
        "ORDER BY play_order", (tenant_id,))]
    assert orders == list(range(len(orders)))
    assert len(orders) >= SEED_ASSETS
