"""A cloud write commits before its request goes on: its tenant's lock is free for the next.

The tenant's write lock (services/tenant_writes.py) is held until its transaction ends. When
that was the request's end, the next write of the tenant waited for this one to read its row
back, tell the plugins and write the answer (issue 11's bottleneck on PostgreSQL), and plugins
heard of a change that could still roll back. A spy in the plugins' place looks, from the
middle of the request, at what another connection sees.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
import pytest
from flask import Flask

from anthias_edge.services.row_security import tenant_scope
from anthias_edge.services.tenant_writes import LOCK_CLASS, in_tenant_write
from tests.cloud.conftest import BASE_DOMAIN
from tests.helpers import basic

pytestmark = pytest.mark.postgres

PASSWORD = "correct horse battery"
ALICE = basic("alice", PASSWORD)
PAGE = {"name": "Page", "uri": "https://example.org/", "mimetype": "webpage", "duration": 10,
        "start_date": "2024-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z",
        "is_enabled": 1, "skip_asset_check": 1, "nocache": 0, "play_order": 0}
ACME = {"base_url": f"http://acme.{BASE_DOMAIN}"}


class OutsideLook:
    """Stands where the plugins are told; records what another session sees at that moment."""

    def __init__(self, app: Flask, url: str, tenant_id: str) -> None:
        self.database = app.extensions["anthias"].database
        self.url = url
        self.tenant_id = tenant_id
        self.seen: list[dict[str, Any]] = []

    def asset_created(self, tenant_id: str | None, asset: Mapping[str, Any],
                      actor: str | None) -> None:
        self._look(asset["asset_id"])

    def asset_updated(self, tenant_id: str | None, asset: Mapping[str, Any],
                      changed: Sequence[str], actor: str | None) -> None:
        self._look(asset["asset_id"])

    def asset_deleted(self, tenant_id: str | None, asset: Mapping[str, Any],
                      actor: str | None) -> None:
        self._look(asset["asset_id"])

    def _look(self, asset_id: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as other:
            name = other.execute("SELECT name FROM assets WHERE asset_id = %s",
                                 (asset_id,)).fetchone()
            lock_free = other.execute("SELECT pg_try_advisory_lock(%s, hashtext(%s))",
                                      (LOCK_CLASS, self.tenant_id)).fetchone()[0]
            if lock_free:
                other.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))",
                              (LOCK_CLASS, self.tenant_id))
        # And the request's own transaction, after the commit: still confined to its tenant.
        role, tenant = self.database.execute_sql(
            "SELECT current_user, current_setting('anthias.tenant_id')").fetchone()
        self.seen.append({"name": name[0] if name else None, "lock_free": lock_free,
                          "role": role, "tenant": tenant})


@pytest.fixture
def look(cloud_app: Flask, cloud_url: str, make_tenant, monkeypatch) -> OutsideLook:
    tenant_id = make_tenant("acme", "alice", PASSWORD)
    spy = OutsideLook(cloud_app, cloud_url, tenant_id)
    monkeypatch.setattr(cloud_app.extensions["anthias"].plugins, "events", spy)
    return spy


def test_a_renumbering_patch_is_committed_and_its_lock_free_before_the_answer(
        cloud_app: Flask, look: OutsideLook) -> None:
    client = cloud_app.test_client()
    made = client.post("/api/v2/assets", json=PAGE, headers=ALICE, **ACME)
    asset_id = made.get_json()["asset_id"]

    changed = client.patch(f"/api/v2/assets/{asset_id}", json={"name": "Renamed"},
                           headers=ALICE, **ACME)

    assert (made.status_code, changed.status_code) == (201, 200)
    assert changed.get_json()["name"] == "Renamed"
    # What another session saw while the POST, then the PATCH, was still being answered.
    assert look.seen == [
        {"name": "Page", "lock_free": True, "role": "anthias_app", "tenant": look.tenant_id},
        {"name": "Renamed", "lock_free": True, "role": "anthias_app", "tenant": look.tenant_id},
    ]


def test_plugins_hear_of_a_v3_change_and_a_delete_once_they_are_committed(
        cloud_app: Flask, look: OutsideLook) -> None:
    """These take no lock; a later 5xx must not roll back what plugins were told of."""
    client = cloud_app.test_client()
    made = client.post("/api/v2/assets", json=PAGE, headers=ALICE, **ACME)
    asset_id = made.get_json()["asset_id"]
    token = client.post("/api/v3/auth/token", json={
        "username": "alice", "password": PASSWORD, "tenant": "acme"}, **ACME)
    bearer = {"Authorization": f"Bearer {token.get_json()['access_token']}"}

    changed = client.patch(f"/api/v3/assets/{asset_id}", json={"name": "By v3"},
                           headers=bearer, **ACME)
    gone = client.delete(f"/api/v2/assets/{asset_id}", headers=ALICE, **ACME)

    assert (changed.status_code, gone.status_code) == (200, 204)
    assert [seen["name"] for seen in look.seen] == ["Page", "By v3", None]
    assert all(seen["role"] == "anthias_app" and seen["tenant"] == look.tenant_id
               for seen in look.seen)


def test_the_rest_of_the_request_still_sees_only_its_own_tenant(
        cloud_app: Flask, look: OutsideLook, make_tenant) -> None:
    make_tenant("globex", "gina", PASSWORD)
    client = cloud_app.test_client()
    client.post("/api/v2/assets", json={**PAGE, "name": "Globex page"},
                headers=basic("gina", PASSWORD), base_url=f"http://globex.{BASE_DOMAIN}")
    look.seen.clear()

    made = client.post("/api/v2/assets", json=PAGE, headers=ALICE, **ACME)
    listed = client.get("/api/v2/assets", headers=ALICE, **ACME)

    assert made.status_code == 201
    assert [asset["name"] for asset in listed.get_json()] == ["Page"]
    assert [(seen["role"], seen["tenant"]) for seen in look.seen] == [
        ("anthias_app", look.tenant_id)]


def test_a_write_inside_a_callers_transaction_is_not_committed_early(
        cloud_app: Flask, cloud_url: str, make_tenant) -> None:
    """Outside a request (a command's own atomic block) the write stays one with the rest."""
    runtime = cloud_app.extensions["anthias"]
    tenant_id = make_tenant("acme", "alice", PASSWORD)
    service = runtime.assets(tenant_id)
    with (runtime.database.connection_context(), pytest.raises(RuntimeError),
          tenant_scope(runtime.database, tenant_id)):
        in_tenant_write(tenant_id, lambda: service._insert("a" * 32, {
            "name": "Kept?", "uri": "https://example.org/", "mimetype": "webpage"}),
            runtime.database)
        raise RuntimeError("the caller's later step fails")
    with psycopg.connect(cloud_url) as other:
        left = other.execute("SELECT count(*) FROM assets").fetchone()[0]
    assert left == 0
