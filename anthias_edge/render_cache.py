"""Knowing cheaply whether the database changed, so rendered answers can be reused.

SQLite tells each connection two counters: ``total_changes()`` (rows this
connection changed) and ``PRAGMA data_version`` (moves when *another*
connection, in this process or another one, commits). A connection whose pair
differs from what it showed last time has seen a change; any such sighting
starts a new generation. PostgreSQL has no such cheap signal, so there every
call is a new generation and nothing is reused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from peewee import Database

from anthias_edge.db import is_sqlite

MAX_TRACKED = 64
T = TypeVar("T")
PROBE = "SELECT total_changes(), (SELECT data_version FROM pragma_data_version)"


class DataGeneration:
    """A number that moves whenever any committed write may have happened."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._enabled = is_sqlite(database)
        self._lock = threading.Lock()
        # Holding the connection keeps its id from being reused by a new one.
        self._seen: dict[int, tuple[object, tuple[int, int]]] = {}
        self._generation = 0

    @property
    def moves_only_on_writes(self) -> bool:
        """Whether a generation outlives a call (SQLite); else every call is a new one."""
        return self._enabled

    def current(self) -> int:
        """The generation as seen from the calling thread's connection."""
        if not self._enabled:
            with self._lock:
                self._generation += 1
                return self._generation
        connection = self._database.connection()
        state = connection.execute(PROBE).fetchone()
        key = id(connection)
        with self._lock:
            known = self._seen.get(key)
            if known is None or known[1] != state:
                if len(self._seen) > MAX_TRACKED:
                    self._seen.clear()
                self._seen[key] = (connection, state)
                self._generation += 1
            return self._generation


@dataclass
class _Entry:
    generation: int
    valid_until: dt.datetime
    body: bytes
    etag: str


class RenderCache:
    """Rendered bodies reused while the data generation holds and no schedule edge passes."""

    def __init__(self, generation: DataGeneration) -> None:
        self._generation = generation
        self._lock = threading.Lock()
        self._entries: dict[tuple, _Entry] = {}
        self._companions: dict[type, object] = {}

    def companion(self, kind: type[T], build: Callable[[], T]) -> T:
        """The one ``kind`` object kept beside this cache (what builders reuse between builds)."""
        with self._lock:
            found = self._companions.get(kind)
            if found is None:
                found = self._companions[kind] = build()
            return found  # type: ignore[return-value]

    @property
    def reuses(self) -> bool:
        """Whether a built body can be served again (not on PostgreSQL: no change signal)."""
        return self._generation.moves_only_on_writes

    def peek(self, key: tuple, now: dt.datetime) -> tuple[bytes, str] | None:
        """The body for ``key`` and its ETag if it is still current, else None (nothing built)."""
        generation = self._generation.current()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry.generation == generation and now < entry.valid_until:
            return entry.body, entry.etag
        return None

    def get_or_build(
        self,
        key: tuple,
        now: dt.datetime,
        build: Callable[[], tuple[bytes, dt.datetime]],
    ) -> tuple[bytes, str]:
        """The body for ``key`` and its ETag, built by build() when missing or expired."""
        generation = self._generation.current()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry.generation == generation and now < entry.valid_until:
            return entry.body, entry.etag
        body, valid_until = build()
        etag = hashlib.blake2b(body, digest_size=16).hexdigest()
        with self._lock:
            self._entries[key] = _Entry(generation, valid_until, body, etag)
        return body, etag
