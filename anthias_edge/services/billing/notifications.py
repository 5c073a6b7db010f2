"""What a provider tells us, applied once: ``apply_notification``, the reconciler's helpers.

Order of work for each notification (integrations.md 1.7): the provider has already proved it
is genuine (``PaymentProvider.verify_notification``); here we find the tenant by our order id
or the provider's subscription id (``anthias_billing_tenant`` on PostgreSQL, 0012), check the
amount and currency against what we asked for, store the event once (unique on provider,
transaction id, status, status code: a replay is a no-op), move the attempt only forward
(``cycle.FORWARD``), and change the subscription; plugins hear of it after the commit.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from peewee import IntegrityError

from anthias_edge.db import db, is_postgresql
from anthias_edge.errors import PaymentProviderError
from anthias_edge.models.billing import (
    ACTIVE,
    CANCELED,
    CHECKOUT,
    PAST_DUE,
    RENEWAL,
    TRIALING,
    PaymentAttempt,
    PaymentEvent,
    Plan,
    Subscription,
)
from anthias_edge.plugins.payment import (
    PaymentNotification,
    PaymentProvider,
    ProviderSubscription,
    SubscriptionRequest,
)
from anthias_edge.services import audit
from anthias_edge.services.billing.cycle import (
    FAILURES,
    PAID,
    PAST_DUE_WINDOW,
    PENDING,
    RETRY_WINDOW,
    is_reversal,
    months_of,
    moves_forward,
    period_after,
)
from anthias_edge.services.billing.plans import FREE
from anthias_edge.services.billing.service import SecretBox
from anthias_edge.services.billing.state import (
    NO_EVENTS,
    SubscriptionEvents,
    change_subscription,
)
from anthias_edge.services.row_security import set_tenant, tenant_scope
from anthias_edge.timeutil import utcnow

logger = logging.getLogger(__name__)

ACTOR = "payment-provider"
# Outcomes: the first two changed something; the others did not.
APPLIED, RECORDED = "applied", "recorded"
DUPLICATE, STALE, UNKNOWN_ORDER, AMOUNT_MISMATCH = ("duplicate", "stale", "unknown_order",
                                                    "amount_mismatch")
# A renewal charge's own transaction notification (Midtrans order id ``SUBS-<name>-<n>``):
# not an order of ours; the subscription notification about the same charge, which the
# provider confirms with its API, applies it (and the reconciler finds it if that is lost).
DEFERRED = "deferred"
RENEWAL_ORDER_PREFIX = "SUBS-"
# How long the reconciler keeps asking about a checkout nobody paid (Snap pages last a day).
OPEN_ATTEMPT_LIFETIME = dt.timedelta(days=2)


@dataclass(frozen=True)
class Outcome:
    """What a notification did; ``changed``: a subscription or attempt moved."""

    outcome: str
    tenant_id: str | None = None
    changed: bool = False
    detail: str = ""

    @property
    def accepted(self) -> bool:
        """Whether the provider should be told 2xx (it is ours, even if stale or repeated)."""
        return self.outcome not in (UNKNOWN_ORDER, AMOUNT_MISMATCH)


@dataclass
class Context:
    """What applying needs besides the notification."""

    provider_name: str
    provider: PaymentProvider | None
    box: SecretBox | None
    events: SubscriptionEvents
    clock: Callable[[], dt.datetime]


def billing_tenant(order_id: str | None, subscription_id: str | None) -> str | None:
    """The tenant our order ``order_id`` (else provider subscription ``subscription_id``) is of."""
    if is_postgresql(db):
        row = db.execute_sql("SELECT anthias_billing_tenant(%s, %s)",
                             (order_id, subscription_id)).fetchone()
        return row[0] if row else None
    if order_id:
        attempt = PaymentAttempt.get_or_none(PaymentAttempt.order_id == order_id)
        if attempt is not None:
            return attempt.tenant
    if subscription_id:
        sub = Subscription.get_or_none(Subscription.external_id == subscription_id)
        if sub is not None:
            return sub.tenant
    return None


def apply_notification(database: Any, notification: PaymentNotification, provider_name: str,
                       *, provider: PaymentProvider | None = None, box: SecretBox | None = None,
                       events: SubscriptionEvents = NO_EVENTS,
                       clock: Callable[[], dt.datetime] = utcnow) -> Outcome:
    """Apply one verified notification (see the module docstring); never raises for stale ones.

    ``database``: the app's database (``db``); the work is one transaction (a savepoint
    inside a request's). ``provider``: when given, a first payment that saved a card sets up
    the renewals there, and a reversed one stops them. ``box`` encrypts the saved card token.
    """
    ctx = Context(provider_name, provider, box, events, clock)
    with database.atomic():
        tenant_id = billing_tenant(notification.order_id, notification.subscription_id)
        if (tenant_id is None and notification.kind == "transaction"
                and (notification.order_id or "").startswith(RENEWAL_ORDER_PREFIX)):
            return Outcome(DEFERRED, detail="a renewal charge: its subscription notification "
                                            "applies it")
        if tenant_id is None:
            logger.warning("payment notification for no order of ours: %s %s",
                           notification.order_id, notification.subscription_id)
            return Outcome(UNKNOWN_ORDER, detail="no such order or subscription")
        set_tenant(database, tenant_id)
        if notification.kind == "subscription" and not _is_checkout(notification):
            return _apply_subscription(notification, tenant_id, ctx)
        return _apply_transaction(notification, tenant_id, ctx)


def _is_checkout(notification: PaymentNotification) -> bool:
    """A charge whose order is one of our own attempts is applied as that attempt."""
    return bool(notification.order_id) and PaymentAttempt.select().where(
        PaymentAttempt.order_id == notification.order_id).exists()


def _store_event(notification: PaymentNotification, tenant_id: str, ctx: Context,
                 outcome: str, status_code: str | None = None) -> PaymentEvent | None:
    """Store the event; None if this very notification was stored before (a replay).

    ``status_code`` stands in for the provider's when it sends none (a subscription's status
    alone), so the same status in a later period is news again, not a replay.
    """
    key = notification.transaction_id or notification.subscription_id or notification.order_id
    try:
        with db.atomic():
            return PaymentEvent.create(
                tenant=tenant_id, provider=ctx.provider_name, transaction_id=key or "",
                status=notification.status,
                status_code=notification.status_code or status_code or "",
                order_id=notification.order_id, subscription_id=notification.subscription_id,
                raw=json.dumps(dict(notification.raw), default=str, sort_keys=True),
                received_at=ctx.clock(), outcome=outcome)
    except IntegrityError:
        return None


def _set_outcome(event: PaymentEvent, outcome: str) -> None:
    PaymentEvent.update(outcome=outcome).where(PaymentEvent.id == event.id).execute()


def _apply_transaction(notification: PaymentNotification, tenant_id: str,
                       ctx: Context) -> Outcome:
    attempt = PaymentAttempt.get_or_none(PaymentAttempt.order_id == notification.order_id)
    if attempt is None:
        return Outcome(UNKNOWN_ORDER, tenant_id, detail="no such order")
    if (notification.amount is not None and notification.amount != attempt.amount) or (
            notification.currency is not None
            and notification.currency.upper() != attempt.currency.upper()):
        _audit(tenant_id, "billing.refused", attempt.order_id,
               f"amount {notification.amount} {notification.currency} is not the "
               f"{attempt.amount} {attempt.currency} asked for", ctx)
        return Outcome(AMOUNT_MISMATCH, tenant_id, detail="amount or currency differs")
    event = _store_event(notification, tenant_id, ctx, RECORDED)
    if event is None:
        return Outcome(DUPLICATE, tenant_id)
    if not moves_forward(attempt.status, notification.status):
        _set_outcome(event, STALE)
        return Outcome(STALE, tenant_id, detail=f"{attempt.status} -> {notification.status}")
    reversal = is_reversal(attempt.status, notification.status)
    PaymentAttempt.update(status=notification.status,
                          transaction_id=notification.transaction_id or attempt.transaction_id,
                          updated_at=ctx.clock()).where(PaymentAttempt.id == attempt.id).execute()
    attempt = PaymentAttempt.get(PaymentAttempt.id == attempt.id)
    sub = Subscription.get_or_none(Subscription.tenant == tenant_id)
    if notification.status == PAID:
        _paid(attempt, sub, notification, tenant_id, ctx)
    elif reversal:
        _reversed(attempt, sub, tenant_id, ctx)
    elif attempt.kind == RENEWAL and notification.status in FAILURES and sub is not None:
        _renewal_failed(sub, tenant_id, ctx)
    _set_outcome(event, APPLIED)
    _audit(tenant_id, "billing.payment", attempt.order_id,
           f"{attempt.kind} {attempt.plan}: {notification.status}", ctx)
    return Outcome(APPLIED, tenant_id, changed=True)


def _paid(attempt: PaymentAttempt, sub: Subscription | None,
          notification: PaymentNotification, tenant_id: str, ctx: Context) -> None:
    """A first payment (or a plan change) starts the paid period; a renewal extends it."""
    plan = Plan.get(Plan.code == attempt.plan)
    values: dict[str, Any] = {
        "plan": plan.code, "status": ACTIVE, "amount": attempt.amount,
        "currency": attempt.currency, "payment_provider": attempt.provider,
        "current_period_start": attempt.period_start, "current_period_end": attempt.period_end,
        "cancel_at_period_end": False, "grace_until": None, "trial_end": None}
    if attempt.kind == RENEWAL:
        reason = "renewed"
    elif sub is None or sub.status in (CANCELED, TRIALING) or sub.plan == FREE:
        reason = "paid"
    else:
        reason = "plan_changed" if sub.plan != plan.code else "paid"
    old_external = sub.external_id if sub is not None else None
    if notification.saved_card_token and ctx.box is not None:
        values["saved_card_token"] = ctx.box.encrypt(notification.saved_card_token)
    if attempt.kind == CHECKOUT:
        values["external_id"] = None  # the new payment's renewals replace any earlier ones
    sub = change_subscription(sub, tenant_id, values, reason=reason, events=ctx.events,
                              clock=ctx.clock)
    if attempt.kind == CHECKOUT and ctx.provider is not None:
        provider, box = ctx.provider, ctx.box
        if old_external:
            _quietly(provider.cancel_subscription, old_external)
        if sub.saved_card_token and box is not None:
            _start_renewals(provider, box, sub, plan, attempt)


def _start_renewals(provider: PaymentProvider, box: SecretBox, sub: Subscription, plan: Plan,
                    attempt: PaymentAttempt) -> None:
    """Ask the provider to charge the saved card each interval from the period's end."""
    try:
        created = provider.create_subscription(SubscriptionRequest(
            name=attempt.order_id[:40], amount=plan.price_amount, currency=plan.currency,
            interval="month", interval_count=months_of(plan.interval),
            saved_card_token=box.decrypt(sub.saved_card_token),
            start_at=sub.current_period_end, idempotency_key=f"sub-{attempt.idempotency_key}"[:46],
            metadata={"tenant_id": sub.tenant, "plan": plan.code}))
    except PaymentProviderError:
        # The period is paid; the reconciler sees a paid subscription without renewals and
        # the tenant can pay the next period by checkout. Nothing is taken away.
        logger.exception("could not set up renewals for tenant %s", sub.tenant)
        return
    Subscription.update(external_id=created.subscription_id).where(
        Subscription.id == sub.id).execute()


