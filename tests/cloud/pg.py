"""PostgreSQL databases of the cloud tests' own, apart from the shared ``test`` database.

Each test module drops and recreates its database, so runs and modules never see each
other's rows. The server is the one ANTHIAS_TEST_DATABASE_URL names, else 127.0.0.1:5432.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest

from tests.migrated_postgresql import migrated_schema

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def database_url(name: str) -> str:
    """The URL of database ``name`` on the test server."""
    base = urlparse(os.environ.get("ANTHIAS_TEST_DATABASE_URL") or DEFAULT_SERVER)
    return urlunparse(base._replace(path=f"/{name}"))


def fresh_database(name: str) -> str:
    """Drop and create ``name``; return its URL (skip the test when PostgreSQL is absent)."""
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(database_url("postgres"), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL does not answer: {exc}")
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(name)


def drop_database(name: str) -> None:
    """Remove ``name`` after the module."""
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of one query, on a connection of its own."""
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def reset_schema(url: str) -> None:
    """An empty public schema, for tests that need a database without any table."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


def database_fixtures(database: str, *, made: str, emptied: str, migrated: bool = False
                      ) -> tuple[Any, Any]:
    """Two fixtures on database ``database``: ``made`` per module (created, then dropped) and
    ``emptied`` per test (its public schema reset; with ``migrated``, the schema as the
    migrations leave it, see tests/migrated_postgresql.py). Assign both at module level::

        server_url, pg = database_fixtures("anthias_x_test", made="server_url", emptied="pg")
    """

    @pytest.fixture(scope="module", name=made)
    def _made() -> Iterator[str]:
        yield fresh_database(database)
        drop_database(database)

    @pytest.fixture(name=emptied)
    def _emptied(request: pytest.FixtureRequest) -> str:
        url = request.getfixturevalue(made)
        if migrated:
            migrated_schema(url).reset()
        else:
            reset_schema(url)
        return url

    return _made, _emptied
