"""The tests' migrated template database is what the migrations build, and an app takes it as
already migrated (tests/template_database.py)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from anthias_edge.db import MIGRATIONS_DIR, migration_runner, run_migrations
from tests.template_database import build_template, migrations_hash, seed_fresh_home

pytestmark = pytest.mark.sqlite_only


def schema(path: Path) -> list[tuple[str, str, str]]:
    """Every table, index and trigger of a SQLite file with the SQL that made it."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
                            "ORDER BY type, name").fetchall()
    conn.close()
    return rows


def rows(path: Path, table: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        found = conn.execute(f'SELECT * FROM "{table}" ORDER BY 1').fetchall()
    conn.close()
    return found


def masked(found: list[tuple]) -> list[tuple]:
    """Rows with uuids and timestamps replaced by a placeholder."""
    generated = re.compile(r"^([0-9a-f]{8}-[0-9a-f]{4}-|\d{4}-\d\d-\d\d[ T]\d\d:)")
    return [tuple("<generated>" if isinstance(value, str) and generated.match(value) else value
                  for value in row) for row in found]


def test_an_app_on_the_copy_migrates_nothing_and_sees_every_migration_applied(
        make_app: Callable[..., Flask], home: Path) -> None:
    app = make_app()
    database = app.extensions["anthias"].database
    assert Path(database.database) == home / ".screenly" / "screenly.db"
    with database.connection_context():
        assert run_migrations(database) == []
        applied = sorted(migration_runner(database).applied())
    assert applied == sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py"))


def test_the_copy_has_the_schema_and_rows_of_a_database_migrated_from_empty(
        database_template: Path, tmp_path: Path) -> None:
    scratch = build_template(tmp_path)
    assert schema(database_template) == schema(scratch)
    tables = [name for kind, name, _ in schema(scratch) if kind == "table"]
    for table in tables:
        # Rows compared up to what a migration generates: ids (the local tenant's uuid), times.
        assert masked(rows(database_template, table)) == masked(rows(scratch, table)), table


def test_the_template_is_named_by_the_migration_files_it_was_built_from(
        database_template: Path) -> None:
    assert migrations_hash() in database_template.name


def test_a_home_with_data_of_its_own_is_left_for_the_app_to_migrate(
        database_template: Path, real_home: Path) -> None:
    before = (real_home / ".screenly" / "screenly.db").read_bytes()
    assert not seed_fresh_home(database_template, {"HOME": str(real_home)})
    assert (real_home / ".screenly" / "screenly.db").read_bytes() == before
