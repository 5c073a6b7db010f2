"""The PostgreSQL pool: no liveness check for a connection just returned, one after a rest."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anthias_edge.db import PostgresqlPool, open_database
from tests.cloud.pg import database_url, query

pytestmark = pytest.mark.postgres


@pytest.fixture
def pool() -> Iterator[PostgresqlPool]:
    database = open_database(database_url("test"))
    assert isinstance(database, PostgresqlPool)
    yield database
    database.close_all()


def last_statement(pid: int) -> str:
    """What the backend ``pid`` ran last, read from another connection."""
    rows = query(database_url("test"), "SELECT query FROM pg_stat_activity WHERE pid = %s",
                 (pid,))
    return rows[0][0]


def checkout(pool: PostgresqlPool) -> int:
    """Take a connection from the pool; the backend's pid."""
    pool.connect()
    return pool.connection().info.backend_pid


def test_a_connection_just_returned_is_handed_out_without_a_check(pool):
    pid = checkout(pool)
    pool.execute_sql("SELECT 'the last request'").fetchall()
    pool.close()
    assert checkout(pool) == pid
    assert last_statement(pid) == "SELECT 'the last request'"  # no SELECT 1 in between
    pool.close()


def test_a_rested_connection_is_checked_and_a_dead_one_replaced(pool, monkeypatch):
    monkeypatch.setattr(PostgresqlPool, "RECENTLY_RETURNED_S", 0.0)
    pid = checkout(pool)
    pool.close()
    assert checkout(pool) == pid
    assert last_statement(pid) == "SELECT 1"
    pool.close()

    # The server ends the resting connection (a restart, an idle timeout): the next
    # request gets a new one and never sees the error.
    query(database_url("test"), "SELECT pg_terminate_backend(%s)", (pid,))
    replacement = checkout(pool)
    assert replacement != pid
    assert pool.execute_sql("SELECT 41 + 1").fetchone() == (42,)
    pool.close()
