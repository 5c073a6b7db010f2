"""Importing a real Anthias HOME folder or backup archive into an Anthias Edge HOME."""

from __future__ import annotations

import io
import sqlite3
import tarfile
from pathlib import Path

import pytest

from anthias_edge.db import MIGRATIONS_DIR
from anthias_edge.errors import ImportFailed, UnsafeArchive
from anthias_edge.services.importer import check_source, import_anthias
from anthias_edge.settings import Settings
from tests.conftest import REAL

BACKUP = REAL / "anthias-backup.tar.gz"
MIGRATIONS = tuple(sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py")))
IMAGE = "a70b59bb54724e22ad5f141837bb6154.png"
VIDEO = "6969bcec6629439a9f33dcc8b1b0289e.mp4"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """The real Anthias device's HOME, unpacked beside (not into) the device HOME."""
    path = tmp_path / "anthias"
    path.mkdir()
    with tarfile.open(REAL / "anthias-home.tar.gz") as archive:
        archive.extractall(path, filter="data")
    return path


@pytest.fixture
def settings(home: Path) -> Settings:
    """Settings of the empty device HOME, without environment overrides."""
    return Settings.load(home, {})


def _uris(home: Path) -> dict[str, str]:
    with sqlite3.connect(home / ".screenly" / "screenly.db") as conn:
        return dict(conn.execute("SELECT name, uri FROM assets"))


def _tgz(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_an_anthias_home_folder_is_copied_migrated_and_relocated(source, settings, home):
    calls: list[tuple[int, int]] = []

    summary = import_anthias(source, settings, lambda done, total: calls.append((done, total)))

    assert (summary.kind, summary.files, summary.assets) == ("folder", 5, 5)
    assert summary.migrations == MIGRATIONS
    assert summary.relocated == 2
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    uris = _uris(home)
    assert uris["Storefront.png"] == f"{home}/screenly_assets/{IMAGE}"
    assert uris["Intro.mp4"] == f"{home}/screenly_assets/{VIDEO}"
    assert (home / "screenly_assets" / VIDEO).read_bytes() == (
        source / "screenly_assets" / VIDEO).read_bytes()
    assert settings["player_name"] == "Shop window"


def test_a_backup_archive_is_restored_migrated_and_relocated(settings, home):
    summary = import_anthias(BACKUP, settings)

    assert (summary.kind, summary.files, summary.assets) == ("archive", 7, 5)
    assert summary.migrations == MIGRATIONS
    assert _uris(home)["Storefront.png"] == f"{home}/screenly_assets/{IMAGE}"
    assert settings["default_duration"] == 12
    assert not [p.name for p in home.iterdir() if p.name.startswith(".anthias-")]


def test_importing_an_archive_again_replaces_the_migrated_library_with_the_archived_one(
    settings, home
):
    import_anthias(BACKUP, settings)

    summary = import_anthias(BACKUP, settings)

    assert summary.assets == 5
    assert summary.migrations == MIGRATIONS  # the archive brings the un-migrated database back
    assert _uris(home)["Intro.mp4"] == f"{home}/screenly_assets/{VIDEO}"


def test_an_archive_whose_database_is_unreadable_leaves_the_device_as_it_was(
    tmp_path, settings, home
):
    before = _files(home)
    archive = _tgz(tmp_path / "broken.tar.gz", {
        ".screenly/screenly.db": b"not a database" * 100,
        ".screenly/screenly.conf": b"[viewer]\nplayer_name = Broken\n",
        "screenly_assets/clip.mp4": b"clip",
    })

    with pytest.raises(ImportFailed, match="imported database could not be read"):
        import_anthias(archive, settings)

    assert _files(home) == before
    assert settings["player_name"] == ""


def test_a_missing_path_is_refused(tmp_path, settings):
    with pytest.raises(ImportFailed, match="does not exist"):
        import_anthias(tmp_path / "nowhere", settings)


def test_a_folder_without_an_anthias_database_is_refused(tmp_path, settings, home):
    (tmp_path / "other" / ".screenly").mkdir(parents=True)

    with pytest.raises(ImportFailed, match=r"has no \.screenly/screenly\.db"):
        import_anthias(tmp_path / "other", settings)
    assert not (home / ".screenly" / "screenly.db").exists()


def test_a_folder_whose_database_is_not_sqlite_is_refused_before_copying(source, settings, home):
    (source / ".screenly" / "screenly.db").write_bytes(b"garbage")

    with pytest.raises(ImportFailed, match="is not an SQLite database"):
        import_anthias(source, settings)
    assert not (home / "screenly_assets" / VIDEO).exists()


def test_the_device_s_own_home_is_refused(settings, home):
    with pytest.raises(ImportFailed, match="own HOME"):
        check_source(home, settings)


def test_a_file_that_is_not_named_as_an_archive_is_refused(tmp_path, settings):
    note = tmp_path / "notes.txt"
    note.write_text("hello")

    with pytest.raises(ImportFailed, match="neither an Anthias HOME folder nor a backup"):
        import_anthias(note, settings)


def test_an_archive_without_the_anthias_folders_is_refused(tmp_path, settings, home):
    archive = _tgz(tmp_path / "other.tar.gz", {"photos/a.jpg": b"jpg"})

    with pytest.raises(ImportFailed, match="is not an Anthias backup"):
        import_anthias(archive, settings)
    assert not (home / "photos").exists()


def test_an_archive_escaping_home_is_refused_before_writing(tmp_path, settings, home):
    archive = _tgz(tmp_path / "evil.tar.gz", {"../evil": b"x", ".screenly/screenly.db": b""})

    with pytest.raises(UnsafeArchive):
        import_anthias(archive, settings)
    assert not (home.parent / "evil").exists()


def test_a_database_override_elsewhere_is_refused(tmp_path, home, source):
    settings = Settings.load(home, {"ANTHIAS_DATABASE": str(tmp_path / "other.db")})

    with pytest.raises(ImportFailed, match="ANTHIAS_DATABASE"):
        import_anthias(source, settings)


HOSTILE_CONF = (b"[main]\nassetdir = /etc\ndatabase = /tmp/elsewhere.db\n\n"
                b"[viewer]\nplayer_name = Imported\n\n"
                b"[edge]\nreboot_command = touch /tmp/owned\nshutdown_command = rm -rf /\n"
                b"zmq_publisher = tcp://0.0.0.0:10001\n")


def _device_with_own_commands(home: Path) -> Settings:
    """A device whose administrator set its own reboot command in screenly.conf."""
    (home / ".screenly").mkdir()
    (home / ".screenly" / "screenly.conf").write_text(
        "[viewer]\nplayer_name = Mine\n\n[edge]\nreboot_command = /usr/local/bin/safe-reboot\n")
    return Settings.load(home, {})


@pytest.mark.parametrize("kind", ["folder", "archive"])
def test_an_import_never_takes_host_level_settings_from_the_source(
    kind, source, tmp_path, home, caplog
):
    settings = _device_with_own_commands(home)
    asset_dir = settings.asset_dir
    (source / ".screenly" / "screenly.conf").write_bytes(HOSTILE_CONF)
    if kind == "archive":
        with tarfile.open(tmp_path / "hostile.tar.gz", "w:gz") as tar:
            tar.add(source / ".screenly", ".screenly")
            tar.add(source / "screenly_assets", "screenly_assets")
        source = tmp_path / "hostile.tar.gz"

    summary = import_anthias(source, settings)

    assert settings["player_name"] == "Imported"  # Anthias's own keys come across
    assert settings["reboot_command"] == "/usr/local/bin/safe-reboot"
    assert settings["shutdown_command"] == "systemctl poweroff"
    assert settings["zmq_publisher"] == "tcp://127.0.0.1:10001"
    assert settings.asset_dir == asset_dir
    assert settings.database_path == home / ".screenly" / "screenly.db"
    assert summary.kept_host_settings == (
        "assetdir", "database", "zmq_publisher", "reboot_command", "shutdown_command")
    assert _uris(home)["Storefront.png"] == f"{home}/screenly_assets/{IMAGE}"
    assert "host-level settings assetdir, database" in caplog.text
    on_disk = Settings.load(home, {})
    assert (on_disk["reboot_command"], on_disk["player_name"]) == (
        "/usr/local/bin/safe-reboot", "Imported")
