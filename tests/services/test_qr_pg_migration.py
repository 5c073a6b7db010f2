"""migrate-to-postgresql carries a device's QR contents (and overlay) into the cloud tenant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from anthias_edge.app import create_app
from anthias_edge.models import Asset, QRContent
from anthias_edge.services.pg_migration import migrate_to_postgresql
from anthias_edge.services.qr_content import QRContentService
from tests.cloud.pg import database_fixtures, query

pytestmark = pytest.mark.postgres

DATABASE = "anthias_qr_pgmig_test"
ENV = {"ANTHIAS_ZMQ_PUBLISHER": "tcp://127.0.0.1:*", "ANTHIAS_ZMQ_COLLECTOR": "tcp://127.0.0.1:*"}

server_url, pg = database_fixtures(DATABASE, made="server_url", emptied="pg")


@pytest.fixture
def device_db(tmp_path: Path) -> tuple[Path, list[QRContent]]:
    """A device database with two assets; one has two codes (one with a barcode, scanned)."""
    home = tmp_path / "device"
    home.mkdir()
    app = create_app(environ={"HOME": str(home), **ENV})
    runtime = app.extensions["anthias"]
    try:
        with runtime.database.connection_context():
            tenant = runtime.local_tenant_id
            for asset_id, name in (("m1", "Menu"), ("m2", "Poster")):
                Asset.create(asset_id=asset_id, name=name, uri="https://example.org/" + name,
                             mimetype="webpage", duration=10, tenant=tenant, play_order=0,
                             qr_overlay={"enabled": True, "corner": "top-right", "size": 18})
            codes = QRContentService(tenant, clock=lambda: dt.datetime(2030, 1, 1))
            first = codes.create("m1", "Lunch", "Today", dt.datetime(2031, 1, 1), True)
            second = codes.create("m1")
            QRContent.update(access_count=42, last_accessed=dt.datetime(2030, 1, 2, 3, 4, 5),
                             is_active=False).where(QRContent.qr_id == second.qr_id).execute()
            made = list(QRContent.select().order_by(QRContent.qr_code))
    finally:
        runtime.messenger.close()
        runtime.close_database()
    assert {first.qr_code, second.qr_code} == {row.qr_code for row in made}
    return home / ".screenly" / "screenly.db", made


def test_the_codes_arrive_in_the_tenant_with_counts_dates_and_barcodes(pg, device_db):
    path, made = device_db

    result = migrate_to_postgresql(path, "Cafe", "cafe", pg)

    copied = query(pg, "SELECT qr_id, tenant_id, asset_id, qr_code, barcode, title, "
                       "description, access_count, last_accessed, expires_at, is_active "
                       "FROM qr_contents ORDER BY qr_code")
    assert result.qr_contents == 2
    assert copied == [(r.qr_id, result.tenant_id, r.asset_id, r.qr_code, r.barcode, r.title,
                       r.description, r.access_count, r.last_accessed, r.expires_at,
                       r.is_active) for r in made]
    overlay = query(pg, "SELECT qr_overlay FROM assets WHERE asset_id = 'm1'")
    assert overlay == [('{"enabled":true,"corner":"top-right","size":18}',)]
    audit = query(pg, "SELECT summary FROM audit_log WHERE action = 'assets.import'")
    assert "2 QR content(s)" in audit[0][0]


def test_a_second_run_updates_the_codes_instead_of_duplicating_them(pg, device_db):
    path, _made = device_db
    migrate_to_postgresql(path, "Cafe", "cafe", pg)

    again = migrate_to_postgresql(path, "Cafe", "cafe", pg)

    assert again.updates == 2 and again.qr_contents == 2
    assert query(pg, "SELECT count(*) FROM qr_contents") == [(2,)]


def test_a_dry_run_counts_the_codes_and_writes_nothing(pg, device_db):
    path, _made = device_db

    result = migrate_to_postgresql(path, "Cafe", "cafe", pg, dry_run=True)

    assert (result.dry_run, result.qr_contents) == (True, 2)
    assert query(pg, "SELECT to_regclass('qr_contents') IS NULL") == [(True,)]
