"""The tests' PostgreSQL reset gives back what the migrations built, and migrates again when a
test changed the schema (tests/migrated_postgresql.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anthias_edge.db import MIGRATIONS_DIR, migration_runner, open_database, run_migrations
from tests.cloud.pg import drop_database, fresh_database, query
from tests.migrated_postgresql import MigratedSchema, schema_fingerprint

pytestmark = pytest.mark.postgres

DATABASE = "anthias_migrated_schema_test"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    yield fresh_database(DATABASE)
    drop_database(DATABASE)


@pytest.fixture
def schema(url: str) -> Iterator[MigratedSchema]:
    """A reset of its own for the module's database (not the one the other tests share)."""
    made = MigratedSchema(url)
    yield made
    made.close()


def execute(url: str, statement: str) -> None:
    """Run ``statement`` (one or several, no parameters) on a connection of its own."""
    import psycopg  # only where PostgreSQL runs, as tests/cloud/pg.py does

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)


def fingerprint(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        return schema_fingerprint(conn)


def contents(url: str) -> dict[str, object]:
    """Every public table's rows and every sequence's position."""
    tables = [name for (name,) in query(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
    sequences = [name for (name,) in query(
        url, "SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")]
    found: dict[str, object] = {
        table: query(url, f'SELECT * FROM "{table}" ORDER BY 1') for table in tables}
    for sequence in sequences:
        found[sequence] = query(url, f'SELECT last_value, is_called FROM "{sequence}"')
    return found


def schema_oid(url: str) -> int:
    """The public schema's object id: a new one each time the schema is dropped and made."""
    return query(url, "SELECT oid FROM pg_namespace WHERE nspname = 'public'")[0][0]


def test_a_reset_after_rows_were_written_gives_back_the_migrated_database(
        url: str, schema: MigratedSchema) -> None:
    schema.reset()  # the first one migrates from empty
    migrated, migrated_oid = contents(url), schema_oid(url)
    execute(url, "INSERT INTO tenants (id, name, subdomain, created_at, updated_at) "
               "VALUES ('t1', 'Acme', 'acme', now(), now())")
    execute(url, "INSERT INTO audit_log (tenant_id, actor, action, at) "
               "VALUES ('t1', 'alice', 'create', now())")
    query(url, "SELECT nextval('assets_seq_seq')")
    execute(url, "DELETE FROM anthias_edge_migrations WHERE name = '0009_row_level_security'")

    schema.reset()

    assert schema_oid(url) == migrated_oid  # emptied in place, not migrated again
    assert contents(url) == migrated


def test_an_app_on_a_reset_database_finds_every_migration_applied(
        url: str, schema: MigratedSchema) -> None:
    schema.reset()
    schema.reset()
    database = open_database(url)
    try:
        with database.connection_context():
            assert run_migrations(database) == []
            applied = sorted(migration_runner(database).applied())
    finally:
        database.close_all()
    assert applied == sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py"))


@pytest.mark.parametrize("change", [
    "CREATE TABLE probe (x int)",
    "DROP POLICY anthias_tenant_isolation ON assets",
    "ALTER TABLE assets NO FORCE ROW LEVEL SECURITY",
    "REVOKE DELETE ON tenants FROM anthias_app",
    "ALTER TABLE tenants ADD COLUMN probe int",
    "DROP INDEX assets_seq",
    "DROP SCHEMA public CASCADE; CREATE SCHEMA public",
])
def test_a_changed_schema_is_migrated_again_from_empty(
        url: str, schema: MigratedSchema, change: str) -> None:
    schema.reset()
    migrated = contents(url)
    with_policies = query(url, "SELECT tablename, policyname FROM pg_policies ORDER BY 1, 2")
    before = fingerprint(url)
    execute(url, change)
    assert fingerprint(url) != before
    changed_oid = schema_oid(url)

    schema.reset()

    assert schema_oid(url) != changed_oid  # dropped and migrated
    assert contents(url).keys() == migrated.keys()
    assert query(url, "SELECT tablename, policyname FROM pg_policies ORDER BY 1, 2") == (
        with_policies)
    assert fingerprint(url) == before
