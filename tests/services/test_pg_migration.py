"""``migrate_to_postgresql``: real Anthias and Anthias Edge databases into a cloud tenant.

Runs on a PostgreSQL database of its own (``anthias_pgmig_test``), emptied before each test.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import sqlite3
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from anthias_edge.app import create_app
from anthias_edge.cli import main
from anthias_edge.errors import Conflict, DatabaseUnreachable, ImportFailed, ValidationError
from anthias_edge.models import Asset
from anthias_edge.services.pg_migration import (
    ANTHIAS_COLUMNS,
    EDGE_COLUMNS,
    migrate_to_postgresql,
)
from tests.cloud.pg import database_fixtures, query
from tests.conftest import FLASK_ERA, REAL

pytestmark = pytest.mark.postgres

DATABASE = "anthias_pgmig_test"
FLASK_ROWS = [
    # asset_id, name, uri, start, end, duration (text), mimetype, enabled, order
    ("f1", "Menu", "https://example.org/menu", "2024-01-02 03:04:05",
     "2099-01-01 00:00:00.250000", "10", "webpage", 1, 0),
    ("f2", "Blank duration", "https://example.org/b", "2024-05-06 07:08:09",
     "2030-01-01 00:00:00", "", "webpage", 0, 1),
    ("f3", "Not a number", "/home/pi/screenly_assets/f3.png", "2024-05-06 07:08:09",
     "2030-01-01 00:00:00", "N/A", "image", None, None),
]


# This module's own PostgreSQL database, emptied (no table, no tenant) for each test.
server_url, pg = database_fixtures(DATABASE, made="server_url", emptied="pg")


@pytest.fixture
def django_db(tmp_path: Path) -> Path:
    """The real Anthias (Django era) device's screenly.db."""
    with tarfile.open(REAL / "anthias-home.tar.gz") as archive:
        archive.extractall(tmp_path / "real", filter="data")
    return tmp_path / "real" / ".screenly" / "screenly.db"


@pytest.fixture
def flask_db(tmp_path: Path) -> Path:
    """The Flask-era empty database with three rows written in its own schema."""
    path = tmp_path / "flask.db"
    shutil.copyfile(FLASK_ERA / "screenly.db", path)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO assets (asset_id, name, uri, md5, start_date, end_date, duration, "
            "mimetype, is_enabled, is_processing, nocache, play_order, skip_asset_check) "
            "VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, 0, NULL, ?, 0)", FLASK_ROWS)
    conn.close()
    return path


@pytest.fixture
def edge_db(tmp_path: Path) -> Path:
    """An Anthias Edge database made by create_app, with Edge columns filled in."""
    home = tmp_path / "edge-home"
    home.mkdir()
    app = create_app(environ={"HOME": str(home), "ANTHIAS_ZMQ_PUBLISHER": "tcp://127.0.0.1:*",
                              "ANTHIAS_ZMQ_COLLECTOR": "tcp://127.0.0.1:*"})
    runtime = app.extensions["anthias"]
    try:
        with runtime.database.connection_context():
            tenant = runtime.local_tenant_id
            Asset.create(asset_id="e1", name="Edge page", uri="https://example.org/e",
                         start_date=dt.datetime(2025, 1, 1, 8), end_date=dt.datetime(2099, 1, 1),
                         duration=30, mimetype="webpage", is_enabled=True, play_order=0,
                         tenant=tenant, created_by="u-1", is_shared=True, share_code="abc123",
                         tags=["lobby", "spring"], metadata={"k": "v"}, play_days=[1, 2, 3],
                         play_time_from="08:00", play_time_to="18:00", skip_ssl_verify=True,
                         refresh_interval_s=60, custom_headers={"X-A": "1"},
                         is_reachable=False,
                         last_reachability_check=dt.datetime(2025, 2, 3, 4, 5, 6, 789000),
                         created_at=dt.datetime(2025, 1, 1), updated_at=dt.datetime(2025, 1, 2))
            Asset.create(asset_id="e2", name="Edge video", uri="/x/e2.mp4", duration=None,
                         mimetype="video", tenant=tenant, play_order=1)
    finally:
        runtime.messenger.close()
        runtime.close_database()
    return home / ".screenly" / "screenly.db"