def _reversed(attempt: PaymentAttempt, sub: Subscription | None, tenant_id: str,
              ctx: Context) -> None:
    """A payment taken back: the period it paid for is no longer paid (free plan's limits)."""
    if sub is None or sub.current_period_end != attempt.period_end or sub.plan != attempt.plan:
        return  # it paid for a period that is over or replaced; nothing is granted by it now
    if sub.external_id and ctx.provider is not None:
        _quietly(ctx.provider.cancel_subscription, sub.external_id)
    change_subscription(sub, tenant_id, {"status": CANCELED, "external_id": None,
                                         "grace_until": None},
                        reason="reversed", events=ctx.events, clock=ctx.clock)


def _renewal_failed(sub: Subscription, tenant_id: str, ctx: Context) -> None:
    """A renewal charge failed: the provider retries within the grace window."""
    if sub.status != ACTIVE or sub.grace_until is not None:
        return
    grace = (sub.current_period_end or ctx.clock()) + RETRY_WINDOW
    change_subscription(sub, tenant_id, {"grace_until": grace}, reason="payment_failed",
                        events=ctx.events, clock=ctx.clock)


def _apply_subscription(notification: PaymentNotification, tenant_id: str,
                        ctx: Context) -> Outcome:
    """A notification about the provider's recurring charge (already confirmed by it)."""
    sub = Subscription.get_or_none(Subscription.tenant == tenant_id,
                                   Subscription.external_id == notification.subscription_id)
    if sub is None:
        return Outcome(UNKNOWN_ORDER, tenant_id, detail="no such subscription")
    if notification.transaction_id and notification.status not in ("active", "inactive"):
        if notification.amount is not None and notification.amount != sub.amount:
            return Outcome(AMOUNT_MISMATCH, tenant_id, detail="renewal amount differs")
        event = _store_event(notification, tenant_id, ctx, RECORDED)
        if event is None:
            return Outcome(DUPLICATE, tenant_id)
        outcome = _renewal_charge(sub, notification, tenant_id, ctx)
        _set_outcome(event, outcome)
        return Outcome(outcome, tenant_id, changed=outcome == APPLIED)
    period = f"period:{sub.current_period_end:%Y%m%d%H%M%S}" if sub.current_period_end else ""
    event = _store_event(notification, tenant_id, ctx, RECORDED, status_code=period)
    if event is None:
        return Outcome(DUPLICATE, tenant_id)
    if (notification.status == "inactive" and sub.status == ACTIVE
            and not sub.cancel_at_period_end and sub.current_period_end is not None
            and ctx.clock() >= sub.current_period_end):
        # The provider gave up retrying: the renewal is not coming.
        change_subscription(sub, tenant_id, {"status": PAST_DUE,
                                             "grace_until": sub.grace_until or ctx.clock()},
                            reason="past_due", events=ctx.events, clock=ctx.clock)
        _set_outcome(event, APPLIED)
        _audit(tenant_id, "billing.past_due", sub.id, "renewal retries exhausted", ctx)
        return Outcome(APPLIED, tenant_id, changed=True)
    _set_outcome(event, STALE)
    return Outcome(STALE, tenant_id)


