"""Fixtures of the billing tests: a v3 world, the Midtrans emulator and a provider on it.

Notifications are held by the emulator and handed, exactly as it would POST them, to the
provider's ``verify_notification`` and then ``apply_notification``: the webhook's own path
without the HTTP hop (the webhook itself: tests/midtrans/test_webhook.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.fernet import Fernet

from anthias_edge.models.billing import PaymentAttempt, Subscription
from anthias_edge.plugins.builtin.midtrans import build_provider
from anthias_edge.plugins.builtin.midtrans.provider import MidtransProvider
from anthias_edge.plugins.payment import SubscriptionChange
from anthias_edge.services.auth.crypto_box import CryptoBox
from anthias_edge.services.billing import (
    BillingService,
    Outcome,
    apply_notification,
    effective_limits,
    reconcile_open,
)
from anthias_edge.services.billing.limits import Limits
from anthias_edge.services.row_security import tenant_scope

# The v3 tenants-and-users world.
from tests.api.v3.conftest import World, cheap_passwords, make_world, world  # noqa: F401
from tests.midtrans_emulator import Emulator, running_emulator

HELD = "http://127.0.0.1:9/held"  # never reached: the emulator holds every notification


class Clock:
    """Naive UTC, starting now (the emulator refuses a renewal start in the past)."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, when: dt.datetime) -> None:
        """Move to ``when``."""
        self.now = when


class Listener:
    """A plugin's view of subscription changes (what ``subscription_changed`` receives)."""

    def __init__(self) -> None:
        self.changes: list[SubscriptionChange] = []

    def subscription_changed(self, change: SubscriptionChange) -> None:
        self.changes.append(change)

    @property
    def reasons(self) -> list[str]:
        """The reasons so far, oldest first."""
        return [change.reason for change in self.changes]


@dataclass
class Billing:
    """One world, the emulator, and a provider on it; all on one clock."""

    world: World
    emulator: Emulator
    provider: MidtransProvider
    clock: Clock
    box: CryptoBox
    listener: Listener = field(default_factory=Listener)

    def service(self, tenant: str | None = None) -> BillingService:
        """The tenant's billing service, acting for its owner."""
        return BillingService(tenant or self.world.a, "owner",
                              providers={"midtrans": self.provider}, events=self.listener,
                              box=self.box, clock=self.clock)

    def run(self, tenant: str | None, work: Any) -> Any:
        """``work(service)`` inside the tenant, on an open connection."""
        tenant = tenant or self.world.a
        with self.world.db(), tenant_scope(self.world.runtime.database, tenant):
            return work(self.service(tenant))

    def subscription(self, tenant: str | None = None) -> Subscription | None:
        """The tenant's subscription as stored now."""
        return self.run(tenant, lambda s: s.subscription())

    def limits(self, tenant: str | None = None) -> Limits:
        """The tenant's effective limits now."""
        return self.run(tenant, lambda s: effective_limits(s.tenant_id))

    def attempts(self, tenant: str | None = None) -> list[PaymentAttempt]:
        """The tenant's payment attempts, oldest first."""
        tenant = tenant or self.world.a
        return self.run(tenant, lambda s: list(PaymentAttempt.select().where(
            PaymentAttempt.tenant == tenant).order_by(PaymentAttempt.created_at)))

    def checkout(self, plan: str = "basic", tenant: str | None = None) -> str:
        """Subscribe to ``plan``: the order id of the checkout."""
        result = self.run(tenant, lambda s: s.subscribe(plan, "https://alpha.example/back"))
        assert result.checkout.redirect_url.startswith(self.emulator.url)
        return result.checkout.order_id

    def deliver(self) -> list[Outcome]:
        """Hand every held notification to the provider and the billing service, in order."""
        held, self.emulator.held = self.emulator.held, []
        return [self.apply(body) for _url, body in held]

    def apply(self, body: dict[str, Any]) -> Outcome:
        """One notification body as Midtrans POSTs it."""
        notification = self.provider.verify_notification(
            {"Content-Type": "application/json"}, json.dumps(body).encode())
        with self.world.db():
            return apply_notification(self.world.runtime.database, notification, "midtrans",
                                      provider=self.provider, box=self.box,
                                      events=self.listener, clock=self.clock)

    def reconcile(self) -> dict[str, int]:
        """One reconciler pass."""
        with self.world.db():
            return reconcile_open(self.world.runtime.database, self.provider, box=self.box,
                                  events=self.listener, clock=self.clock)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A Midtrans emulator on loopback that holds its notifications for the test to hand on."""
    with running_emulator() as running:
        running.payment_notification_url = running.recurring_notification_url = HELD
        running.hold()
        yield running


@pytest.fixture
def billing(world: World, emulator: Emulator) -> Billing:  # noqa: F811
    """The world, the emulator and a sandbox provider pointed at it."""
    provider = build_provider({
        "server_key": emulator.server_key, "environment": "sandbox",
        "snap_url": emulator.snap_url(), "api_url": emulator.url, "notification_url": "",
        "timeout_seconds": 5, "retries": 1}, sleep=lambda _s: None)
    return Billing(world, emulator, provider, Clock(), CryptoBox([Fernet.generate_key()]))
