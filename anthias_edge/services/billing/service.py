"""``BillingService``: one tenant's plan, subscription, checkout, cancellation and usage.

No Flask: the v3 routes and the console call it with plain values. Payment providers come
as a mapping name -> ``payment.PaymentProvider`` (what the plugin host registered); a
deployment with none still shows plans and usage, and refuses only what needs a payment.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from anthias_edge.db import db
from anthias_edge.models.billing import (
    ACTIVE,
    CHECKOUT,
    PAST_DUE,
    TRIALING,
    PaymentAttempt,
    Plan,
    Subscription,
)
from anthias_edge.plugins.payment import Checkout, CheckoutRequest, PaymentProvider
from anthias_edge.services import audit
from anthias_edge.services.billing import limits
from anthias_edge.services.billing.cycle import PAID, PENDING, period_after
from anthias_edge.services.billing.errors import (
    BillingUnavailable,
    PlanNotFound,
    SubscriptionStateConflict,
)
from anthias_edge.services.billing.plans import FREE, get_plan, list_plans
from anthias_edge.services.billing.state import (
    NO_EVENTS,
    SubscriptionEvents,
    change_subscription,
)
from anthias_edge.timeutil import utcnow

# What the list of paid periods shows: payments that stand (a partly refunded one did happen).
INVOICED = (PAID, "partially_refunded")


class SecretBox(Protocol):
    """What keeps a saved card token encrypted (``services.auth.crypto_box.CryptoBox``)."""

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext of ``plaintext``."""

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext."""


@dataclass(frozen=True)
class SubscribeResult:
    """What ``subscribe`` did: a checkout to pay, or (a free plan) the subscription at once."""

    subscription: Subscription | None
    checkout: Checkout | None


def new_order_id(tenant_id: str) -> str:
    """``ae-<first 8 of the tenant id>-<32 hex>``: 44 characters, within Midtrans' 50."""
    short = str(tenant_id).replace("-", "")[:8]
    return f"ae-{short}-{uuid.uuid4().hex}"


def choose_provider(providers: Mapping[str, PaymentProvider], currency: str,
                    preferred: str | None = None) -> PaymentProvider:
    """The provider charging ``currency`` (``preferred`` first); BillingUnavailable if none."""
    names = ([preferred] if preferred else []) + sorted(providers)
    for name in names:
        provider = providers.get(name)
        if provider is not None and currency in tuple(provider.currencies):
            return provider
    raise BillingUnavailable(details={"currency": currency})


