"""The status rules: which payment moves are forward, and when a subscription's time runs out.

Payment attempts follow the provider's documented cycle (integrations.md 1.6): ``pending``
ends in ``paid`` or a failure; ``paid`` may only be reversed (``denied``, ``refunded``,
``partially_refunded``, ``chargeback``). Any other move is stale (an out-of-order or repeated
notification) and changes nothing.

Subscriptions lapse in steps, never deleting anything: a renewal not paid by the end of
the period leaves ``active`` for a grace of ``RETRY_WINDOW`` (the provider's retries: Midtrans
retries three times, hourly, by default), then ``past_due`` for ``PAST_DUE_WINDOW`` with the
plan's limits still applying, then ``canceled`` with the free plan's limits.
"""

from __future__ import annotations

import calendar
import datetime as dt

PENDING, PAID = "pending", "paid"
REVERSALS = ("denied", "refunded", "partially_refunded", "chargeback")
FAILURES = ("denied", "expired", "canceled", "failed")
FORWARD: dict[str, tuple[str, ...]] = {
    PENDING: (PAID, *FAILURES),
    PAID: REVERSALS,
    "partially_refunded": ("refunded", "chargeback"),
}
RETRY_WINDOW = dt.timedelta(hours=3)
PAST_DUE_WINDOW = dt.timedelta(days=7)


def moves_forward(current: str, new: str) -> bool:
    """Whether an attempt in ``current`` may become ``new``."""
    return new in FORWARD.get(current, ())


def is_reversal(current: str, new: str) -> bool:
    """A paid payment taken back."""
    return current in (PAID, "partially_refunded") and new in REVERSALS


def period_after(start: dt.datetime, interval: str) -> dt.datetime:
    """The end of one billing interval from ``start``: same day next month (or year).

    A day the next month lacks becomes its last day (31 January -> 28 or 29 February).
    """
    months = 12 if interval == "year" else 1
    year, month = divmod(start.month - 1 + months, 12)
    year += start.year
    month += 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return start.replace(year=year, month=month, day=day)


def months_of(interval: str) -> int:
    """A plan's interval in the months a gateway schedules by (a year is 12)."""
    return 12 if interval == "year" else 1
