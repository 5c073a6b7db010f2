"""Pushing the outbox: batches in ``seq`` order, acknowledged through what the hub applied.

At least once: rows are deleted only after the hub's ``acked_through`` names them, so a cut
connection or a killed agent sends them again, and the hub's receipts make that exactly once.
A batch the hub refuses as invalid (400) is halved until the one entry at fault is found; that
entry can never be accepted, so it is skipped (logged, and said on the Cloud page) rather
than holding every later change back forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloud_sync.agent.database import connected
from cloud_sync.agent.errors import CloudRefused, CloudUnreachable
from cloud_sync.agent.http import HubClient
from cloud_sync.device import outbox
from cloud_sync.protocol.messages import Entry

logger = logging.getLogger(__name__)

PUSH = "/api/v3/sync/push"
BATCH = 500  # the hub's limit per push


@dataclass
class PushOutcome:
    """What one ``push_all`` did."""

    pushed: int = 0
    batches: int = 0
    skipped: list[str] = field(default_factory=list)  # plain words, one per skipped entry


def push_all(client: HubClient, health: dict[str, Any] | None,
             fill: Callable[[dict[str, Any]], dict[str, Any]] = lambda wire: wire,
             should_stop: Callable[[], bool] = lambda: False) -> PushOutcome:
    """Push every pending entry (``health`` with the first batch, or alone when there are
    none); ``fill`` may complete an entry's wire form (the media hash) just before sending."""
    outcome = PushOutcome()
    limit = BATCH
    while not should_stop():
        with connected():
            entries = outbox.pending(limit)
        if not entries and (health is None or outcome.batches):
            break
        body: dict[str, Any] = {"entries": [fill(entry.to_wire()) for entry in entries]}
        if health is not None and not outcome.batches:
            body["health"] = health
        try:
            acked = _send(client, body)
        except CloudRefused as exc:
            if exc.http_status != 400 or not entries:
                raise
            if len(entries) > 1:
                limit = max(1, len(entries) // 2)
                continue
            outcome.skipped.append(_skip(entries[0], exc))
            limit = BATCH
            continue
        outcome.batches += 1
        done = 0
        if entries:
            # Never past what this push carried: a hub that remembers a higher number (the
            # device's database was put back to an older copy, so its numbers went back)
            # must not make entries it has not seen yet look sent.
            acked = min(acked, entries[-1].seq)
            with connected():
                outbox.ack_through(acked)
            done = sum(1 for entry in entries if entry.seq <= acked)
            outcome.pushed += done
            if done == 0:
                raise CloudUnreachable("it accepted the changes but acknowledged none of them")
        if len(entries) < limit and done == len(entries):
            break  # all sent and acknowledged
        limit = BATCH
    return outcome


def _send(client: HubClient, body: dict[str, Any]) -> int:
    answer = client.call("POST", PUSH, json_body=body).json()
    acked = answer.get("acked_through") if isinstance(answer, dict) else None
    if isinstance(acked, bool) or not isinstance(acked, int):
        if not body["entries"]:
            return 0
        raise CloudUnreachable("its answer to a push lacked acked_through")
    return acked


def _skip(entry: Entry, exc: CloudRefused) -> str:
    with connected():
        outbox.ack_through(entry.seq)
    words = (f"A change the cloud cannot accept was skipped ({entry.kind}, number {entry.seq}): "
             f"{exc.message}")
    logger.error("%s; details: %s", words, exc.details)
    return words
