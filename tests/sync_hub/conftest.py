"""Fixtures of the hub tests: a cloud-mode app (SQLite, or PostgreSQL with
ANTHIAS_TEST_DATABASE_URL), two tenants, devices with real key pairs, signed requests."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient

from anthias_edge.db import is_postgresql
from anthias_edge.models import Device
from anthias_edge.runtime import Runtime
from anthias_edge.services.auth.passwords import Passwords
from anthias_edge.services.row_security import tenant_scope
from anthias_edge.services.tenants import create_tenant
from cloud_sync.protocol import new_key_pair, sign_request
from tests.cloud.pg import database_fixtures

# What runs only on PostgreSQL (device QR codes in the cloud, the fast path) gets a database of
# its own, in both passes of the suite, as the cloud tests do.
sync_hub_server_url, sync_hub_pg = database_fixtures(
    "anthias_sync_hub_test", made="sync_hub_server_url", emptied="sync_hub_pg", migrated=True)
SECRET_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="
PASSWORD = "correct horse battery"


@dataclass
class SimDevice:
    """A linked device as the hub knows it, with the private key only it holds."""

    device_id: str
    tenant_id: str
    key: Ed25519PrivateKey
    public_key: str


@dataclass
class Hub:
    """A cloud app with tenants ``a`` and ``b``."""

    app: Flask
    client: FlaskClient
    runtime: Runtime
    a: str = ""
    b: str = ""
    devices: list[SimDevice] = field(default_factory=list)

    @property
    def postgresql(self) -> bool:
        return is_postgresql(self.runtime.database)

    @contextmanager
    def db(self, tenant_id: str | None = None) -> Iterator[None]:
        """A connection, and (given a tenant) a transaction that sees that tenant's rows."""
        database = self.runtime.database
        with database.connection_context():
            if tenant_id is None:
                yield
            else:
                with tenant_scope(database, tenant_id):
                    yield

    def add_device(self, tenant_id: str, name: str = "screen") -> SimDevice:
        key, public = new_key_pair()
        device = SimDevice(str(uuid.uuid4()), tenant_id, key, public)
        with self.db(tenant_id):
            Device.create(device_id=device.device_id, tenant=tenant_id, name=name,
                          public_key=public, linked_via="code")
        self.devices.append(device)
        return device

    def signed(self, device: SimDevice, method: str, path: str, *, body: Any = None,
               raw: bytes | None = None, headers: dict[str, str] | None = None,
               authorization: str | None = None, now: float | None = None) -> Any:
        """Send a request signed by ``device`` (JSON ``body`` or ``raw`` bytes)."""
        data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        auth = authorization or sign_request(device.key, device.device_id, method, path, data,
                                             now=now)
        sent = {"Authorization": auth, **(headers or {})}
        if raw is None and body is not None:
            sent.setdefault("Content-Type", "application/json")
        return self.client.open(path, method=method, data=data, headers=sent)

    def sql(self, statement: str, params: tuple = (), tenant_id: str | None = None) -> list:
        """Rows of a query, as the tables' owner within ``tenant_id`` (if given)."""
        database = self.runtime.database
        if not is_postgresql(database):
            statement = statement.replace("%s", "?")
        with self.db(tenant_id):
            cursor = database.execute_sql(statement, params)
            return cursor.fetchall() if cursor.description else []


@pytest.fixture
def make_hub(make_app: Callable[..., Flask]) -> Callable[..., Hub]:
    def build(**overrides: str) -> Hub:
        app = make_app(ANTHIAS_MODE="cloud", ANTHIAS_SECRET_KEY=SECRET_KEY, **overrides)
        runtime = app.extensions["anthias"]
        runtime.passwords = Passwords(time_cost=1, memory_cost=8, parallelism=1)
        hub = Hub(app, app.test_client(), runtime)
        with hub.db():
            for subdomain in ("alpha", "beta"):
                tenant, _ = create_tenant(subdomain.title(), subdomain, f"{subdomain}-owner",
                                          PASSWORD, passwords=runtime.passwords)
                setattr(hub, subdomain[0], tenant.id)
        return hub

    return build


@pytest.fixture
def hub(make_hub: Callable[..., Hub]) -> Hub:
    return make_hub()


@pytest.fixture
def device(hub: Hub) -> SimDevice:
    return hub.add_device(hub.a, "lobby")


@pytest.fixture
def pg_hub(make_hub: Callable[..., Hub], sync_hub_pg: str) -> Hub:
    """A hub on PostgreSQL, whatever database the rest of the suite runs on."""
    return make_hub(DATABASE_URL=sync_hub_pg)
