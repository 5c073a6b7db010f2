"""The one database handle, how it is opened, and the migration runner.

SQLite on a device (WAL, foreign keys, busy timeout), PostgreSQL when a
``postgresql://`` URL is given. Both are pooled so that a request's
``connect``/``close`` pair is cheap. On SQLite the process's transactions take
turns (``SqlitePool``), so its threads never wait for each other in SQLite's sleeps.
"""

from __future__ import annotations

import fcntl
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from peewee import (
    Database,
    DatabaseProxy,
    OperationalError,
    PostgresqlDatabase,
    SqliteDatabase,
)
from playhouse.migrations import Runner
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from anthias_edge.errors import StartupError

logger = logging.getLogger(__name__)

db = DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
MIGRATIONS_TABLE = "anthias_edge_migrations"
MIGRATION_LOCK_FILE = "migrations.lock"
# Any fixed 64-bit number; every Anthias Edge process agrees on it.
MIGRATION_LOCK_KEY = 0x616E746869617300  # "anthias\0"

BUSY_TIMEOUT_MS = 5000
SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # Readers and the player share the file; wait rather than fail on a lock.
    "busy_timeout": BUSY_TIMEOUT_MS,
    # WAL + NORMAL never corrupts on power loss; it may only drop the last commit.
    "synchronous": "normal",
}