def _renewal_charge(sub: Subscription, notification: PaymentNotification, tenant_id: str,
                    ctx: Context) -> str:
    """One charge of the recurring subscription: a renewal attempt, paid or failed."""
    order_id = notification.order_id or f"{notification.subscription_id}-" \
                                        f"{notification.transaction_id}"
    attempt = PaymentAttempt.get_or_none(PaymentAttempt.order_id == order_id)
    if attempt is None:
        plan = Plan.get(Plan.code == sub.plan)
        start = sub.current_period_end or ctx.clock()
        attempt = PaymentAttempt.create(
            order_id=order_id, tenant=tenant_id, plan=sub.plan, kind=RENEWAL,
            amount=sub.amount, currency=sub.currency, provider=ctx.provider_name,
            idempotency_key=notification.transaction_id, status=PENDING,
            transaction_id=notification.transaction_id, period_start=start,
            period_end=period_after(start, plan.interval), created_at=ctx.clock(),
            updated_at=ctx.clock())
    if not moves_forward(attempt.status, notification.status):
        return STALE
    reversal = is_reversal(attempt.status, notification.status)
    PaymentAttempt.update(status=notification.status, updated_at=ctx.clock()).where(
        PaymentAttempt.id == attempt.id).execute()
    attempt = PaymentAttempt.get(PaymentAttempt.id == attempt.id)
    if notification.status == PAID:
        if sub.status == CANCELED:
            return STALE  # charged after we stopped it: the reconciler's report shows it
        _paid(attempt, sub, notification, tenant_id, replace(ctx, provider=None))
    elif reversal:
        _reversed(attempt, sub, tenant_id, ctx)
    elif notification.status in FAILURES:
        _renewal_failed(sub, tenant_id, ctx)
    _audit(tenant_id, "billing.payment", order_id, f"renewal {sub.plan}: {notification.status}",
           ctx)
    return APPLIED


