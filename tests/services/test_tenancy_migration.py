"""Migration 0003: the tenancy tables match the models; the local tenant owns old assets."""

from collections.abc import Iterator

import pytest
from peewee import Database

from anthias_edge.db import migration_runner, open_database, run_migrations
from anthias_edge.models import (
    ApiToken,
    AuditLog,
    LoginAttempt,
    RefreshToken,
    SigningKey,
    Tenant,
    TenantUser,
    User,
)
from tests.conftest import TEST_DATABASE_URL, reset_postgresql

TENANCY_MODELS = (Tenant, User, TenantUser, ApiToken, RefreshToken, AuditLog, SigningKey,
                  LoginAttempt)


@pytest.fixture
def fresh_database(tmp_path) -> Iterator[Database]:
    """An empty database (SQLite file, or the test PostgreSQL schema), connected."""
    if TEST_DATABASE_URL:
        reset_postgresql(TEST_DATABASE_URL)
        database = open_database(TEST_DATABASE_URL)
    else:
        database = open_database(tmp_path / "screenly.db")
    with database.connection_context():
        yield database
    database.close_all()


def test_every_tenancy_table_has_exactly_its_model_columns(app):
    database = app.extensions["anthias"].database
    with database.connection_context():
        for model in TENANCY_MODELS:
            columns = {c.name for c in database.get_columns(model._meta.table_name)}
            assert columns == {f.column_name for f in model._meta.sorted_fields}, model


def test_the_unique_and_listing_indexes_exist(app):
    database = app.extensions["anthias"].database
    with database.connection_context():
        def indexes(table):
            return {tuple(i.columns): i.unique for i in database.get_indexes(table)}
        assert indexes("tenants")[("subdomain",)] is True
        assert indexes("tenants")[("custom_domain",)] is True
        assert indexes("users")[("username",)] is True
        assert indexes("tenant_users")[("user_id", "tenant_id")] is True
        assert indexes("api_tokens")[("prefix",)] is True
        assert indexes("refresh_tokens")[("token_hash",)] is True
        assert indexes("audit_log")[("tenant_id", "id")] is False
        assert indexes("login_attempts")[("last_failure_at",)] is False


def test_the_migration_creates_the_local_tenant_and_hands_it_existing_assets(fresh_database):
    migration_runner(fresh_database).up(target="0002_edge_asset_columns")
    fresh_database.execute_sql(
        "INSERT INTO assets (asset_id, name, tenant_id) VALUES ('old', 'Old', NULL)")
    fresh_database.execute_sql(
        "INSERT INTO assets (asset_id, name, tenant_id) VALUES ('kept', 'Kept', 'elsewhere')")
    assert "0003_tenancy" in run_migrations(fresh_database)
    local = fresh_database.execute_sql(
        "SELECT id, plan_type, is_active FROM tenants WHERE subdomain = 'local'").fetchall()
    rows = dict(fresh_database.execute_sql("SELECT asset_id, tenant_id FROM assets").fetchall())
    assert len(local) == 1 and local[0][1] == "device" and bool(local[0][2])
    assert len(local[0][0]) == 36
    assert rows == {"old": local[0][0], "kept": "elsewhere"}


def test_rerunning_the_migration_keeps_one_local_tenant(fresh_database):
    # Up to 0003 only: 0007 reshapes login_attempts, which 0003's index no longer fits.
    migration_runner(fresh_database).up(target="0003_tenancy")
    module = next(m for m in migration_runner(fresh_database).migrations()
                  if m.name == "0003_tenancy").load()
    module.up(None, fresh_database)
    count = fresh_database.execute_sql(
        "SELECT count(*) FROM tenants WHERE subdomain = 'local'").fetchone()[0]
    assert count == 1
