"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

import sqlite3
import subprocess
import sys
import tarfile

import pytest

from anthias_edge.db import MIGRATIONS_DIR, MIGRATIONS_TABLE, migration_runner, run_migrations
from anthias_edge.models import Asset
from tests.conftest import REAL


@pytest.fixture
def database_template() -> None:
    """These tests check what the migrations build: their apps migrate an empty database."""
    return None


def test_the_migrated_assets_table_has_every_model_column(app):
    database = app.extensions["anthias"].database
    with database.connection_context():
        columns = {c.name for c in database.get_columns("assets")}
    expected = {field.column_name for field in Asset._meta.sorted_fields}
    assert expected <= columns
    assert columns - expected <= {"seq"}  # PostgreSQL's insertion-order column


def test_the_migrated_indexes_cover_tenant_listing_and_share_codes(app):
    database = app.extensions["anthias"].database
    with database.connection_context():
        indexes = {tuple(index.columns): index.unique for index in database.get_indexes("assets")}
    assert indexes[("tenant_id", "is_enabled")] is False
    assert indexes[("share_code",)] is True
    # Renumbering rewrites play_order in up to every row: no index may hold it (0016).
    assert not [columns for columns in indexes if "play_order" in columns]


def test_running_the_migrations_again_applies_nothing(app):
    database = app.extensions["anthias"].database
    with database.connection_context():
        assert run_migrations(database) == []
        applied = migration_runner(database).applied()
        assert database.table_exists(MIGRATIONS_TABLE)
    on_disk = sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py"))
    assert sorted(applied) == on_disk
    assert on_disk[:2] == ["0001_anthias_assets", "0002_edge_asset_columns"]


@pytest.mark.sqlite_only
def test_a_fresh_database_carries_anthias_django_history_so_anthias_can_open_it(app, tmp_path):
    """Anthias runs Django's migrate at start; our database must look migrated to it."""
    with tarfile.open(REAL / "anthias-home.tar.gz") as archive:
        archive.extractall(tmp_path / "anthias", filter="data")
    anthias_db = tmp_path / "anthias" / ".screenly" / "screenly.db"
    database = app.extensions["anthias"].database
    with database.connection_context():
        ours = database.execute_sql('SELECT "app", "name" FROM "django_migrations" ORDER BY "id"')
        ours = [tuple(row) for row in ours.fetchall()]
        our_tables = set(database.get_tables())
    with sqlite3.connect(anthias_db) as anthias:
        theirs = [tuple(r) for r in anthias.execute(
            'SELECT "app", "name" FROM "django_migrations" ORDER BY "id"')]
        their_tables = {r[0] for r in anthias.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert ours == theirs
    assert their_tables - {"sqlite_sequence"} <= our_tables


@pytest.mark.sqlite_only
def test_an_anthias_database_keeps_its_own_django_history(make_app, real_home):
    with sqlite3.connect(real_home / ".screenly" / "screenly.db") as anthias:
        before = anthias.execute("SELECT * FROM django_migrations ORDER BY id").fetchall()
    make_app()
    with sqlite3.connect(real_home / ".screenly" / "screenly.db") as anthias:
        after = anthias.execute("SELECT * FROM django_migrations ORDER BY id").fetchall()
    assert after == before


def test_processes_starting_together_migrate_one_after_the_other(tmp_path):
    """The server and the player both migrate at start; neither may fail on the other's lock."""
    script = (
        "import sys; from anthias_edge.db import open_database, run_migrations; "
        "run_migrations(open_database(sys.argv[1])); print('ok')"
    )
    database = tmp_path / "screenly.db"
    runs = [subprocess.Popen([sys.executable, "-c", script, str(database)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for _ in range(4)]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], outputs
    assert all(output.strip().endswith("ok") for output in outputs)