class BillingService:
    """One tenant's billing, acting for ``actor`` (audited)."""

    def __init__(self, tenant_id: str, actor: str = "system", *,
                 providers: Mapping[str, PaymentProvider] | None = None,
                 events: SubscriptionEvents = NO_EVENTS,
                 box: SecretBox | None = None,
                 media_dir: Path | None = None,
                 preferred_provider: str | None = None,
                 ip: str | None = None,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        """``media_dir``: the tenant's own folder, whose files count against its storage."""
        self.tenant_id = str(tenant_id)
        self.actor = actor
        self.providers = dict(providers or {})
        self.events = events
        self.box = box
        self.media_dir = media_dir
        self.preferred_provider = preferred_provider
        self.ip = ip
        self.clock = clock

    # -- reading ---------------------------------------------------------------------------

    def plans(self) -> list[Plan]:
        """The plans a tenant may choose, in display order."""
        return list_plans(public_only=True)

    def subscription(self) -> Subscription | None:
        """The tenant's subscription, or None (never subscribed: the tenant's own limits)."""
        return Subscription.get_or_none(Subscription.tenant == self.tenant_id)

    def invoices(self) -> list[PaymentAttempt]:
        """The paid periods, newest first."""
        return list(PaymentAttempt.select()
                    .where(PaymentAttempt.tenant == self.tenant_id,
                           PaymentAttempt.status.in_(INVOICED))
                    .order_by(PaymentAttempt.period_start.desc(),
                              PaymentAttempt.created_at.desc()))

    def usage(self, devices_in_use: int | None = None) -> dict[str, dict]:
        """Assets, devices and storage bytes used, each against its limit."""
        return limits.usage(self.tenant_id, self.media_dir, devices_in_use)

    def limits(self) -> limits.Limits:
        """The limits that apply now."""
        return limits.effective_limits(self.tenant_id)

    # -- changing --------------------------------------------------------------------------

    def start_trial(self, plan_code: str) -> Subscription:
        """Try ``plan_code`` free for its trial days; only a tenant that never subscribed may."""
        self._check_billable()
        plan = get_plan(plan_code, public_only=True)
        if plan.trial_days <= 0:
            raise PlanNotFound(f"Plan '{plan.code}' has no trial.", details={"plan": plan.code})
        with db.atomic():
            if self.subscription() is not None:
                raise SubscriptionStateConflict(
                    "A trial is only for a tenant that never subscribed; subscribe instead.")
            now = self.clock()
            end = now + dt.timedelta(days=plan.trial_days)
            sub = change_subscription(None, self.tenant_id, {
                "plan": plan.code, "status": TRIALING, "current_period_start": now,
                "current_period_end": end, "trial_end": end, "amount": plan.price_amount,
                "currency": plan.currency}, reason="trial_started", events=self.events,
                clock=self.clock)
            self._audit("billing.trial", sub.id, f"trial of {plan.code} until {end:%Y-%m-%d}")
        return sub

    def subscribe(self, plan_code: str, return_url: str | None = None) -> SubscribeResult:
        """Subscribe to (or change to) ``plan_code``.

        A paid plan answers a checkout: the plan applies once the provider reports the
        payment (``notifications.apply_notification``), for one interval from then. A free
        plan applies at once; a paid subscription being left stops renewing at the provider.
        """
        self._check_billable()
        plan = get_plan(plan_code, public_only=True)
        if plan.price_amount <= 0:
            return SubscribeResult(self._switch_to_free(plan), None)
        provider = choose_provider(self.providers, plan.currency, self.preferred_provider)
        now = self.clock()
        attempt = PaymentAttempt.create(
            order_id=new_order_id(self.tenant_id), tenant=self.tenant_id, plan=plan.code,
            kind=CHECKOUT, amount=plan.price_amount, currency=plan.currency,
            provider=provider.name, idempotency_key=str(uuid.uuid4()), status=PENDING,
            period_start=now, period_end=period_after(now, plan.interval), created_at=now,
            updated_at=now)
        checkout = provider.create_checkout(CheckoutRequest(
            order_id=attempt.order_id, amount=attempt.amount, currency=attempt.currency,
            description=f"{plan.name} plan, {plan.interval}ly",
            idempotency_key=attempt.idempotency_key, return_url=return_url, save_card=True))
        PaymentAttempt.update(redirect_url=checkout.redirect_url, updated_at=self.clock()).where(
            PaymentAttempt.id == attempt.id).execute()
        self._audit("billing.checkout", attempt.order_id,
                    f"checkout for {plan.code}: {plan.price_amount} {plan.currency} "
                    f"via {provider.name}")
        return SubscribeResult(self.subscription(), checkout)

    def cancel_at_period_end(self) -> Subscription:
        """Stop renewing: the plan stays until the period (or trial) ends, then the free plan."""
        sub = self._current(ACTIVE, TRIALING, PAST_DUE)
        if sub.plan == FREE:
            raise SubscriptionStateConflict("The free plan has nothing to cancel.")
        if sub.cancel_at_period_end:
            return sub
        self._provider_call(sub, "cancel_subscription")
        with db.atomic():
            sub = change_subscription(sub, self.tenant_id, {"cancel_at_period_end": True},
                                      reason="cancel_scheduled", events=self.events,
                                      clock=self.clock)
            self._audit("billing.cancel", sub.id, f"{sub.plan} ends at period end")
        return sub

    def resume(self) -> Subscription:
        """Undo ``cancel_at_period_end`` before the period ends."""
        sub = self._current(ACTIVE, TRIALING, PAST_DUE)
        if not sub.cancel_at_period_end:
            raise SubscriptionStateConflict("The subscription is not set to end.")
        self._provider_call(sub, "resume_subscription")
        with db.atomic():
            sub = change_subscription(sub, self.tenant_id, {"cancel_at_period_end": False},
                                      reason="resumed", events=self.events, clock=self.clock)
            self._audit("billing.resume", sub.id, f"{sub.plan} renews again")
        return sub

    # -- helpers ---------------------------------------------------------------------------

    def _check_billable(self) -> None:
        """A device's own tenant has no subscription: its limits stay as on Anthias."""
        if limits.effective_limits(self.tenant_id).plan == limits.DEVICE_PLAN:
            raise BillingUnavailable("A device has no subscription; plans apply to cloud "
                                     "tenants.")

    def _current(self, *statuses: str) -> Subscription:
        sub = self.subscription()
        if sub is None or sub.status not in statuses:
            raise SubscriptionStateConflict(
                "There is no running subscription to change; subscribe first.")
        return sub

    def _provider_call(self, sub: Subscription, operation: str) -> None:
        """Stop or restart renewals at the provider, when it has a subscription for us."""
        if not sub.external_id or not sub.payment_provider:
            return
        provider = self.providers.get(sub.payment_provider)
        if provider is None:
            raise BillingUnavailable(details={"provider": sub.payment_provider})
        getattr(provider, operation)(sub.external_id)

    def _switch_to_free(self, plan: Plan) -> Subscription:
        sub = self.subscription()
        if sub is not None and sub.plan == plan.code and sub.status == ACTIVE:
            return sub
        if sub is not None:
            self._provider_call(sub, "cancel_subscription")
        with db.atomic():
            sub = change_subscription(sub, self.tenant_id, {
                "plan": plan.code, "status": ACTIVE, "current_period_start": self.clock(),
                "current_period_end": None, "cancel_at_period_end": False, "amount": 0,
                "currency": plan.currency, "external_id": None, "grace_until": None,
                "trial_end": None}, reason="plan_changed", events=self.events,
                clock=self.clock)
            self._audit("billing.plan", sub.id, f"changed to {plan.code}")
        return sub

    def _audit(self, action: str, object_id: str, summary: str) -> None:
        audit.record(self.tenant_id, self.actor, action, "subscription", object_id, summary,
                     self.ip, clock=self.clock)


def show_subscription(sub: Subscription | None) -> dict[str, Any] | None:
    """A subscription as v3 answers it (never the saved card token)."""
    from anthias_edge.timeutil import format_datetime

    if sub is None:
        return None
    return {"plan": sub.plan, "status": sub.status,
            "current_period_start": format_datetime(sub.current_period_start),
            "current_period_end": format_datetime(sub.current_period_end),
            "cancel_at_period_end": bool(sub.cancel_at_period_end),
            "trial_end": format_datetime(sub.trial_end),
            "grace_until": format_datetime(sub.grace_until),
            "amount": sub.amount, "currency": sub.currency,
            "payment_provider": sub.payment_provider}