def open_database(url_or_path: str | Path) -> Database:
    """Build (not connect) a database from a SQLite path or a ``postgresql://`` URL."""
    text = str(url_or_path)
    if text.startswith(("postgres://", "postgresql://")):
        return _open_postgresql(text)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") - 1 :]
    path = Path(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqlitePool(
        str(path), pragmas=SQLITE_PRAGMAS, max_connections=32, stale_timeout=300,
        check_same_thread=False,
    )


class SqlitePool(PooledSqliteDatabase):
    """peewee's SQLite pool whose transactions run one at a time in this process.

    SQLite has one writer per file. A thread that asks for the write lock while another holds
    it is put to sleep by SQLite's busy handler in steps of up to 100 ms, and checks again
    only when it wakes: under eight server threads that made a 20 ms write take a second or
    more. Here every transaction (each is a write in this code base: reads run outside them
    and stay concurrent under WAL) first takes a lock of this process, which wakes the next
    writer the moment the previous one ends, then ``BEGIN IMMEDIATE``, so it holds SQLite's
    write lock from its start and never fails upgrading from a read. Other processes (the
    player, the CLI) still meet the busy timeout, as before.

    A transaction that waits longer than the busy timeout for its turn fails with
    "database is locked", as SQLite's own wait would.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._writer = threading.Lock()
        self._turn = threading.local()  # whether this thread holds ``_writer``

    def begin(self, lock_type: str | None = None) -> None:
        """Wait for this process's turn, then begin holding SQLite's write lock."""
        if not self._writer.acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise OperationalError("database is locked")
        self._turn.held = True
        try:
            super().begin("EXCLUSIVE" if lock_type == "EXCLUSIVE" else "IMMEDIATE")
        except BaseException:
            self._end_turn()
            raise

    def commit(self) -> None:
        """Commit and let the next transaction begin."""
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self) -> None:
        """Roll back and let the next transaction begin."""
        try:
            super().rollback()
        finally:
            self._end_turn()

    def _end_turn(self) -> None:
        # peewee rolls back after a failed commit: the turn ends once.
        if getattr(self._turn, "held", False):
            self._turn.held = False
            self._writer.release()


class PostgresqlPool(PooledPostgresqlDatabase):
    """peewee's pool, minus the liveness check of a connection that was just in use.

    peewee checks every connection it hands out with a ``SELECT 1`` round trip: on a busy
    cloud worker that is one query in three. A connection returned to the pool less than
    ``RECENTLY_RETURNED_S`` ago was answering then, so it is handed out unchecked (as
    HikariCP does within half a second); one that rested longer is still checked, so a
    database restart costs at most the requests of that window.

    A connection never carries a cloud request's role or tenant into the next: both are set
    per transaction (``services/row_security.py``), end with its commit or rollback, and a
    connection returned inside a transaction is rolled back by the pool before reuse.
    """

    RECENTLY_RETURNED_S = 1.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._returned_at: dict[int, float] = {}

    def _can_reuse(self, conn: Any) -> bool:
        reusable = super()._can_reuse(conn)  # idle now, or rolled back to idle
        if reusable:
            self._returned_at[self.conn_key(conn)] = time.monotonic()
        return reusable

    def _is_closed(self, conn: Any) -> bool:
        returned = self._returned_at.pop(self.conn_key(conn), None)
        if conn.closed:
            return True
        if returned is not None and time.monotonic() - returned < self.RECENTLY_RETURNED_S:
            return False
        return super()._is_closed(conn)

    def _close_raw(self, conn: Any) -> None:
        self._returned_at.pop(self.conn_key(conn), None)
        super()._close_raw(conn)


def _open_postgresql(url: str) -> Database:
    parsed = urlparse(url)
    return PostgresqlPool(
        unquote(parsed.path.lstrip("/")) or "postgres",
        user=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
        host=parsed.hostname or "127.0.0.1",
        port=parsed.port or 5432,
        max_connections=32,
        stale_timeout=300,
    )


def is_postgresql(database: Database) -> bool:
    """True when the handle (or the proxy's target) is PostgreSQL."""
    target = database.obj if isinstance(database, DatabaseProxy) else database
    return isinstance(target, PostgresqlDatabase)


def is_sqlite(database: Database) -> bool:
    """True when the handle (or the proxy's target) is SQLite."""
    target = database.obj if isinstance(database, DatabaseProxy) else database
    return isinstance(target, SqliteDatabase)


@contextmanager
def without_waiting_for_disk(database: Database) -> Iterator[None]:
    """A transaction whose commit does not wait for the WAL to reach the disk (PostgreSQL).

    For bookkeeping a crash may lose (a token's last use): on a slow disk each such commit
    otherwise held its request up to a second. Elsewhere it is a plain transaction.
    """
    with database.atomic():
        if is_postgresql(database):
            database.execute_sql("SET LOCAL synchronous_commit TO OFF")
        yield


def migration_runner(database: Database) -> Runner:
    """The runner for our numbered migrations, recorded in their own history table."""
    return Runner(database, directory=str(MIGRATIONS_DIR), table_name=MIGRATIONS_TABLE)


def run_migrations(database: Database) -> list[str]:
    """Apply every pending migration; return the names applied.

    Several processes may start at once (the server and the player on a device;
    workers and hosts in the cloud). One migrates while the others wait, then
    finds nothing to do: PostgreSQL takes an advisory lock, SQLite a lock on a
    file beside the database (its own write lock fails fast when two
    transactions both upgrade from reading, which is what two runners do).
    """
    with _migration_lock(database):
        runner = migration_runner(database)
        pending = [m.name for m in runner.migrations() if m.name not in runner.applied()]
        try:
            runner.up()
        except Exception as exc:
            raise StartupError(f"Database migration failed: {exc}") from exc
    if pending:
        logger.info("applied migrations: %s", ", ".join(pending))
    return pending


@contextmanager
def _migration_lock(database: Database) -> Iterator[None]:
    if is_postgresql(database):
        database.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            yield
        finally:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))
        return
    target = database.obj if isinstance(database, DatabaseProxy) else database
    # A lasting helper file beside the database; backups leave out *.lock.
    lock_path = Path(target.database).with_name(MIGRATION_LOCK_FILE)
    with open(lock_path, "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def checkpoint(database: Database) -> None:
    """Fold the SQLite WAL into the main file so a copy of it is complete."""
    if is_sqlite(database):
        database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def close_connections(database: Database) -> None:
    """Close every connection of ``database``: all of a pool's, or the one of a plain database."""
    if hasattr(database, "close_all"):
        database.close_all()
    elif not database.is_closed():
        database.close()


POSTGRES_DRIVER_HINT = ("PostgreSQL support is not installed: pip install "
                        "'anthias-edge[postgres]' (it brings the psycopg driver).")


def require_postgresql_driver(url: str) -> None:
    """For a ``postgresql://`` URL, StartupError naming the extra when no driver imports.

    peewee works with psycopg (3) or psycopg2, and names only psycopg2 when both are missing;
    the ``postgres`` extra installs psycopg.
    """
    if not url.startswith(("postgres://", "postgresql://")):
        return
    import importlib

    for driver in ("psycopg", "psycopg2"):
        try:
            importlib.import_module(driver)
        except ImportError:
            continue
        return
    raise StartupError(POSTGRES_DRIVER_HINT)
