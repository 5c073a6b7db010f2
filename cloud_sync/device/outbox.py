"""The outbox: each local change the cloud should learn of, written in the change's transaction.

Every write path (the asset service for API v1-v3 and the web UI, play-order renumbering, QR
contents, restore and import, the player's play log) calls ``record`` inside the transaction
that makes the change, so a change and its outbox row commit or roll back together; the agent
pushes rows in ``seq`` order and deletes them once the hub acknowledges them (``ack_through``).

Only a linked device writes: ``record`` first asks whether ``sync_link`` has its row, inside
the same transaction. That one-row probe is the cache invalidation: the agent and the CLI link
and unlink from other processes sharing the SQLite file, and a flag kept in this process would
miss their change, while the probe runs under the very write lock that linking takes
(``link_store.save_link``), so a change is either before the link (and in its snapshot) or
after it (and recorded). It costs a few microseconds (tests/sync_device/test_outbox_cost.py).

A cloud server never writes here: ``never_record(database)`` (called by ``create_app`` in
cloud mode) turns ``record`` into a no-op for that database without any query, and the cloud's
request role may not read these tables anyway (migration 0015).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

from peewee import Database

from anthias_edge.db import db
from anthias_edge.models.sync_device import SyncOutbox
from anthias_edge.timeutil import utcnow
from cloud_sync.protocol.messages import Entry, wire_time

KINDS = frozenset({"asset.upsert", "asset.delete", "play", "qr.upsert", "qr.delete",
                   "command.result"})
_LINKED = 'SELECT 1 FROM "sync_link" LIMIT 1'
_INSERT = 'INSERT INTO "sync_outbox" ("idem_key", "kind", "payload", "created_at") VALUES'
INSERT_CHUNK = 500  # rows per INSERT: 2,000 parameters, far below SQLite's limit
_silent: weakref.WeakSet[Database] = weakref.WeakSet()


def never_record(database: Database) -> None:
    """Make ``record`` a no-op for ``database`` (the cloud's: it is never linked)."""
    _silent.add(database)


def is_linked(database: Database | None = None) -> bool:
    """Whether the device is linked now (the one-row probe ``record`` makes)."""
    database = database or db.obj
    if database in _silent:
        return False
    return database.execute_sql(_LINKED).fetchone() is not None


def record(kind: str, payload: Mapping[str, Any]) -> None:
    """Write one outbox row in the current transaction, if the device is linked.

    Raise RuntimeError outside a transaction: a row committed apart from its change could
    describe a change that was rolled back, or miss one that was not.
    """
    record_many(kind, (payload,))


def record_many(kind: str, payloads: Iterable[Mapping[str, Any]]) -> int:
    """Write one row per payload (one INSERT), if linked; return how many were written."""
    if kind not in KINDS:
        raise ValueError(f"Unknown outbox kind {kind!r}")
    database = db.obj
    if not database.in_transaction():
        raise RuntimeError("outbox.record must run inside the transaction of its change")
    if not is_linked(database):
        return 0
    now = SyncOutbox.created_at.db_value(utcnow())
    rows = [(str(uuid.uuid4()), kind, dumps(p), now) for p in payloads]
    # Plain SQL: peewee took ten times longer to render an INSERT than SQLite to run it.
    mark = database.param
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start:start + INSERT_CHUNK]
        values = ", ".join([f"({mark}, {mark}, {mark}, {mark})"] * len(chunk))
        database.execute_sql(f"{_INSERT} {values}", [v for row in chunk for v in row])
    return len(rows)


def pending(limit: int = 500) -> list[Entry]:
    """The oldest ``limit`` rows not yet acknowledged, in ``seq`` order."""
    query = SyncOutbox.select().order_by(SyncOutbox.seq).limit(max(1, limit))
    return [Entry(row.seq, row.idem_key, row.kind, row.created_at, row.payload)
            for row in query]


def ack_through(seq: int) -> int:
    """Forget every row up to ``seq`` (the hub applied them); return how many."""
    with db.atomic():
        return SyncOutbox.delete().where(SyncOutbox.seq <= seq).execute()


def count() -> int:
    """How many rows wait to be pushed."""
    return SyncOutbox.select().count()


def dumps(payload: Mapping[str, Any]) -> str:
    """A payload as compact JSON text, times as the wire carries them (``wire_time``)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return wire_time(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
