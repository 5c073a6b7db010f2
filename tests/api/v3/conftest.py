"""Fixtures for the v3 API: two tenants, a user of every role in ``alpha``, login helpers."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from anthias_edge.models import Asset
from anthias_edge.permissions import ROLES
from anthias_edge.runtime import Runtime
from anthias_edge.services.auth.passwords import Passwords
from anthias_edge.services.tenants import TenantService, create_tenant

PASSWORD = "correct horse battery"
_names = itertools.count(1)


@dataclass
class World:
    """A running v3 server with tenants ``alpha`` (every role) and ``beta`` (an owner)."""

    app: Flask
    client: FlaskClient
    runtime: Runtime
    a: str = ""
    b: str = ""
    users: dict[tuple[str, str], str] = field(default_factory=dict)  # (tenant, role) -> id
    usernames: dict[tuple[str, str], str] = field(default_factory=dict)
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def db(self):
        """An open connection for direct setup outside a request."""
        return self.runtime.database.connection_context()

    def login(self, username: str, tenant: str, password: str = PASSWORD, **headers: str):
        """POST /api/v3/auth/token and return the response."""
        return self.client.post("/api/v3/auth/token", headers=headers,
                                json={"username": username, "password": password,
                                      "tenant": tenant})

    def token(self, role: str, tenant: str | None = None) -> str:
        """An access token of the tenant's user with ``role`` (logged in once per test)."""
        tenant = tenant or self.a
        key = (tenant, role)
        if key not in self._tokens:
            response = self.login(self.usernames[key], tenant)
            assert response.status_code == 200, response.get_json()
            self._tokens[key] = response.get_json()["access_token"]
        return self._tokens[key]

    def auth(self, role: str = "owner", tenant: str | None = None) -> dict[str, str]:
        """Authorization headers for that user."""
        return {"Authorization": f"Bearer {self.token(role, tenant)}"}

    def asset(self, tenant: str, **values: Any) -> str:
        """A new asset in ``tenant``; returns its id."""
        data = {"name": f"asset {next(_names)}", "uri": "https://example.com/",
                "mimetype": "webpage", "duration": 10, "skip_asset_check": True,
                "is_enabled": True}
        data.update(values)
        with self.db():
            asset = self.runtime.assets(tenant).create(data, unique_name=False, renumber=False)
        return asset.asset_id

    def member(self, tenant: str, role: str = "viewer") -> str:
        """A new member of ``tenant``; returns the user id."""
        with self.db():
            member = self.service(tenant).create_user(f"user{next(_names)}", PASSWORD, role)
        return member.user_id

    def api_token(self, tenant: str, permissions: list[str] | None = None) -> tuple[str, str]:
        """A new API token of the tenant's owner: (id, secret)."""
        with self.db():
            token, secret = self.runtime.auth.create_api_token(
                tenant, self.users[(tenant, "owner")], f"script {next(_names)}",
                permissions or ["assets.view"])
        return token.id, secret

    def service(self, tenant: str) -> TenantService:
        """The tenant service (system principal)."""
        return TenantService(tenant, passwords=self.runtime.passwords)

    def asset_row(self, asset_id: str) -> Asset:
        """The stored asset."""
        with self.db():
            return Asset.get_by_id(asset_id)


@pytest.fixture
def cheap_passwords() -> Passwords:
    """Still argon2id, but fast enough for many logins."""
    return Passwords(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def make_world(make_app: Callable[..., Flask], cheap_passwords: Passwords
               ) -> Callable[..., World]:
    """Build a World on an app made with these environment overrides."""

    def build(**overrides: str) -> World:
        app = make_app(**overrides)
        rt = app.extensions["anthias"]
        rt.passwords = cheap_passwords
        world = World(app, app.test_client(), rt)
        with world.db():
            for subdomain, name in (("alpha", "Alpha"), ("beta", "Beta")):
                owner_name = f"{subdomain}-owner"
                tenant, owner = create_tenant(name, subdomain, owner_name, PASSWORD,
                                              passwords=cheap_passwords)
                setattr(world, subdomain[0], tenant.id)
                world.users[(tenant.id, "owner")] = owner.id
                world.usernames[(tenant.id, "owner")] = owner_name
            for role in ROLES:
                if role == "owner":
                    continue
                username = f"alpha-{role}"
                member = world.service(world.a).create_user(username, PASSWORD, role)
                world.users[(world.a, role)] = member.user_id
                world.usernames[(world.a, role)] = username
        return world

    return build


@pytest.fixture
def world(make_world: Callable[..., World]) -> World:
    """A device-mode server with tenants alpha and beta."""
    return make_world()
