"""Fixtures of the fleet tests: a cloud-mode v3 world (SQLite or PostgreSQL) and its clock.

The world is tests/api/v3's (tenants alpha with a user of every role, beta with an owner),
in cloud mode; ``Clock`` is the runtime's clock, so status, expiry and reports can be moved
through time without waiting.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

import pytest

from anthias_edge.db import is_postgresql
from anthias_edge.models import Device, DeviceAsset, DevicePlay
from anthias_edge.services.row_security import ConfinedTransaction, set_tenant
from tests.api.v3.conftest import World, cheap_passwords, make_world  # noqa: F401

SECRET_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="
BASE_DOMAIN = "signage.test"


class Clock:
    """Naive UTC, starting now (tokens are checked against real time too), still until moved."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def move(self, **delta: float) -> None:
        """Move on by ``delta`` (timedelta keywords)."""
        self.now += dt.timedelta(**delta)


def public_key() -> str:
    """A fresh 32-byte key in base64url (the shape the hub takes; never used to sign here)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cloud(make_world: Callable[..., World], clock: Clock) -> World:  # noqa: F811
    """A cloud-mode world whose runtime tells the time by ``clock``."""
    world = make_world(ANTHIAS_MODE="cloud", ANTHIAS_SECRET_KEY=SECRET_KEY)
    world.app.config["ANTHIAS_BASE_DOMAIN"] = BASE_DOMAIN
    world.runtime.clock = clock
    return world


def call(world: World, method: str, path: str, role: str = "owner", tenant: str | None = None,
         **kwargs: Any):
    """One v3 request as the tenant's user with ``role``."""
    headers = {**world.auth(role, tenant), **kwargs.pop("headers", {})}
    return world.client.open(path, method=method, headers=headers, **kwargs)


@contextmanager
def as_tenant(world: World, tenant_id: str):
    """Work outside a request as a cloud request would: PostgreSQL's ``anthias_app`` role
    with ``tenant_id`` set (so row-level security holds), committed at the end."""
    database = world.runtime.database
    with database.connection_context():
        if not is_postgresql(database):
            with database.atomic():
                yield
            return
        transaction = ConfinedTransaction(database)
        transaction.__enter__()
        try:
            set_tenant(database, tenant_id)
            yield
        except BaseException as exc:
            transaction.__exit__(type(exc), exc, None)
            raise
        transaction.__exit__(None, None, None)


@contextmanager
def as_hub(world: World):
    """What the hub's requests run in: ``anthias_app`` with no tenant (PostgreSQL)."""
    database = world.runtime.database
    with database.connection_context():
        if not is_postgresql(database):
            with database.atomic():
                yield
            return
        transaction = ConfinedTransaction(database)
        transaction.__enter__()
        try:
            yield
        except BaseException as exc:
            transaction.__exit__(type(exc), exc, None)
            raise
        transaction.__exit__(None, None, None)


def make_device(world: World, tenant_id: str, name: str = "Lobby", **values: Any) -> str:
    """A linked device of ``tenant_id`` written directly (as the hub would); its id."""
    with as_tenant(world, tenant_id):
        device = Device.create(tenant=tenant_id, name=name, public_key=public_key(),
                               linked_via="code", created_at=world.runtime.clock(), **values)
    return device.device_id


def add_asset(world: World, tenant_id: str, device_id: str, asset_id: str, name: str,
              **values: Any) -> None:
    """One asset in a device's inventory (as a push would write it)."""
    with as_tenant(world, tenant_id):
        DeviceAsset.create(device_id=device_id, asset_id=asset_id, tenant=tenant_id, name=name,
                           uri=f"https://example.org/{asset_id}", mimetype="webpage", **values)


def add_play(world: World, tenant_id: str, device_id: str, play_id: str, asset_id: str,
             started_at: dt.datetime, duration_s: float | None = 10.0,
             asset_name: str = "") -> None:
    """One reported play (as a push would write it)."""
    with as_tenant(world, tenant_id):
        DevicePlay.create(play_id=play_id, tenant=tenant_id, device_id=device_id,
                          asset_id=asset_id, asset_name=asset_name or asset_id,
                          started_at=started_at, duration_s=duration_s)
