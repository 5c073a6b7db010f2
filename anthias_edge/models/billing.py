"""Plans, subscriptions and payments (migration 0012).

``Plan`` is the deployment's catalogue (no tenant). ``Subscription`` (one per tenant),
``PaymentAttempt`` (one per order id we made at a provider) and ``PaymentEvent`` (each
provider notification once) belong to a tenant. ``Subscription.saved_card_token`` holds
Fernet ciphertext (``services/auth/crypto_box.py``), never the provider's token itself.
"""

from __future__ import annotations

import uuid

from peewee import BooleanField, IntegerField, TextField

from anthias_edge.models.base import BaseModel, UtcDateTimeField
from anthias_edge.timeutil import utcnow

# Subscription statuses, in the order a lapsing subscription passes them.
TRIALING, ACTIVE, PAST_DUE, CANCELED = "trialing", "active", "past_due", "canceled"
SUBSCRIPTION_STATUSES = (TRIALING, ACTIVE, PAST_DUE, CANCELED)
CHECKOUT, RENEWAL = "checkout", "renewal"


def _new_id() -> str:
    return str(uuid.uuid4())


class Plan(BaseModel):
    """One plan of the catalogue: its price per interval and its limits."""

    code = TextField(primary_key=True)
    name = TextField()
    price_amount = IntegerField(default=0)  # the currency's whole unit (IDR: rupiah)
    currency = TextField(default="IDR")
    interval = TextField(default="month")  # month | year
    trial_days = IntegerField(default=0)
    max_assets = IntegerField()
    max_devices = IntegerField()
    storage_quota_gb = IntegerField()
    is_public = BooleanField(default=True)
    sort_order = IntegerField(default=0)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "plans"

    @classmethod
    def catalogue(cls, *, public_only: bool = False):
        """The plans in display order (a query)."""
        query = cls.select().order_by(cls.sort_order, cls.code)
        return query.where(cls.is_public == True) if public_only else query  # noqa: E712


class Subscription(BaseModel):
    """A tenant's subscription: its plan, status and the period paid for."""

    id = TextField(primary_key=True, default=_new_id)
    tenant = TextField(column_name="tenant_id", unique=True)
    plan = TextField()
    status = TextField()
    current_period_start = UtcDateTimeField(null=True)
    current_period_end = UtcDateTimeField(null=True)
    cancel_at_period_end = BooleanField(default=False)
    amount = IntegerField(default=0)
    currency = TextField(default="IDR")
    payment_provider = TextField(null=True)
    external_id = TextField(null=True)  # the provider's subscription id (renewals)
    saved_card_token = TextField(null=True)  # encrypted
    trial_end = UtcDateTimeField(null=True)
    grace_until = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "subscriptions"


class PaymentAttempt(BaseModel):
    """One payment we asked a provider for (``order_id`` is ours and unique)."""

    id = TextField(primary_key=True, default=_new_id)
    order_id = TextField(unique=True)
    tenant = TextField(column_name="tenant_id")
    plan = TextField()
    kind = TextField()  # checkout | renewal
    amount = IntegerField()
    currency = TextField()
    provider = TextField()
    idempotency_key = TextField()
    status = TextField()  # a payment.TransactionState
    transaction_id = TextField(null=True)
    redirect_url = TextField(null=True)
    period_start = UtcDateTimeField(null=True)
    period_end = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "payment_attempts"


class PaymentEvent(BaseModel):
    """One notification a provider sent, stored once (unique key below) with what it did."""

    id = TextField(primary_key=True, default=_new_id)
    tenant = TextField(column_name="tenant_id")
    provider = TextField()
    transaction_id = TextField()  # '' when the notification names none
    status = TextField()
    status_code = TextField()  # '' when none
    order_id = TextField(null=True)
    subscription_id = TextField(null=True)
    raw = TextField()  # JSON
    received_at = UtcDateTimeField(default=utcnow)
    outcome = TextField()

    class Meta:
        table_name = "payment_events"
        indexes = ((("provider", "transaction_id", "status", "status_code"), True),)
