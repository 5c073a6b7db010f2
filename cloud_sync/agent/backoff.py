"""When to try again: exponential backoff with full jitter, and the jittered pull interval.

Full jitter (a uniform pick between a small floor and the exponential ceiling) spreads a fleet
of screens that lost the cloud at the same moment, so they do not all come back at once.
"""

from __future__ import annotations

import email.utils
import random
import time

BASE_S = 5.0
CAP_S = 300.0
FLOOR_S = 1.0
# A Retry-After beyond this is taken as a mistake rather than obeyed for days.
RETRY_AFTER_MAX_S = 3600.0
# The pull interval varies by up to this fraction either way.
INTERVAL_JITTER = 0.2


class Backoff:
    """Delays after failures in a row: ``failed()`` gives the next one, ``succeeded()`` resets."""

    def __init__(self, base_s: float = BASE_S, cap_s: float = CAP_S,
                 rng: random.Random | None = None) -> None:
        """The first failure waits up to ``base_s``, each further one up to twice as long,
        never more than ``cap_s``."""
        if not 0 < base_s <= cap_s:
            raise ValueError("backoff needs 0 < base_s <= cap_s")
        self.base_s = base_s
        self.cap_s = cap_s
        self.failures = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """The longest delay the next failure may bring."""
        return min(self.cap_s, self.base_s * 2 ** min(self.failures, 62))

    def failed(self, retry_after_s: float | None = None) -> float:
        """Count a failure and return how long to wait; a server's Retry-After is a minimum."""
        ceiling = self.ceiling()
        self.failures += 1
        delay = self._rng.uniform(min(FLOOR_S, ceiling), ceiling)
        if retry_after_s is not None and retry_after_s > 0:
            delay = max(delay, min(retry_after_s, RETRY_AFTER_MAX_S))
        return delay

    def succeeded(self) -> None:
        """Start again from the shortest delay."""
        self.failures = 0


def jittered_interval(interval_s: float, rng: random.Random | None = None) -> float:
    """``interval_s`` moved by up to INTERVAL_JITTER of itself either way."""
    spread = interval_s * INTERVAL_JITTER
    return (rng or random).uniform(interval_s - spread, interval_s + spread)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdecimal():
        return float(int(text))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
