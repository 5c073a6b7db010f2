"""Fixtures for the device side of sync: a device app, linking it, reading its outbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from anthias_edge.runtime import Runtime
from cloud_sync.device import link_store
from tests.api.v3.conftest import cheap_passwords, make_world  # noqa: F401  (v3 fixtures)


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    """The device app's runtime."""
    return app.extensions["anthias"]


@pytest.fixture
def link(runtime: Runtime) -> Callable[..., link_store.LinkState]:
    """Link the device (no cloud needed: only the local link row and its snapshot)."""

    def do(database: Any = None, **values: Any) -> link_store.LinkState:
        database = database or runtime.database
        base = {"cloud_url": "https://cloud.example", "device_id": "device-1",
                "tenant_id": "tenant-1", "tenant_name": "Acme", "device_name": "Lobby",
                "key_path": "/nonexistent/device_key.pem"}
        base.update(values)
        with database.connection_context():
            return link_store.save_link(**base)

    return do


@pytest.fixture
def outbox_rows(runtime: Runtime) -> Callable[..., list[tuple[str, dict[str, Any]]]]:
    """The outbox as (kind, payload) in seq order, read with plain SQL."""

    def read(database: Any = None) -> list[tuple[str, dict[str, Any]]]:
        database = database or runtime.database
        with database.connection_context():
            rows = database.execute_sql(
                'SELECT "kind", "payload" FROM "sync_outbox" ORDER BY "seq"').fetchall()
        return [(kind, json.loads(payload)) for kind, payload in rows]

    return read


def kinds(rows: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The kinds of outbox rows, in order."""
    return [kind for kind, _ in rows]
