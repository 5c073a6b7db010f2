"""A restore or import replaces ``screenly.db`` as a file: keep the device's link across it.

The link is the device's own (its key, its id in the cloud), like a host-level setting: it
must neither be lost because an archive predates linking, nor be taken from an archive made on
another device. So, around the file swap (``services/backup.py``):

1. ``capture(path)`` reads, from the database about to be replaced, the link row, the
   outbox rows not yet pushed, the highest outbox ``seq`` ever used, the applied commands, and
   which asset and QR content ids the cloud may know.
2. ``reinstate(path, carried)``, once the new file is in place and migrated, and inside the
   swap (if it fails, every file goes back), in one transaction of the new file: drops
   whatever sync rows the archive brought, puts the link, the pending rows (same keys, same
   seqs) and the applied commands back, makes later seqs continue after the old ones, then
   records the change the restore made: ``asset.delete``/``qr.delete`` for ids that are gone,
   ``asset.upsert``/``qr.upsert`` for everything the new library holds.

An unlinked device just drops the archive's sync rows. The SQLite file is read and written
with connections of its own: the server's shared database handle is never re-pointed.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peewee import SqliteDatabase

from anthias_edge.db import BUSY_TIMEOUT_MS
from anthias_edge.models import Asset, QRContent
from anthias_edge.timeutil import utcnow
from cloud_sync.device.outbox import dumps
from cloud_sync.device.payloads import asset_payload, qr_payload

logger = logging.getLogger(__name__)

SYNC_TABLES = ("sync_outbox", "sync_link", "sync_applied_commands")
SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass
class CarriedLink:
    """What ``capture`` read from the database being replaced."""

    link: dict[str, Any]
    pending: list[tuple[Any, ...]] = field(default_factory=list)  # seq, key, kind, payload, at
    applied: list[tuple[Any, ...]] = field(default_factory=list)
    last_seq: int = 0
    asset_ids: set[str] = field(default_factory=set)
    qr_ids: set[str] = field(default_factory=set)


def capture(path: Path) -> CarriedLink | None:
    """The link and its outbox from the SQLite file at ``path`` (None: not linked)."""
    if not _is_sqlite_file(path):
        return None
    with closing(_connect(path)) as conn:
        if not _has_sync_tables(conn):
            return None
        conn.row_factory = sqlite3.Row
        row = conn.execute('SELECT * FROM "sync_link" LIMIT 1').fetchone()
        if row is None:
            return None
        conn.row_factory = None
        carried = CarriedLink(link=dict(row))
        carried.pending = conn.execute(
            'SELECT "seq", "idem_key", "kind", "payload", "created_at" FROM "sync_outbox" '
            'ORDER BY "seq"').fetchall()
        carried.applied = conn.execute(
            'SELECT "command_id", "applied_at", "ok", "error" FROM "sync_applied_commands"'
        ).fetchall()
        used = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'sync_outbox'")
        carried.last_seq = max([0, *(r[0] for r in used), *(p[0] for p in carried.pending)])
        carried.asset_ids = {r[0] for r in conn.execute('SELECT "asset_id" FROM "assets"')}
        carried.qr_ids = {r[0] for r in conn.execute('SELECT "qr_id" FROM "qr_contents"')}
    return carried


def reinstate(path: Path, carried: CarriedLink | None) -> int:
    """Give the new file at ``path`` the device's link back; return outbox rows added."""
    if not _is_sqlite_file(path):
        return 0
    database = SqliteDatabase(str(path), pragmas={"busy_timeout": BUSY_TIMEOUT_MS,
                                                  "foreign_keys": 1})
    with database.connection_context():
        if not _has_sync_tables(database.connection()):
            if carried is not None:  # only a file nobody migrated; the server will not use it
                logger.warning("The restored database has no sync tables; link not carried")
            return 0
        with database.atomic(lock_type="IMMEDIATE"):
            for table in SYNC_TABLES:
                database.execute_sql(f'DELETE FROM "{table}"')
            if carried is None:
                return 0
            return _put_back(database, carried)


def _put_back(database: SqliteDatabase, carried: CarriedLink) -> int:
    names = list(carried.link)  # the columns of our own table, as read
    columns = ", ".join(f'"{name}"' for name in names)
    marks = ", ".join("?" for _ in names)
    database.execute_sql(f'INSERT INTO "sync_link" ({columns}) VALUES ({marks})',
                         [carried.link[name] for name in names])
    for applied in carried.applied:
        database.execute_sql('INSERT INTO "sync_applied_commands" ("command_id", "applied_at", '
                             '"ok", "error") VALUES (?, ?, ?, ?)', applied)
    for pending in carried.pending:
        database.execute_sql('INSERT INTO "sync_outbox" ("seq", "idem_key", "kind", "payload", '
                             '"created_at") VALUES (?, ?, ?, ?, ?)', pending)
    # Later rows continue after every seq the hub may have seen, even if none is pending.
    database.execute_sql("DELETE FROM sqlite_sequence WHERE name = 'sync_outbox'")
    database.execute_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('sync_outbox', ?)",
                         (carried.last_seq,))
    assets = list(Asset.select().bind(database))
    codes = list(QRContent.select().bind(database))
    entries: list[tuple[str, dict[str, Any]]] = []
    kept_assets = {a.asset_id for a in assets}
    kept_codes = {q.qr_id for q in codes}
    entries += [("qr.delete", {"qr_id": i}) for i in sorted(carried.qr_ids - kept_codes)]
    entries += [("asset.delete", {"asset_id": i}) for i in sorted(carried.asset_ids - kept_assets)]
    entries += [("asset.upsert", asset_payload(a)) for a in assets]
    entries += [("qr.upsert", qr_payload(q)) for q in codes]
    now = utcnow()
    for kind, payload in entries:
        database.execute_sql(
            'INSERT INTO "sync_outbox" ("idem_key", "kind", "payload", "created_at") '
            "VALUES (?, ?, ?, ?)",
            (str(uuid.uuid4()), kind, dumps(payload), now.isoformat(sep=" ")))
    return len(entries)


def _is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` starts like a SQLite database (checked before SQLite opens it, so
    that nothing, not even its side files, is touched otherwise)."""
    try:
        with path.open("rb") as file:
            return file.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)


def _has_sync_tables(conn: Any) -> bool:
    """Whether the file is a database with the sync tables (a file that is none has none)."""
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    except sqlite3.DatabaseError as exc:
        logger.warning("Not reading sync tables from an unreadable database: %s", exc)
        return False
    return set(SYNC_TABLES) <= {row[0] for row in rows}
