"""Fixtures of the Midtrans tests: the emulator on loopback and a provider pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from anthias_edge.models.billing import PaymentEvent, Subscription
from anthias_edge.plugins.builtin.midtrans import build_provider
from anthias_edge.plugins.builtin.midtrans.provider import MidtransProvider
from anthias_edge.services.auth.crypto_box import load_crypto_box
from anthias_edge.services.billing import BillingService
from anthias_edge.services.row_security import tenant_scope

# The v3 tenants-and-users world, served for the webhook tests.
from tests.api.v3.conftest import World, cheap_passwords, make_world, world  # noqa: F401
from tests.helpers import serve_wsgi
from tests.midtrans_emulator import Emulator, running_emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A fresh Midtrans emulator on a free 127.0.0.1 port."""
    with running_emulator() as running:
        yield running


def emulator_settings(emulator: Emulator, **overrides: Any) -> dict[str, Any]:
    """The midtrans plugin's settings pointing at ``emulator``."""
    return {"server_key": emulator.server_key, "environment": "sandbox",
            "snap_url": emulator.snap_url(), "api_url": emulator.url,
            "notification_url": "", "timeout_seconds": 5, "retries": 2, **overrides}


@pytest.fixture
def make_provider(emulator: Emulator) -> Callable[..., MidtransProvider]:
    """Build a provider on the emulator; backoff sleeps are recorded, not slept."""
    def build(**overrides: Any) -> MidtransProvider:
        sleeps: list[float] = []
        provider = build_provider(emulator_settings(emulator, **overrides),
                                  sleep=sleeps.append)
        provider.sleeps = sleeps  # type: ignore[attr-defined]
        return provider

    return build


PATH = "/api/v3/payments/midtrans/notification"


@dataclass
class Billing:
    """A served world whose midtrans plugin talks to the emulator."""

    world: World
    emulator: Emulator
    url: str

    def scope(self, tenant: str | None = None):
        """A connection inside the tenant, for setup and checks."""
        return _Scope(self.world, tenant or self.world.a)

    def subscribe(self, plan: str = "basic", tenant: str | None = None) -> str:
        """Start a checkout for ``plan`` as the tenant's owner; answers our order id."""
        runtime = self.world.runtime
        with self.scope(tenant):
            result = BillingService(
                tenant or self.world.a, "owner",
                providers=runtime.plugins.payment_providers, events=runtime.plugins.events,
                box=load_crypto_box(runtime.settings.deployment, runtime.settings.home,
                                    cloud=runtime.is_cloud)).subscribe(plan)
        assert result.checkout.redirect_url.startswith(self.emulator.url)
        return result.checkout.order_id

    def subscription(self, tenant: str | None = None) -> Subscription | None:
        """The tenant's subscription as stored now."""
        with self.scope(tenant):
            return Subscription.get_or_none(Subscription.tenant == (tenant or self.world.a))

    def events(self, tenant: str | None = None) -> list[PaymentEvent]:
        """The payment events stored for the tenant."""
        with self.scope(tenant):
            return list(PaymentEvent.select().where(
                PaymentEvent.tenant == (tenant or self.world.a)))


class _Scope:
    def __init__(self, served: World, tenant: str) -> None:
        self._connection = served.db()
        self._scope = tenant_scope(served.runtime.database, tenant)

    def __enter__(self) -> None:
        self._connection.__enter__()
        self._scope.__enter__()

    def __exit__(self, *exc) -> None:
        try:
            self._scope.__exit__(*exc)
        finally:
            self._connection.__exit__(*exc)


@pytest.fixture
def billing(make_world, emulator: Emulator) -> Iterator[Billing]:  # noqa: F811
    """The world served on loopback, the emulator's dashboard URLs pointing at it."""
    served = make_world(ANTHIAS_PLUGIN_MIDTRANS_SERVER_KEY=emulator.server_key,
                       ANTHIAS_PLUGIN_MIDTRANS_SNAP_URL=emulator.snap_url(),
                       ANTHIAS_PLUGIN_MIDTRANS_API_URL=emulator.url,
                       ANTHIAS_PLUGIN_MIDTRANS_RETRIES="1")
    with serve_wsgi(served.app, threads=4) as url:
        emulator.payment_notification_url = emulator.recurring_notification_url = url + PATH
        yield Billing(served, emulator, url)