# -- helpers ------------------------------------------------------------------------------


def source_rows(path: Path) -> list[dict]:
    """Every source row as sqlite3 returns it, in rowid order."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in conn.execute("SELECT * FROM assets ORDER BY rowid")]
    finally:
        conn.close()


def target_rows(url: str, tenant_id: str) -> list[dict]:
    """The tenant's rows in PostgreSQL in insertion order, as psycopg returns them."""
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute('SELECT * FROM assets WHERE tenant_id = %s ORDER BY seq',
                            (tenant_id,)).fetchall()


def expected_date(text: str | None) -> dt.datetime | None:
    """What a stored SQLite date text must become: a naive UTC datetime."""
    return None if text in (None, "") else dt.datetime.fromisoformat(text)


def expected_duration(value: object) -> int | None:
    """Flask-era text durations: a number becomes an int, anything else NULL."""
    if value is None or isinstance(value, int):
        return value
    return int(value) if str(value).strip().isdigit() else None


def assert_same_rows(source: list[dict], target: list[dict], tenant_id: str) -> None:
    """Every Anthias column (and every Edge column the source has) row by row, with types."""
    assert [r["asset_id"] for r in target] == [r["asset_id"] for r in source]
    for src, dst in zip(source, target, strict=True):
        assert dst["tenant_id"] == tenant_id
        for column in ANTHIAS_COLUMNS:
            value = src[column]
            if column in ("start_date", "end_date"):
                assert dst[column] == expected_date(value), column
                assert dst[column] is None or type(dst[column]) is dt.datetime
            elif column == "duration":
                assert dst[column] == expected_duration(value), (src["asset_id"], value)
                assert dst[column] is None or type(dst[column]) is int
            elif column in ("is_enabled", "is_processing", "nocache", "skip_asset_check"):
                assert dst[column] is bool(value or 0), column
            elif column == "play_order":
                assert dst[column] == (value or 0)
            else:
                assert dst[column] == value, column
        for column in EDGE_COLUMNS:
            if column not in src:
                continue
            value = src[column]
            if column in ("last_reachability_check", "created_at", "updated_at"):
                assert dst[column] == expected_date(value), column
            elif column in ("is_shared", "skip_ssl_verify", "is_reachable"):
                assert dst[column] is bool(value), column
            else:
                assert dst[column] == value, column


