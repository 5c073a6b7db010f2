"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from anthias_edge.db import MIGRATIONS_DIR, MIGRATIONS_TABLE, migration_runner, run_migrations
from anthias_edge.models import Asset


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
    assert indexes[("tenant_id", "play_order")] is False
    assert indexes[("share_code",)] is True


def test_running_the_migrations_again_applies_nothing(app):
    database = app.extensions["anthias"].database
    with database.connection_context():
        assert run_migrations(database) == []
        applied = migration_runner(database).applied()
        assert database.table_exists(MIGRATIONS_TABLE)
    on_disk = sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py"))
    assert sorted(applied) == on_disk
    assert on_disk[:2] == ["0001_anthias_assets", "0002_edge_asset_columns"]
