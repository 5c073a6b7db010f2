"""Fixtures for the tenancy services: a migrated database, a settable clock, cheap hashing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from anthias_edge.services.auth.crypto_box import CryptoBox
from anthias_edge.services.auth.jwt_tokens import AccessTokens
from anthias_edge.services.auth.login_throttle import LoginThrottle
from anthias_edge.services.auth.passwords import Passwords
from anthias_edge.services.auth.tokens import AuthService
from anthias_edge.services.tenants import TenantService, create_tenant

START = dt.datetime(2024, 6, 3, 12, 0)
PASSWORD = "correct horse battery"


class Clock:
    """A naive-UTC clock the test moves by hand."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward."""
        self.now += dt.timedelta(**delta)


@dataclass
class Tenancy:
    """Two tenants (``a``, ``b``) with owners, and the services wired on one clock."""

    clock: Clock
    passwords: Passwords
    box: CryptoBox
    access: AccessTokens
    auth: AuthService
    a: str
    b: str
    owner_a: str
    owner_b: str

    def tenant(self, tenant_id: str, principal=None) -> TenantService:
        """The tenant service of ``tenant_id`` on the shared clock."""
        return TenantService(tenant_id, principal=principal, passwords=self.passwords,
                             clock=self.clock)


@pytest.fixture
def cheap_passwords() -> Passwords:
    """Still argon2id, but fast enough for many tests."""
    return Passwords(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def tenancy(app: Flask, cheap_passwords: Passwords) -> Iterator[Tenancy]:
    """A migrated database with tenants ``alpha`` and ``beta``, connection open."""
    clock = Clock()
    box = CryptoBox([Fernet.generate_key()])
    access = AccessTokens(box, clock=clock)
    throttle = LoginThrottle(clock=clock)  # the documented policy (docs/security.md)
    auth = AuthService(access, passwords=cheap_passwords, throttle=throttle, clock=clock)
    with app.extensions["anthias"].database.connection_context():
        a, owner_a = create_tenant("Alpha", "alpha", "alice", PASSWORD,
                                   passwords=cheap_passwords, clock=clock)
        b, owner_b = create_tenant("Beta", "beta", "bob", PASSWORD,
                                   passwords=cheap_passwords, clock=clock)
        yield Tenancy(clock, cheap_passwords, box, access, auth, a.id, b.id, owner_a.id,
                      owner_b.id)
