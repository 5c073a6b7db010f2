"""A restore or import swaps ``screenly.db`` as a file; the device's cloud link stays its own.

Through the real ``/api/v2/recover`` endpoint and ``import_anthias``: the link row, the unsent
outbox rows (same keys, same seqs) and the applied commands survive; later seqs continue past
every old one; the change of library is recorded (deletes for what went, upserts for what came);
an archive never brings a link or a key of its own, and a backup never holds the key.
"""

from __future__ import annotations

import io
import sqlite3
import tarfile
from pathlib import Path

import pytest

from anthias_edge.services.backup import create_backup
from anthias_edge.services.importer import import_anthias
from anthias_edge.settings import Settings
from cloud_sync.device import link_store, outbox
from tests.conftest import REAL
from tests.helpers import v2_asset

pytestmark = pytest.mark.sqlite_only  # a restore replaces the SQLite file

BACKUP = REAL / "anthias-backup.tar.gz"


def _recover(client, data: bytes):
    return client.post("/api/v2/recover", content_type="multipart/form-data",
                       data={"backup_upload": (io.BytesIO(data), "backup.tar.gz")})


def _outbox(database: Path) -> list[tuple[int, str, str, str]]:
    with sqlite3.connect(database) as conn:
        return conn.execute('SELECT seq, idem_key, kind, payload FROM sync_outbox '
                            'ORDER BY seq').fetchall()


def _link_rows(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT device_id, key_path FROM sync_link").fetchall()


def _archive_asset_ids() -> set[str]:
    with tarfile.open(BACKUP) as archive:
        data = archive.extractfile(".screenly/screenly.db").read()
    conn = sqlite3.connect(":memory:")
    conn.deserialize(data)
    return {row[0] for row in conn.execute("SELECT asset_id FROM assets")}


def test_a_restore_keeps_the_link_and_unsent_rows_and_records_the_new_library(
        client, runtime, link):
    database = runtime.settings.database_path
    gone = client.post("/api/v2/assets", json=v2_asset(name="gone")).get_json()["asset_id"]
    link()
    with runtime.database.connection_context():
        outbox.ack_through(_outbox(database)[-1][0])  # the snapshot reached the cloud
    unsent = client.post("/api/v2/assets", json=v2_asset(name="unsent")).get_json()["asset_id"]
    before = _outbox(database)  # "unsent", and "gone" moved behind it by renumbering
    assert [row[2] for row in before] == ["asset.upsert", "asset.upsert"]

    assert _recover(client, BACKUP.read_bytes()).status_code == 200

    after = _outbox(database)
    assert _link_rows(database) == [("device-1", "/nonexistent/device_key.pem")]
    # Same seqs, same keys: the hub dedupes a resend.
    assert [row[:3] for row in after[:2]] == [row[:3] for row in before]
    recorded = [(kind, payload) for _, _, kind, payload in after[2:]]
    assert all(row[0] > before[-1][0] for row in after[2:])
    deleted = {p for k, p in recorded if k == "asset.delete"}
    assert deleted == {f'{{"asset_id":"{gone}"}}', f'{{"asset_id":"{unsent}"}}'}
    upserted = [p for k, p in recorded if k == "asset.upsert"]
    assert len(upserted) == len(_archive_asset_ids()) > 0
    assert all(any(asset_id in p for p in upserted) for asset_id in _archive_asset_ids())
    # And the outbox goes on from there, in the same file the server reopened.
    client.post("/api/v2/assets", json=v2_asset(name="later"))
    assert _outbox(database)[-1][0] > after[-1][0]


def test_a_backup_never_holds_the_key_and_an_archive_never_brings_a_link(
        client, runtime, link, tmp_path):
    home = runtime.settings.home
    key = home / ".screenly" / "sync" / "device_key.pem"
    key.parent.mkdir(parents=True)
    key.write_bytes(b"this device's key")
    client.post("/api/v2/assets", json=v2_asset(name="kept"))
    link(key_path=str(key))
    runtime.checkpoint_database()
    name = create_backup(home, asset_dir=runtime.settings.asset_dir, static_dir=tmp_path,
                         player_name="linked")
    with tarfile.open(tmp_path / name) as archive:
        names = archive.getnames()
    assert ".screenly/screenly.db" in names
    assert not [n for n in names if n.startswith(".screenly/sync")]

    # The archive of a linked device, plus a hostile key, restored on a device now unlinked.
    hostile = tmp_path / "hostile.tar.gz"
    with tarfile.open(tmp_path / name) as source, tarfile.open(hostile, "w:gz") as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
        info = tarfile.TarInfo(".screenly/sync/device_key.pem")
        info.size = 6
        target.addfile(info, io.BytesIO(b"theirs"))
    with runtime.database.connection_context():
        link_store.clear_link()
    assert _recover(client, hostile.read_bytes()).status_code == 200
    database = runtime.settings.database_path
    assert _link_rows(database) == []
    assert _outbox(database) == []
    assert key.read_bytes() == b"this device's key"


def test_an_imported_anthias_home_keeps_the_device_s_link(runtime, link, tmp_path, home):
    source = tmp_path / "anthias"
    source.mkdir()
    with tarfile.open(REAL / "anthias-home.tar.gz") as archive:
        archive.extractall(source, filter="data")
    link()
    runtime.close_database()  # the server is stopped for an import
    settings = Settings.load(home, {})
    import_anthias(source, settings)
    database = settings.config_dir / "screenly.db"
    assert _link_rows(database) == [("device-1", "/nonexistent/device_key.pem")]
    kinds = [row[2] for row in _outbox(database)]
    assert kinds and set(kinds) == {"asset.upsert"}
