"""A per-key request limit kept in this process: N requests per minute, bursts included.

The generic cell rate algorithm: each key keeps one time, the moment its allowance is used
up ("theoretical arrival time"). A request at ``now`` is allowed while that time lies at most
one window minus one interval ahead, and pushes it one interval further. So a key may spend
its whole minute's allowance at once, then gets one request back every ``60 / N`` seconds;
``Retry-After`` is exactly when the next one is allowed. One float per key, O(1) per request.

The state lives in this process only. A device runs one server process, so its limit is
exact. A cloud server runs several workers (and hosts): each worker keeps its own counts,
so the cloud gives each worker ``per_minute / workers`` (``share_of``); an address whose
requests land on several workers gets at most the configured total per host.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

WINDOW_S = 60.0
# Forget keys whose allowance came back in full, once this many are kept.
SWEEP_AT = 10_000


class RateLimiter:
    """At most ``per_minute`` requests per key per minute; 0 allows everything."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = max(0, int(per_minute))
        self._clock = clock
        self._interval = WINDOW_S / self.per_minute if self.per_minute else 0.0
        self._tolerance = WINDOW_S - self._interval
        self._full_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> int | None:
        """Count one request of ``key``: None if allowed, else the seconds to wait (>= 1)."""
        if not self.per_minute:
            return None
        now = self._clock()
        with self._lock:
            full_at = max(self._full_at.get(key, now), now)
            ahead = full_at - now
            if ahead > self._tolerance:
                return max(1, math.ceil(ahead - self._tolerance))
            if len(self._full_at) >= SWEEP_AT:
                self._sweep(now)
            self._full_at[key] = full_at + self._interval
        return None

    def _sweep(self, now: float) -> None:
        # A key whose time has passed has its whole allowance again: same as never seen.
        for key in [key for key, full_at in self._full_at.items() if full_at <= now]:
            del self._full_at[key]


def share_of(per_minute: int, workers: int) -> int:
    """One worker's part of a limit shared by ``workers`` processes (at least 1 unless 0)."""
    if per_minute <= 0:
        return 0
    return max(1, per_minute // max(1, workers))