def advance_lapsed(tenant_id: str, *, events: SubscriptionEvents = NO_EVENTS,
                   clock: Callable[[], dt.datetime] = utcnow) -> str | None:
    """Move ``tenant_id``'s subscription along when its time ran out; the reason, or None.

    Trial over, or canceled period over -> canceled. Period over and unpaid past the grace
    -> past_due; past_due past ``PAST_DUE_WINDOW`` -> canceled. Call inside the tenant.
    """
    sub = Subscription.get_or_none(Subscription.tenant == tenant_id)
    now = clock()
    if sub is None or sub.status == CANCELED or sub.current_period_end is None:
        return None
    end = sub.current_period_end
    values: dict[str, Any] | None = None
    if sub.status == TRIALING and now >= (sub.trial_end or end):
        values, reason = {"status": CANCELED}, "trial_ended"
    elif sub.cancel_at_period_end and now >= end:
        values, reason = {"status": CANCELED, "external_id": None}, "canceled"
    elif sub.status == ACTIVE and now >= (sub.grace_until or end + RETRY_WINDOW):
        values, reason = {"status": PAST_DUE, "grace_until": sub.grace_until or
                          end + RETRY_WINDOW}, "past_due"
    elif sub.status == PAST_DUE and now >= (sub.grace_until or end) + PAST_DUE_WINDOW:
        values, reason = {"status": CANCELED}, "canceled"
    if values is None:
        return None
    change_subscription(sub, tenant_id, values, reason=reason, events=events, clock=clock)
    audit.record(tenant_id, ACTOR, f"billing.{reason}", "subscription", sub.id,
                 f"{sub.plan}: {sub.status} -> {values['status']}", clock=clock)
    return reason