def digest(path: Path) -> str:
    """SHA-256 of a file, to prove the source was not modified."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count(url: str, table: str) -> int:
    """Rows in a table."""
    return query(url, f'SELECT count(*) FROM "{table}"')[0][0]


# -- tests --------------------------------------------------------------------------------


def test_a_dry_run_on_an_empty_database_creates_no_table_and_reports_what_it_would_do(
        pg, django_db):
    result = migrate_to_postgresql(django_db, "Shop", "shop", pg, dry_run=True)

    assert (result.dry_run, result.creates, result.updates) == (True, 5, 0)
    assert result.tenant_created and result.tenant_id is None
    assert query(pg, "SELECT to_regclass('public.assets'), to_regclass('public.tenants')") == [
        (None, None)]


def test_a_dry_run_after_a_copy_counts_updates_and_writes_nothing(pg, django_db):
    first = migrate_to_postgresql(django_db, "Shop", "shop", pg)
    with sqlite3.connect(django_db) as conn:
        conn.execute("UPDATE assets SET name = 'Renamed' WHERE asset_id = ?",
                     ("24df36931f6e48279b2ad5a284867065",))
    conn.close()
    before = query(pg, "SELECT asset_id, name, seq FROM assets ORDER BY seq")
    audit_before = count(pg, "audit_log")

    result = migrate_to_postgresql(django_db, "Shop", "shop", pg, dry_run=True)

    assert (result.creates, result.updates, result.tenant_id) == (0, 5, first.tenant_id)
    assert query(pg, "SELECT asset_id, name, seq FROM assets ORDER BY seq") == before
    assert count(pg, "audit_log") == audit_before


def test_the_django_era_library_is_copied_row_by_row_into_a_legacy_tenant(pg, django_db):
    before = digest(django_db)

    result = migrate_to_postgresql(django_db, "Shop window", "shop", pg)

    assert (result.era, result.creates, result.updates) == ("Anthias (Django era)", 5, 0)
    assert_same_rows(source_rows(django_db), target_rows(pg, result.tenant_id), result.tenant_id)
    assert query(pg, "SELECT name, plan_type, max_assets, max_devices, storage_quota_gb, "
                     "is_active FROM tenants WHERE id = %s", (result.tenant_id,)) == [
        ("Shop window", "legacy", 9999, 9999, 1000, True)]
    assert digest(django_db) == before
    assert not django_db.with_name("screenly.db-wal").exists()


def test_flask_era_text_durations_and_dates_become_numbers_and_timestamps(pg, flask_db):
    before = digest(flask_db)

    result = migrate_to_postgresql(flask_db, "Old", "old", pg)

    assert result.era == "Anthias (Flask era)"
    rows = target_rows(pg, result.tenant_id)
    assert_same_rows(source_rows(flask_db), rows, result.tenant_id)
    assert [r["duration"] for r in rows] == [10, None, None]
    assert rows[0]["end_date"] == dt.datetime(2099, 1, 1, 0, 0, 0, 250000)
    assert (rows[2]["is_enabled"], rows[2]["play_order"]) == (False, 0)
    assert digest(flask_db) == before


def test_an_anthias_edge_library_keeps_its_extra_columns(pg, edge_db):
    result = migrate_to_postgresql(edge_db, "Edge", "edge", pg)

    assert (result.era, result.creates) == ("Anthias Edge", 2)
    rows = target_rows(pg, result.tenant_id)
    assert_same_rows(source_rows(edge_db), rows, result.tenant_id)
    assert rows[0]["tags"] == '["lobby","spring"]' and rows[0]["share_code"] == "abc123"
    assert rows[0]["last_reachability_check"] == dt.datetime(2025, 2, 3, 4, 5, 6, 789000)
    assert rows[1]["duration"] is None and rows[1]["is_reachable"] is True


def test_a_second_run_updates_the_copied_rows_instead_of_duplicating_them(pg, django_db):
    first = migrate_to_postgresql(django_db, "Shop", "shop", pg)
    with sqlite3.connect(django_db) as conn:
        conn.execute("UPDATE assets SET name = 'Opening hours (new)', duration = 99 "
                     "WHERE asset_id = '24df36931f6e48279b2ad5a284867065'")
    conn.close()

    second = migrate_to_postgresql(django_db, "Shop", "shop", pg)

    assert (second.creates, second.updates, second.tenant_created) == (0, 5, False)
    assert second.tenant_id == first.tenant_id
    assert count(pg, "assets") == 5
    assert query(pg, "SELECT count(*) FROM tenants WHERE subdomain = 'shop'") == [(1,)]
    assert query(pg, "SELECT name, duration FROM assets WHERE asset_id = %s",
                 ("24df36931f6e48279b2ad5a284867065",)) == [("Opening hours (new)", 99)]
    assert_same_rows(source_rows(django_db), target_rows(pg, first.tenant_id), first.tenant_id)


def test_an_asset_id_of_another_tenant_aborts_the_whole_copy_and_changes_nothing(
        pg, django_db, flask_db):
    other = migrate_to_postgresql(flask_db, "Other", "other", pg)
    with sqlite3.connect(django_db) as conn:  # the last row collides with other's "f2"
        conn.execute("UPDATE assets SET asset_id = 'f2' "
                     "WHERE asset_id = 'f774fe1b31894a7ab49ff0bb06eeeb4d'")
    conn.close()
    before = query(pg, "SELECT * FROM assets ORDER BY seq")
    tenants = query(pg, "SELECT id FROM tenants ORDER BY id")

    with pytest.raises(Conflict) as caught:
        migrate_to_postgresql(django_db, "Shop", "shop", pg)

    assert "another tenant" in caught.value.message and "f2" in caught.value.message
    assert query(pg, "SELECT * FROM assets ORDER BY seq") == before
    assert query(pg, "SELECT id FROM tenants ORDER BY id") == tenants
    assert query(pg, "SELECT tenant_id, name FROM assets WHERE asset_id = 'f2'") == [
        (other.tenant_id, "Blank duration")]


def test_a_dry_run_reports_another_tenants_asset_id_too(pg, django_db, flask_db):
    migrate_to_postgresql(flask_db, "Other", "other", pg)
    with sqlite3.connect(django_db) as conn:
        conn.execute("UPDATE assets SET asset_id = 'f1' "
                     "WHERE asset_id = 'f774fe1b31894a7ab49ff0bb06eeeb4d'")
    conn.close()

    with pytest.raises(Conflict, match="f1"):
        migrate_to_postgresql(django_db, "Shop", "shop", pg, dry_run=True)

    assert query(pg, "SELECT count(*) FROM tenants WHERE subdomain = 'shop'") == [(0,)]


def test_a_missing_file_is_refused(pg, tmp_path):
    with pytest.raises(ImportFailed, match="does not exist"):
        migrate_to_postgresql(tmp_path / "nope.db", "Shop", "shop", pg)


def test_a_file_that_is_not_sqlite_is_refused(pg, tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"this is plain text, not a database\n" * 200)

    with pytest.raises(ImportFailed, match="not an SQLite database"):
        migrate_to_postgresql(path, "Shop", "shop", pg)


def test_an_sqlite_file_without_an_assets_table_is_refused(pg, tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE things (id integer)")
    conn.close()

    with pytest.raises(ImportFailed, match="without an Anthias assets table"):
        migrate_to_postgresql(path, "Shop", "shop", pg)


def test_an_unreachable_postgresql_is_a_clear_error(django_db):
    with pytest.raises(DatabaseUnreachable, match=r"Cannot connect to PostgreSQL at 127\.0\.0\.1"):
        migrate_to_postgresql(django_db, "Shop", "shop", "postgresql://postgres@127.0.0.1:1/x")


def test_a_url_that_is_not_postgresql_and_a_bad_subdomain_are_refused(django_db):
    with pytest.raises(ValidationError) as url_error:
        migrate_to_postgresql(django_db, "Shop", "shop", "sqlite:///x.db")
    with pytest.raises(ValidationError) as sub_error:
        migrate_to_postgresql(django_db, "Shop", "Not A Subdomain!", "postgresql://x/y")

    assert "database_url" in url_error.value.field_errors
    assert "tenant_subdomain" in sub_error.value.field_errors


def test_the_command_prints_the_dry_run_and_the_copy(pg, django_db, tmp_path):
    runner = CliRunner()
    args = ["migrate-to-postgresql", "--sqlite-db", str(django_db), "--tenant-name", "Shop",
            "--tenant-subdomain", "shop", "--database-url", pg]
    env = {"HOME": str(tmp_path)}

    dry = runner.invoke(main, [*args, "--dry-run"], env=env)
    real = runner.invoke(main, args, env=env)

    assert dry.exit_code == 0, dry.output
    assert "would copy 5 assets" in dry.stdout and "5 to create, 0 to update" in dry.stdout
    assert real.exit_code == 0, real.output
    assert "5 created, 0 updated" in real.stdout
    tenant_id = real.stdout.strip().splitlines()[-1].removeprefix("Tenant id: ")
    assert query(pg, "SELECT count(*) FROM assets WHERE tenant_id = %s", (tenant_id,)) == [(5,)]


@pytest.mark.parametrize("problem", ["missing", "not sqlite", "unreachable"])
def test_the_command_fails_with_one_error_line(pg, django_db, tmp_path, problem):
    path, url = django_db, pg
    if problem == "missing":
        path = tmp_path / "missing.db"
    elif problem == "not sqlite":
        path = tmp_path / "junk.db"
        path.write_bytes(b"\x00junk" * 1000)
    else:
        url = "postgresql://postgres@127.0.0.1:1/x"

    result = CliRunner().invoke(main, [
        "migrate-to-postgresql", "--sqlite-db", str(path), "--tenant-name", "Shop",
        "--tenant-subdomain", "shop", "--database-url", url], env={"HOME": str(tmp_path)})

    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
