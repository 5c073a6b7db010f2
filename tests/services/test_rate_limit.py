"""The per-address limit of the landing page: N per minute, bursts included, then one back
every 60/N seconds (services/rate_limit.py), on a clock the test moves."""

from __future__ import annotations

from anthias_edge.services.rate_limit import RateLimiter, share_of


class Clock:
    """A monotonic clock the test sets."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_whole_minutes_allowance_may_be_spent_at_once_and_then_waits():
    clock = Clock()
    limiter = RateLimiter(120, clock=clock)

    answers = [limiter.hit("198.51.100.1") for _ in range(121)]

    assert answers[:120] == [None] * 120
    assert answers[120] == 1  # one request comes back every half second


def test_waiting_the_retry_after_gives_one_request_back():
    clock = Clock()
    limiter = RateLimiter(2, clock=clock)
    limiter.hit("a"), limiter.hit("a")

    retry_after = limiter.hit("a")
    clock.now += retry_after
    again = limiter.hit("a")
    refused = limiter.hit("a")

    assert retry_after == 30
    assert again is None
    assert refused is not None


def test_addresses_are_counted_apart_and_a_refusal_costs_nothing():
    clock = Clock()
    limiter = RateLimiter(1, clock=clock)

    first = limiter.hit("a")
    refusals = [limiter.hit("a") for _ in range(5)]
    other = limiter.hit("b")
    clock.now += 60
    after_a_minute = limiter.hit("a")

    assert first is None
    assert refusals == [60, 60, 60, 60, 60]
    assert other is None
    assert after_a_minute is None


def test_zero_turns_the_limit_off():
    limiter = RateLimiter(0, clock=Clock())

    assert [limiter.hit("a") for _ in range(1000)] == [None] * 1000


def test_forgotten_addresses_come_back_with_a_full_allowance():
    clock = Clock()
    limiter = RateLimiter(1, clock=clock)
    for n in range(10_000):
        limiter.hit(f"10.0.{n // 256}.{n % 256}")
    clock.now += 61

    limiter.hit("another")  # the sweep runs at 10,000 kept addresses

    assert len(limiter._full_at) == 1
    assert limiter.hit("10.0.0.0") is None


def test_workers_share_a_limit_and_each_keeps_at_least_one():
    assert share_of(120, 4) == 30
    assert share_of(3, 4) == 1
    assert share_of(0, 4) == 0
    assert share_of(120, 0) == 120
