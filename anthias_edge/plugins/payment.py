"""The payment provider contract: what a plugin's ``register_payment_providers`` returns.

A provider is one payment gateway (Midtrans, a test emulator, ...) seen through typed values,
so the billing service never parses a gateway's JSON. Amounts are integers in the currency's
smallest unit that the gateway charges (IDR: whole rupiah), never floats. Every method may
raise ``PaymentProviderError`` (the gateway could not be reached or answered an error) and
``verify_notification`` raises ``NotificationRejected`` for anything it does not believe.

Statuses are normalised to the words below; ``raw`` keeps the gateway's own answer for the
audit log and for statuses this list does not name. Calls that create something at the gateway
take an ``idempotency_key`` the caller keeps with its payment attempt, so a call retried after a
timeout (even from another worker) is sent with the same key and never charges twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

# A one-off payment. ``paid``: the money is taken and the gateway's fraud check accepted it
# (Midtrans: settlement, or capture with fraud_status accept); a charge held for review is still
# ``pending``. A paid payment may later become ``denied``, ``refunded``,
# ``partially_refunded`` or ``chargeback`` (a reversal), which the billing service must apply;
# any other move back is stale and ignored.
TransactionState = Literal["pending", "paid", "denied", "expired", "canceled", "refunded",
                           "partially_refunded", "chargeback", "failed", "unknown"]
# A recurring charge at the gateway (Midtrans reports only active and inactive).
SubscriptionState = Literal["active", "inactive", "unknown"]
# What gateways schedule by (Midtrans: day, week, month); a yearly plan is 12 months.
Interval = Literal["day", "week", "month"]


@dataclass(frozen=True)
class CheckoutRequest:
    """A first payment to ask the customer for (the order id is ours and unique)."""

    order_id: str
    amount: int
    currency: str
    description: str
    idempotency_key: str | None = None
    customer_email: str | None = None
    customer_name: str | None = None
    # Where the gateway sends the customer's browser back to when done.
    return_url: str | None = None
    # Keep the card for later charges (the renewals of a subscription).
    save_card: bool = False


@dataclass(frozen=True)
class Checkout:
    """Where to send the customer to pay (``redirect_url``) and the gateway's token for it."""

    order_id: str
    redirect_url: str
    token: str | None = None


@dataclass(frozen=True)
class PaymentNotification:
    """A notification the provider has verified; nothing else ever becomes one."""

    kind: Literal["transaction", "subscription"]
    order_id: str | None
    transaction_id: str | None
    status: str  # normalised: a TransactionState or SubscriptionState
    status_code: str | None = None
    amount: int | None = None
    currency: str | None = None
    subscription_id: str | None = None
    # The customer's saved card, when the gateway returns one for later charges.
    saved_card_token: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TransactionStatus:
    """A transaction as the gateway reports it when asked."""

    order_id: str
    transaction_id: str | None
    status: TransactionState
    amount: int | None
    currency: str | None
    status_code: str | None = None
    saved_card_token: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriptionRequest:
    """A recurring charge to set up at the gateway on a saved card."""

    name: str
    amount: int
    currency: str
    interval: Interval
    interval_count: int
    saved_card_token: str
    start_at: dt.datetime
    idempotency_key: str | None = None
    customer_email: str | None = None
    # Our own references (tenant, plan), echoed back by the gateway where it can.
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderSubscription:
    """A recurring charge at the gateway, as it reports it."""

    subscription_id: str
    status: SubscriptionState
    amount: int | None = None
    currency: str | None = None
    next_charge_at: dt.datetime | None = None
    # The gateway's ids of the charges it made for it (Midtrans ``transaction_ids``).
    transaction_ids: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class PaymentProvider(Protocol):
    """One payment gateway. ``name`` is unique in the deployment (``midtrans``)."""

    name: str
    # The ISO currencies it charges in (Midtrans: IDR only).
    currencies: tuple[str, ...]

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """Ask the gateway for a payment page; retrying the same ``order_id`` is safe."""

    def verify_notification(self, headers: Mapping[str, str], body: bytes
                            ) -> PaymentNotification:
        """Check a notification from its raw HTTP headers and body, exactly as received.

        Return it only when its signature (or, for an unsigned kind, a confirming call back
        to the gateway) proves it came from the gateway; else raise ``NotificationRejected``.
        Whether its order and amount are ours is the caller's check, not the provider's.
        """

    def fetch_transaction_status(self, order_id: str) -> TransactionStatus:
        """The gateway's current view of our order ``order_id``."""

    def fetch_subscription_status(self, subscription_id: str) -> ProviderSubscription:
        """The gateway's current view of a recurring charge."""

    def create_subscription(self, request: SubscriptionRequest) -> ProviderSubscription:
        """Set up a recurring charge on a saved card."""

    def cancel_subscription(self, subscription_id: str) -> ProviderSubscription:
        """Stop future charges (what is paid stays paid)."""

    def resume_subscription(self, subscription_id: str) -> ProviderSubscription:
        """Start a stopped recurring charge again."""


@dataclass(frozen=True)
class SubscriptionChange:
    """What ``subscription_changed`` hooks receive: one tenant's subscription moved.

    ``previous_*`` are None for a tenant's first subscription. ``reason`` says why in a word
    (``trial_started``, ``paid``, ``renewed``, ``payment_failed``, ``past_due``, ``canceled``,
    ``resumed``, ``plan_changed``, ``reversed``).
    """

    tenant_id: str
    plan: str
    status: str
    reason: str
    previous_plan: str | None = None
    previous_status: str | None = None
    current_period_end: dt.datetime | None = None
    provider: str | None = None