def apply_subscription_status(status: ProviderSubscription, provider: PaymentProvider,
                              tenant_id: str, *, box: SecretBox | None = None,
                              events: SubscriptionEvents = NO_EVENTS,
                              clock: Callable[[], dt.datetime] = utcnow) -> list[Outcome]:
    """Apply what the provider reports about a recurring charge (the reconciler's poll).

    Each charge it lists that we have not applied is fetched and applied as a notification
    would be; an ``inactive`` status is applied as the provider's giving up.
    """
    outcomes = []
    known = {a.transaction_id for a in PaymentAttempt.select(PaymentAttempt.transaction_id)
             .where(PaymentAttempt.tenant == tenant_id, PaymentAttempt.status != PENDING)}
    for transaction_id in status.transaction_ids:
        if transaction_id in known:
            continue
        charge = provider.fetch_transaction_status(transaction_id)
        outcomes.append(apply_notification(db, PaymentNotification(
            kind="subscription", order_id=charge.order_id, transaction_id=transaction_id,
            status=charge.status, status_code=charge.status_code, amount=charge.amount,
            currency=charge.currency, subscription_id=status.subscription_id,
            raw=charge.raw), provider.name, provider=provider, box=box, events=events,
            clock=clock))
    if status.status == "inactive":
        outcomes.append(apply_notification(db, PaymentNotification(
            kind="subscription", order_id=None, transaction_id=None, status="inactive",
            subscription_id=status.subscription_id, raw=status.raw), provider.name,
            provider=provider, box=box, events=events, clock=clock))
    return outcomes


