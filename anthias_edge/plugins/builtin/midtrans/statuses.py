"""Midtrans's words as the payment contract's: statuses, amounts, signatures, dates.

integrations.md 1.5-1.6: ``transaction_status`` with ``fraud_status`` decides whether money
was taken; ``gross_amount`` is a string with two decimals; the signature is
SHA-512(order_id + status_code + gross_amount + server key), hex, over the exact strings sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from anthias_edge.plugins.payment import SubscriptionState, TransactionState

_PLAIN: dict[str, TransactionState] = {
    "pending": "pending",
    "authorize": "pending",  # pre-authorised, not yet captured
    "deny": "denied",
    "cancel": "canceled",
    "expire": "expired",
    "refund": "refunded",
    "partial_refund": "partially_refunded",
    "chargeback": "chargeback",
    "partial_chargeback": "chargeback",
    "failure": "failed",
}
# Subscription timestamps are GMT+7 (integrations.md 1.4).
JAKARTA = dt.timezone(dt.timedelta(hours=7))
MIDTRANS_TIME = "%Y-%m-%d %H:%M:%S %z"


def transaction_state(body: Mapping[str, Any]) -> TransactionState:
    """The normalised state of a Midtrans transaction (notification or status answer).

    Paid only when the money is taken and the fraud check accepted it; a capture held for
    review (``challenge``) is still pending, a capture the check refused is denied.
    """
    status = str(body.get("transaction_status") or "")
    fraud = str(body.get("fraud_status") or "accept")
    if status in ("settlement", "capture"):
        if fraud == "deny":
            return "denied"
        return "paid" if fraud == "accept" else "pending"
    return _PLAIN.get(status, "unknown")


def subscription_state(body: Mapping[str, Any]) -> SubscriptionState:
    """``active`` or ``inactive`` as Midtrans reports them; anything else is ``unknown``."""
    status = str(body.get("status") or "")
    return status if status in ("active", "inactive") else "unknown"  # type: ignore[return-value]


def whole_amount(value: Any) -> int | None:
    """``"10000.00"`` (or 10000) as 10000; None when absent or not a whole amount."""
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount != amount.to_integral_value():
        return None
    return int(amount)


def signature(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """The ``signature_key`` Midtrans puts in a transaction notification."""
    text = f"{order_id}{status_code}{gross_amount}{server_key}"
    return hashlib.sha512(text.encode("utf-8")).hexdigest()


def signature_matches(body: Mapping[str, Any], server_key: str) -> bool:
    """True when the body's ``signature_key`` is the one its fields and our key give.

    The fields are taken exactly as sent (never reformatted) and compared in constant time.
    """
    fields = [body.get(name) for name in ("order_id", "status_code", "gross_amount",
                                          "signature_key")]
    if not all(isinstance(value, str) for value in fields):
        return False
    order_id, status_code, gross_amount, sent = fields
    expected = signature(order_id, status_code, gross_amount, server_key)
    return hmac.compare_digest(expected.encode("ascii"), sent.lower().encode("utf-8"))


def midtrans_time(value: dt.datetime) -> str:
    """A datetime (naive = UTC) as the Subscription API wants it: ``2020-07-22 07:25:01 +0700``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(JAKARTA).strftime(MIDTRANS_TIME)


def parse_midtrans_time(value: Any) -> dt.datetime | None:
    """A Midtrans timestamp as naive UTC (our storage form); None when absent or malformed."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    for form in (MIDTRANS_TIME, "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = dt.datetime.strptime(text, form)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=JAKARTA)
        return parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return None
