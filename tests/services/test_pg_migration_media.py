"""``migrate-to-postgresql`` copies the device's files into the tenant's own folder.

In the cloud a tenant may use only files in ``<assetdir>/<tenant_id>/``; a migrated library's
files go there, and a hostile library cannot name any other file. Runs on a PostgreSQL
database of its own (``anthias_pgmedia_test``).
"""

from __future__ import annotations

import sqlite3
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from anthias_edge.cli import main
from anthias_edge.errors import Conflict
from anthias_edge.services.media_copy import MediaCopy
from anthias_edge.services.pg_migration import migrate_to_postgresql
from tests.cloud.pg import database_fixtures, query
from tests.conftest import REAL

pytestmark = pytest.mark.postgres

DATABASE = "anthias_pgmedia_test"
PNG = "a70b59bb54724e22ad5f141837bb6154"
MP4 = "6969bcec6629439a9f33dcc8b1b0289e"


server_url, pg = database_fixtures(DATABASE, made="server_url", emptied="pg")


@pytest.fixture
def device(tmp_path: Path) -> Path:
    """The real Anthias device's HOME: .screenly/screenly.db and screenly_assets/."""
    with tarfile.open(REAL / "anthias-home.tar.gz") as archive:
        archive.extractall(tmp_path / "device", filter="data")
    return tmp_path / "device"


def uris(url: str, tenant_id: str) -> dict[str, str]:
    return dict(query(url, "SELECT asset_id, uri FROM assets WHERE tenant_id = %s",
                      (tenant_id,)))


def test_the_files_of_a_migrated_library_go_to_the_tenants_folder(pg, device, tmp_path):
    cloud_assets = tmp_path / "cloud" / "screenly_assets"
    media = MediaCopy(source_dir=device / "screenly_assets", asset_dir=cloud_assets)

    dry = migrate_to_postgresql(device / ".screenly" / "screenly.db", "Shop", "shop", pg,
                                dry_run=True, media=media)
    assert not cloud_assets.exists()
    result = migrate_to_postgresql(device / ".screenly" / "screenly.db", "Shop", "shop", pg,
                                   media=media)

    folder = cloud_assets / result.tenant_id
    stored = uris(pg, result.tenant_id)
    assert (dry.files_copied, result.files_copied, result.files_missing) == (2, 2, 0)
    assert stored[PNG] == str(folder / f"{PNG}.png")
    assert stored[MP4] == str(folder / f"{MP4}.mp4")
    assert stored["24df36931f6e48279b2ad5a284867065"] == "https://shop.example.org/hours"
    for name in (f"{PNG}.png", f"{MP4}.mp4"):
        assert (folder / name).read_bytes() == (device / "screenly_assets" / name).read_bytes()
    assert sorted(p.name for p in cloud_assets.iterdir()) == [result.tenant_id]


def test_a_hostile_library_cannot_name_a_file_outside_its_own_folder(pg, device, tmp_path):
    cloud_assets = tmp_path / "cloud"
    other = cloud_assets / "someone-elses.png"
    other.parent.mkdir()
    other.write_bytes(b"another tenant's file at the top of the asset folder")
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    (device / "screenly_assets" / "link.png").symlink_to(secret)
    db = device / ".screenly" / "screenly.db"
    with sqlite3.connect(db) as conn:
        conn.executemany("UPDATE assets SET uri = ? WHERE asset_id = ?", [
            (f"/data/screenly_assets/{other.name}", PNG),  # relocation once made this top-level
            ("/data/screenly_assets/link.png", MP4)])
    conn.close()

    result = migrate_to_postgresql(db, "Shop", "shop", pg,
                                   media=MediaCopy(device / "screenly_assets", cloud_assets))

    folder = cloud_assets / result.tenant_id
    stored = uris(pg, result.tenant_id)
    assert stored[PNG] == str(folder / other.name)
    assert stored[MP4] == str(folder / "link.png")
    assert (result.files_copied, result.files_missing) == (0, 2)
    assert not folder.exists() or list(folder.iterdir()) == []


def test_a_refused_copy_leaves_no_file_behind(pg, device, tmp_path):
    cloud_assets = tmp_path / "cloud"
    db = device / ".screenly" / "screenly.db"
    media = MediaCopy(device / "screenly_assets", cloud_assets)
    migrate_to_postgresql(db, "First", "first", pg, media=media)
    before = sorted(p.relative_to(cloud_assets) for p in cloud_assets.rglob("*"))

    with pytest.raises(Conflict):  # the same asset ids belong to tenant "first"
        migrate_to_postgresql(db, "Second", "second", pg, media=media)

    assert sorted(p.relative_to(cloud_assets) for p in cloud_assets.rglob("*")) == before


def test_the_command_copies_the_files_next_to_the_database_by_default(pg, device, tmp_path):
    home = tmp_path / "cloud-home"
    home.mkdir()

    result = CliRunner().invoke(main, [
        "migrate-to-postgresql", "--sqlite-db", str(device / ".screenly" / "screenly.db"),
        "--tenant-name", "Shop", "--tenant-subdomain", "shop", "--database-url", pg],
        env={"HOME": str(home)})

    assert result.exit_code == 0, result.output
    assert "2 files copied" in result.stdout
    tenant_id = result.stdout.strip().splitlines()[-1].removeprefix("Tenant id: ")
    copied = home / "screenly_assets" / tenant_id / f"{PNG}.png"
    assert copied.read_bytes() == (device / "screenly_assets" / f"{PNG}.png").read_bytes()
    assert uris(pg, tenant_id)[PNG] == str(copied)
