"""Write transactions on one tenant's asset library, one at a time per tenant.

Anthias's renumbering (docs/legacy-api.md §3.7) reads the active assets and rewrites their
positions. Two such transactions interleaved under PostgreSQL's READ COMMITTED lock each
other's rows in different orders (``deadlock detected``) or both act on what they read
before the other wrote (two assets at one position). So each write that renumbers, orders
or counts a tenant's assets first takes its tenant's lock: a PostgreSQL advisory lock held
until the transaction ends. On SQLite, which has one writer at a time anyway, every
transaction of the process already waits for its turn and begins holding the write lock
(``db.SqlitePool``), so it never has to upgrade from reading, which fails at once instead of
waiting. On PostgreSQL other tenants do not wait, short of a hash collision of their ids.
A cloud request's write commits as soon as it is done (``row_security.commit_request_write``):
the lock would otherwise be held until the request's end, across reading the row back and
writing the answer, and the tenant's next write waited for all of it (issue 11).
A deadlock or serialisation failure that still happens (with rows some other writer locks)
is retried a few times, in a fresh transaction or savepoint.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from peewee import Database, OperationalError

from anthias_edge.db import db, is_postgresql
from anthias_edge.errors import WriteContention
from anthias_edge.services.row_security import commit_request_write

logger = logging.getLogger(__name__)

T = TypeVar("T")

# The first key of the two-key advisory lock ("antP"); the second is the tenant id's hash.
# Two-key locks never collide with the one-key migration and job locks.
LOCK_CLASS = 0x616E7450
ATTEMPTS = 4
DEADLOCK = "40P01"
SERIALIZATION_FAILURE = "40001"
RETRYABLE_SQLSTATES = frozenset({DEADLOCK, SERIALIZATION_FAILURE})
RETRY_PAUSE_S = 0.02


def in_tenant_write(tenant_id: str | None, work: Callable[[], T],
                    database: Database = db) -> T:
    """Run ``work`` in a transaction holding the tenant's write lock; retry a deadlock.

    When every attempt clashed, WriteContention (503, no database text) is raised.

    Inside a transaction already begun by the caller (a cloud request's, row_security.py),
    ``work`` runs in a savepoint. A deadlock is retried there too: rolling back to the
    savepoint releases the row locks the attempt took, so the other transaction goes on. A
    serialisation failure is not, as the outer transaction's snapshot would fail it again.
    """
    nested = database.in_transaction()
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with _locked(database, str(tenant_id or ""), nested):
                result = work()
        except OperationalError as exc:
            code = sqlstate(exc)
            if code not in RETRYABLE_SQLSTATES:
                raise
            if attempt == ATTEMPTS or (nested and code != DEADLOCK):
                # The database's own text names processes and tuples: not for clients.
                raise WriteContention() from exc
            logger.warning("write of tenant %s hit %s; retrying (attempt %d)", tenant_id,
                           code, attempt + 1)
            time.sleep(random.uniform(0, RETRY_PAUSE_S * attempt))  # let the other finish
            continue
        # A cloud request's write commits now, which releases the lock; outside the retries:
        # a failed commit has ended the transaction, and there is nothing left to retry in.
        if nested:
            commit_request_write(database, tenant_id)
        return result
    raise AssertionError("unreachable")  # the loop returns or raises


def sqlstate(exc: BaseException) -> str | None:
    """PostgreSQL's error code behind a peewee error (psycopg 3 or 2), else None."""
    for candidate in (*exc.args[:1], exc.__cause__, exc.__context__):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if code:
            return str(code)
    return None


@contextmanager
def _locked(database: Database, key: str, nested: bool) -> Iterator[None]:
    if is_postgresql(database):
        with database.atomic():
            database.execute_sql("SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                                 (LOCK_CLASS, key))
            yield
    elif nested:
        with database.atomic():
            yield
    else:
        with database.atomic(lock_type="IMMEDIATE"):
            yield
