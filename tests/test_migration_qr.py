"""Migration 0010 builds the qr_contents table the model describes, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from anthias_edge.db import is_postgresql
from anthias_edge.models import Asset, QRContent


@pytest.fixture
def database_template() -> None:
    """These tests check what the migrations build: their apps migrate an empty database."""
    return None


def test_the_table_has_every_model_column_and_the_issues_indexes(app):
    database = app.extensions["anthias"].database
    with database.connection_context():
        columns = {c.name: c.null for c in database.get_columns("qr_contents")}
        indexes = {tuple(i.columns): i.unique for i in database.get_indexes("qr_contents")}
        foreign = [(k.column, k.dest_table, k.dest_column)
                   for k in database.get_foreign_keys("qr_contents")]
        asset_columns = {c.name for c in database.get_columns("assets")}

    assert set(columns) == {f.column_name for f in QRContent._meta.sorted_fields}
    assert (columns["barcode"], columns["expires_at"], columns["qr_code"]) == (True, True, False)
    assert indexes[("qr_code",)] is True and indexes[("barcode",)] is True
    assert indexes[("tenant_id", "is_active")] is False
    assert indexes[("asset_id",)] is False
    if is_postgresql(database):
        # 0013: a device's code names an inventory asset; a trigger keeps the cascade.
        assert foreign == []
    else:
        assert foreign == [("asset_id", "assets", "asset_id")]
    assert "qr_overlay" in asset_columns and Asset.qr_overlay.null


def test_a_second_barcode_less_code_is_allowed_but_a_repeated_code_is_not(app):
    from peewee import IntegrityError

    database = app.extensions["anthias"].database
    runtime = app.extensions["anthias"]
    with database.connection_context():
        tenant = runtime.local_tenant_id
        Asset.create(asset_id="a1", name="A", uri="https://example.org/", tenant=tenant)
        for code in ("QR0000000000000001", "QR0000000000000002"):
            QRContent.create(tenant=tenant, asset="a1", qr_code=code)
        with pytest.raises(IntegrityError), database.atomic():
            QRContent.create(tenant=tenant, asset="a1", qr_code="QR0000000000000001")
        count = QRContent.select().count()

    assert count == 2


def test_deleting_a_cloud_asset_deletes_its_codes_but_not_a_device_code_of_the_same_id(app):
    """0013 drops the foreign key on PostgreSQL; its cascade must survive for cloud codes."""
    database = app.extensions["anthias"].database
    runtime = app.extensions["anthias"]
    with database.connection_context():
        tenant = runtime.local_tenant_id
        Asset.create(asset_id="a1", name="A", uri="https://example.org/", tenant=tenant)
        QRContent.create(tenant=tenant, asset="a1", qr_code="QR0000000000000001")
        if is_postgresql(database):
            QRContent.create(tenant=tenant, asset="a1", device_id="d1",
                             qr_code="QR0000000000000002")
        Asset.delete().where(Asset.asset_id == "a1").execute()
        left = [q.qr_code for q in QRContent.select()]

    assert left == (["QR0000000000000002"] if is_postgresql(database) else [])
