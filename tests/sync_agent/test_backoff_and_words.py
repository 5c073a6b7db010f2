"""The retry schedule (full jitter, capped, Retry-After as a floor) and its plain words."""

from __future__ import annotations

import email.utils
import random

import pytest

from cloud_sync.agent.backoff import (
    CAP_S,
    FLOOR_S,
    RETRY_AFTER_MAX_S,
    Backoff,
    jittered_interval,
    parse_retry_after,
)
from cloud_sync.agent.errors import CloudRefused, CloudUnreachable
from cloud_sync.agent.wording import duration, refusal_words, retrying


def test_each_failure_may_wait_up_to_twice_as_long_until_the_cap():
    backoff = Backoff(base_s=5, cap_s=300, rng=random.Random(1))
    ceilings = []
    for _ in range(10):
        ceilings.append(backoff.ceiling())
        delay = backoff.failed()
        assert FLOOR_S <= delay <= ceilings[-1]

    assert ceilings == [5, 10, 20, 40, 80, 160, 300, 300, 300, 300]


def test_delays_are_spread_over_the_whole_range_not_clustered():
    # Full jitter: a fleet that lost the cloud together must not come back together.
    delays = []
    for seed in range(300):
        backoff = Backoff(rng=random.Random(seed))
        for _ in range(8):
            delay = backoff.failed()
        delays.append(delay)

    assert min(delays) < CAP_S * 0.2
    assert max(delays) > CAP_S * 0.8
    assert max(delays) <= CAP_S


def test_success_starts_again_from_the_shortest_delay():
    backoff = Backoff(rng=random.Random(2))
    for _ in range(6):
        backoff.failed()
    backoff.succeeded()

    assert backoff.failures == 0
    assert backoff.failed() <= 5


def test_a_retry_after_is_a_minimum_but_an_absurd_one_is_capped():
    backoff = Backoff(rng=random.Random(3))

    assert backoff.failed(retry_after_s=120) >= 120
    assert backoff.failed(retry_after_s=10**9) == RETRY_AFTER_MAX_S


def test_retry_after_is_read_in_seconds_or_as_an_http_date():
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 90, usegmt=True)

    assert parse_retry_after("30") == 30
    assert parse_retry_after(date, now=now) == pytest.approx(90, abs=1)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_the_pull_interval_varies_by_at_most_a_fifth_either_way():
    rng = random.Random(4)
    values = [jittered_interval(30, rng) for _ in range(500)]

    assert all(24 <= value <= 36 for value in values)
    assert max(values) - min(values) > 8


@pytest.mark.parametrize(("seconds", "words"), [(0.2, "1 s"), (40, "40 s"), (119, "119 s"),
                                                (300, "5 min"), (7200, "2 h")])
def test_waits_are_said_as_people_read_them(seconds, words):
    assert duration(seconds) == words


def test_an_unreachable_cloud_is_said_with_its_reason_and_the_wait():
    words = retrying(CloudUnreachable("connection refused"), 40)

    assert words == "The cloud could not be reached (connection refused) — retrying in 40 s"


def test_known_refusals_get_plain_words_and_unknown_ones_keep_the_hubs_message():
    invalid = CloudRefused(404, "pairing_code_invalid", "Unknown code.")
    capped = CloudRefused(403, "fleet_token_invalid", "No.", {"reason": "cap_reached"})
    other = CloudRefused(400, "validation_error", "The name is too long.")

    assert "mistyped, already used or expired" in refusal_words(invalid)
    assert refusal_words(capped) == "The cloud refused the fleet token (cap reached)."
    assert refusal_words(other) == "The name is too long."