def billing_work() -> Iterator[tuple[str, str, str]]:
    """(tenant, kind, ref) for every open order, provider subscription and running one."""
    if is_postgresql(db):
        yield from db.execute_sql("SELECT tenant_id, kind, ref FROM anthias_billing_work()")
        return
    for a in PaymentAttempt.select().where(PaymentAttempt.status == PENDING):
        yield a.tenant, "order", a.order_id
    for s in Subscription.select().where(Subscription.status != CANCELED):
        if s.external_id and s.status in (ACTIVE, PAST_DUE):
            yield s.tenant, "subscription", s.external_id
        yield s.tenant, "tenant", s.tenant


def reconcile_open(database: Any, provider: PaymentProvider, *,
                   box: SecretBox | None = None, events: SubscriptionEvents = NO_EVENTS,
                   clock: Callable[[], dt.datetime] = utcnow) -> dict[str, int]:
    """One reconciler pass: poll open orders and subscriptions, then run out lapsed time.

    Each piece of work is its own transaction inside its tenant; a provider error on one
    is logged and the pass goes on. Answers counts by what happened.
    """
    counts: dict[str, int] = {}

    def count(key: str) -> None:
        counts[key] = counts.get(key, 0) + 1

    with database.atomic():
        work = list(billing_work())
    for tenant_id, kind, ref in work:
        try:
            with tenant_scope(database, tenant_id):
                if kind == "order":
                    attempt = PaymentAttempt.get_or_none(PaymentAttempt.order_id == ref)
                    if attempt is None or attempt.provider != provider.name:
                        continue
                    status = provider.fetch_transaction_status(ref)
                    if status.status in (PENDING, "unknown"):
                        if clock() - attempt.created_at > OPEN_ATTEMPT_LIFETIME:
                            # Never paid (Snap's page expired long ago): stop asking.
                            PaymentAttempt.update(status="expired", updated_at=clock()).where(
                                PaymentAttempt.id == attempt.id).execute()
                            count("order_expired")
                        continue
                    outcome = apply_notification(database, PaymentNotification(
                        kind="transaction", order_id=ref, transaction_id=status.transaction_id,
                        status=status.status, status_code=status.status_code,
                        amount=status.amount, currency=status.currency,
                        saved_card_token=status.saved_card_token, raw=status.raw),
                        provider.name, provider=provider, box=box, events=events, clock=clock)
                    count(f"order_{outcome.outcome}")
                elif kind == "subscription":
                    sub = Subscription.get_or_none(Subscription.tenant == tenant_id)
                    if sub is None or sub.payment_provider != provider.name:
                        continue
                    for outcome in apply_subscription_status(
                            provider.fetch_subscription_status(ref), provider, tenant_id,
                            box=box, events=events, clock=clock):
                        count(f"subscription_{outcome.outcome}")
                elif advance_lapsed(tenant_id, events=events, clock=clock):
                    count("lapsed")
        except PaymentProviderError as exc:
            logger.warning("reconciler: %s %s of tenant %s: %s", kind, ref, tenant_id, exc)
            count("provider_error")
    return counts


def _quietly(call: Callable[[str], Any], ref: str) -> None:
    try:
        call(ref)
    except PaymentProviderError:
        logger.exception("payment provider call failed for %s; the reconciler retries", ref)


def _audit(tenant_id: str, action: str, object_id: str, summary: str, ctx: Context) -> None:
    audit.record(tenant_id, ACTOR, action, "payment", object_id, summary, clock=ctx.clock)
