"""Proof of play: record each play's start and end, prune old rows, list plays since a time.

The player writes here from its loop thread; the v2 API reads. Callers own the
database connection (the player wraps each call in ``connection_context``).

A play that was shown (it ended ``completed`` or ``interrupted``) goes into the sync outbox in
the transaction that ends it, when the device is linked: that is the proof of play the cloud
reports. Skips and renderer failures were never on screen and are not sent.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from anthias_edge.db import db
from anthias_edge.models.play_log import OUTCOMES, PlayLog
from anthias_edge.timeutil import utcnow
from cloud_sync.device import outbox
from cloud_sync.device.payloads import play_payload

logger = logging.getLogger(__name__)

MAX_LIMIT = 1000
SHOWN = frozenset({"completed", "interrupted"})  # outcomes the cloud counts as plays


def record_start(asset_id: str, asset_name: str | None, renderer: str,
                 now: dt.datetime | None = None) -> int:
    """A play began; return its row id for ``record_end``."""
    entry = PlayLog.create(asset_id=asset_id, asset_name=asset_name, renderer=renderer,
                           started_at=now or utcnow(), outcome="playing")
    return entry.id


def record_end(entry_id: int, outcome: str, now: dt.datetime | None = None) -> bool:
    """The play ended with ``outcome``; return False when the row is gone (pruned, restored)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"Unknown play outcome {outcome!r}")
    ended = now or utcnow()
    with db.atomic():
        updated = (PlayLog.update(ended_at=ended, outcome=outcome)
                   .where(PlayLog.id == entry_id).execute())
        if updated == 1 and outcome in SHOWN and outbox.is_linked():
            _record_plays(PlayLog.select().where(PlayLog.id == entry_id))
    return updated == 1


def record_skip(asset_id: str, asset_name: str | None, renderer: str, outcome: str = "skipped",
                now: dt.datetime | None = None) -> int:
    """An asset that was due but not shown (unreachable URL, renderer failure)."""
    moment = now or utcnow()
    entry = PlayLog.create(asset_id=asset_id, asset_name=asset_name, renderer=renderer,
                           started_at=moment, ended_at=moment, outcome=outcome)
    return entry.id


def close_unfinished(now: dt.datetime | None = None) -> int:
    """Mark plays a previous player process never ended as interrupted; return how many.

    Their end time is unknown, so ``ended_at`` stays null.
    """
    del now  # kept for a uniform signature; the end of a crashed play is not known
    with db.atomic():
        if outbox.is_linked():  # shown, for an unknown time
            _record_plays(PlayLog.select().where(PlayLog.outcome == "playing"), ended=False)
        count = (PlayLog.update(outcome="interrupted")
                 .where(PlayLog.outcome == "playing").execute())
    if count:
        logger.info("Marked %d unfinished play(s) as interrupted", count)
    return count


def prune(retention_days: int, now: dt.datetime | None = None) -> int:
    """Delete plays that started more than ``retention_days`` ago; return how many."""
    cutoff = (now or utcnow()) - dt.timedelta(days=max(0, retention_days))
    count = PlayLog.delete().where(PlayLog.started_at < cutoff).execute()
    if count:
        logger.info("Pruned %d play log row(s) older than %s", count, cutoff)
    return count


def list_since(since: dt.datetime | None, limit: int = 100) -> list[PlayLog]:
    """Plays that started at or after ``since`` (naive UTC; all when None), oldest first."""
    limit = max(1, min(limit, MAX_LIMIT))
    return list(PlayLog.since(since).limit(limit))


def _record_plays(rows: Iterable[PlayLog], ended: bool = True) -> None:
    outbox.record_many("play", [
        play_payload(row.asset_id, row.asset_name, row.started_at,
                     row.ended_at if ended else None) for row in rows])
