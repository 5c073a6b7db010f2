"""Tests for Anthias-compatible backups, restoring them, and importing an Anthias HOME."""

from __future__ import annotations

import gzip
import io
import os
import stat
import tarfile
from datetime import datetime
from pathlib import Path

import pytest

from anthias_edge.errors import (
    ImportFailed,
    IncorrectArchiveExtension,
    UnreadableArchive,
    UnsafeArchive,
    WrongArchive,
)
from anthias_edge.services import backup
from anthias_edge.services.backup import (
    backup_name,
    create_backup,
    install_anthias_home,
    recover_backup,
)
from anthias_edge.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "anthias-real"
FIXTURE_BACKUP = FIXTURES / "anthias-backup.tar.gz"
NOW = datetime(2026, 11, 27, 17, 8, 18)


def snapshot(root: Path) -> dict[str, object]:
    """Every path under ``root`` with its bytes (files), target (links) or None (folders)."""
    state: dict[str, object] = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            state[key] = ("link", os.readlink(path))
        elif path.is_dir():
            state[key] = None
        else:
            state[key] = path.read_bytes()
    return state


def fixture_member(name: str) -> bytes:
    with tarfile.open(FIXTURE_BACKUP, "r:gz") as tar:
        return tar.extractfile(name).read()


@pytest.fixture
def device(tmp_path):
    """A running device: HOME with settings, a WAL-mode database's files, and two assets."""
    home = tmp_path / "device" / "home"
    config = home / ".screenly"
    assets = home / "screenly_assets"
    config.mkdir(parents=True)
    assets.mkdir()
    (config / "screenly.conf").write_text("[viewer]\nplayer_name = Old\n")
    (config / "screenly.db").write_bytes(b"old database")
    (config / "screenly.db-wal").write_bytes(b"old wal")
    (config / "screenly.db-shm").write_bytes(b"old shm")
    (assets / "old.png").write_bytes(b"old png")
    (assets / "a70b59bb54724e22ad5f141837bb6154.png").write_bytes(b"to be replaced")
    (assets / "upload.tmp").write_bytes(b"half an upload")
    return home


def _tgz(path: Path, members: list[tuple[str, bytes, bytes, str]]) -> Path:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, kind, data, link in members:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.mode = kind, link, 0o644
            if kind == tarfile.REGTYPE:
                info.size = len(data)
            if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
                info.devmajor, info.devminor = 1, 3
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
    path.write_bytes(gzip.compress(buffer.getvalue()))
    return path


def _trees(*extra: tuple[str, bytes, bytes, str]) -> list[tuple[str, bytes, bytes, str]]:
    return [
        (".screenly", tarfile.DIRTYPE, b"", ""),
        (".screenly/screenly.conf", tarfile.REGTYPE, b"[viewer]\nplayer_name = New\n", ""),
        ("screenly_assets", tarfile.DIRTYPE, b"", ""),
        *extra,
    ]


# -- backup_name and create_backup ---------------------------------------------------------------


def test_the_backup_is_named_after_the_player_and_the_local_time():
    assert backup_name("Shop window", NOW) == "Shop window-2026-11-27T17-08-18.tar.gz"


def test_a_device_without_a_player_name_names_its_backup_anthias_backup():
    assert backup_name("", NOW) == "anthias-backup-2026-11-27T17-08-18.tar.gz"


def test_a_slash_in_the_player_name_cannot_leave_the_static_folder():
    assert backup_name("../Lobby/1", NOW) == "..-Lobby-1-2026-11-27T17-08-18.tar.gz"


def test_a_backup_holds_both_trees_under_anthias_arcnames(device, tmp_path):
    static = tmp_path / "static"
    name = create_backup(
        device,
        asset_dir=device / "screenly_assets",
        static_dir=static,
        player_name="Shop window",
        now=NOW,
    )

    assert name == "Shop window-2026-11-27T17-08-18.tar.gz"
    assert sorted(os.listdir(static)) == [name]
    with tarfile.open(static / name, "r:gz") as tar:
        assert tar.getnames() == [
            ".screenly",
            ".screenly/screenly.conf",
            ".screenly/screenly.db",
            "screenly_assets",
            "screenly_assets/a70b59bb54724e22ad5f141837bb6154.png",
            "screenly_assets/old.png",
        ]
        assert tar.extractfile(".screenly/screenly.db").read() == b"old database"


def test_the_gzip_header_names_the_archive_as_anthias_does(device, tmp_path):
    static = tmp_path / "static"
    name = create_backup(
        device,
        asset_dir=device / "screenly_assets",
        static_dir=static,
        player_name="Shop window",
        now=NOW,
    )

    header = (static / name).read_bytes()[:64]
    anthias_header = FIXTURE_BACKUP.read_bytes()[:64]
    assert header[3] == anthias_header[3] == 0x08  # FNAME flag
    assert header[10:].split(b"\0")[0] == anthias_header[10:].split(b"\0")[0]


def test_a_backup_can_be_restored_the_way_anthias_restores_it(device, tmp_path):
    static = tmp_path / "static"
    name = create_backup(
        device, asset_dir=device / "screenly_assets", static_dir=static, player_name="", now=NOW
    )
    anthias_home = tmp_path / "anthias"

    # Anthias's lib/backup_helper.recover: the two names must be members, then extractall.
    with tarfile.open(static / name, "r:gz") as tar:
        assert {".screenly", "screenly_assets"} <= set(tar.getnames())
        tar.extractall(anthias_home, filter="data")

    assert (anthias_home / ".screenly/screenly.db").read_bytes() == b"old database"
    assert (anthias_home / "screenly_assets/old.png").read_bytes() == b"old png"


def test_an_asset_folder_elsewhere_is_still_archived_as_screenly_assets(device, tmp_path):
    elsewhere = tmp_path / "usb" / "media"
    elsewhere.mkdir(parents=True)
    (elsewhere / "clip.mp4").write_bytes(b"mp4")
    static = tmp_path / "static"

    name = create_backup(device, asset_dir=elsewhere, static_dir=static, player_name="", now=NOW)

    with tarfile.open(static / name, "r:gz") as tar:
        assert [n for n in tar.getnames() if n.startswith("screenly_assets")] == [
            "screenly_assets",
            "screenly_assets/clip.mp4",
        ]


def test_sqlite_side_files_and_uploads_in_progress_stay_out_of_the_backup(device, tmp_path):
    static = tmp_path / "static"
    name = create_backup(
        device, asset_dir=device / "screenly_assets", static_dir=static, player_name="", now=NOW
    )

    with tarfile.open(static / name, "r:gz") as tar:
        names = tar.getnames()
    assert not [n for n in names if n.endswith(("-wal", "-shm", ".tmp"))]


def test_links_out_of_the_trees_are_archived_as_the_files_they_point_to(device, tmp_path):
    outside = tmp_path / "usb"
    (outside / "folder").mkdir(parents=True)
    (outside / "clip.mp4").write_bytes(b"mp4 on a stick")
    assets = device / "screenly_assets"
    (assets / "clip.mp4").symlink_to(outside / "clip.mp4")
    (assets / "folder").symlink_to(outside / "folder")
    (assets / "same.png").symlink_to("old.png")
    static = tmp_path / "static"

    name = create_backup(device, asset_dir=assets, static_dir=static, player_name="", now=NOW)

    with tarfile.open(static / name, "r:gz") as tar:
        assert tar.getmember("screenly_assets/clip.mp4").isreg()
        assert tar.extractfile("screenly_assets/clip.mp4").read() == b"mp4 on a stick"
        assert tar.getmember("screenly_assets/same.png").linkname == "old.png"
        assert "screenly_assets/folder" not in tar.getnames()


def test_a_new_backup_replaces_one_of_the_same_name(device, tmp_path):
    static = tmp_path / "static"
    static.mkdir()
    stale = static / "Shop window-2026-11-27T17-08-18.tar.gz"
    stale.write_bytes(b"stale")

    name = create_backup(
        device,
        asset_dir=device / "screenly_assets",
        static_dir=static,
        player_name="Shop window",
        now=NOW,
    )

    assert sorted(os.listdir(static)) == [stale.name]
    with tarfile.open(static / name, "r:gz") as tar:
        assert ".screenly/screenly.conf" in tar.getnames()


def test_before_archive_runs_before_the_archive_is_read(device, tmp_path):
    def checkpoint():
        (device / ".screenly" / "screenly.db").write_bytes(b"checkpointed database")

    static = tmp_path / "static"
    name = create_backup(
        device,
        asset_dir=device / "screenly_assets",
        static_dir=static,
        player_name="",
        now=NOW,
        before_archive=checkpoint,
    )

    with tarfile.open(static / name, "r:gz") as tar:
        assert tar.extractfile(".screenly/screenly.db").read() == b"checkpointed database"


def test_a_failed_backup_leaves_no_partial_file(device, tmp_path, monkeypatch):
    def broken_add(tar, path, arcname):
        raise OSError("disk full")

    monkeypatch.setattr(backup, "_add", broken_add)
    static = tmp_path / "static"

    with pytest.raises(OSError, match="disk full"):
        create_backup(
            device, asset_dir=device / "screenly_assets", static_dir=static, player_name="x"
        )

    assert os.listdir(static) == []


# -- recover_backup ------------------------------------------------------------------------------


def test_the_real_anthias_backup_restores_into_an_empty_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    calls = []

    recover_backup(
        FIXTURE_BACKUP,
        "Shop window-2026-11-27T17-08-18.tar.gz",
        home,
        home / "screenly_assets",
        progress=lambda done, total: calls.append((done, total)),
    )

    assert (home / ".screenly/screenly.db").read_bytes() == fixture_member(".screenly/screenly.db")
    # Anthias's own keys as archived; its paths are this device's business (here: the defaults).
    archived = fixture_member(".screenly/screenly.conf").decode().splitlines(keepends=True)
    assert (home / ".screenly/screenly.conf").read_text() == "".join(
        line for line in archived if not line.startswith(("assetdir =", "database ="))
    )
    assert sorted(os.listdir(home / "screenly_assets")) == [
        "6969bcec6629439a9f33dcc8b1b0289e.mp4",
        "a70b59bb54724e22ad5f141837bb6154.png",
    ]
    assert len(os.listdir(home / ".screenly/backups")) == 2
    assert calls == [(n, 7) for n in range(1, 8)]
    assert sorted(os.listdir(home)) == [".screenly", "screenly_assets"]


def test_a_restore_replaces_files_keeps_others_and_drops_the_live_wal(device):
    recover_backup(FIXTURE_BACKUP, "b.tgz", device, device / "screenly_assets")

    config, assets = device / ".screenly", device / "screenly_assets"
    assert (config / "screenly.db").read_bytes() == fixture_member(".screenly/screenly.db")
    assert not (config / "screenly.db-wal").exists()
    assert not (config / "screenly.db-shm").exists()
    assert (assets / "old.png").read_bytes() == b"old png"
    assert (assets / "a70b59bb54724e22ad5f141837bb6154.png").read_bytes() == fixture_member(
        "screenly_assets/a70b59bb54724e22ad5f141837bb6154.png"
    )
    assert not [n for n in os.listdir(device) if n.startswith(".anthias-")]


def test_a_restore_sends_assets_to_an_asset_folder_elsewhere(device, tmp_path):
    elsewhere = tmp_path / "device" / "media"

    recover_backup(FIXTURE_BACKUP, "b.tar.gz", device, elsewhere)

    assert sorted(os.listdir(elsewhere)) == [
        "6969bcec6629439a9f33dcc8b1b0289e.mp4",
        "a70b59bb54724e22ad5f141837bb6154.png",
    ]
    assert (device / "screenly_assets/a70b59bb54724e22ad5f141837bb6154.png").read_bytes() == (
        b"to be replaced"
    )


def test_the_hooks_run_around_the_swap(device):
    seen = []

    recover_backup(
        FIXTURE_BACKUP,
        "b.tar.gz",
        device,
        device / "screenly_assets",
        before_swap=lambda: seen.append(
            ("before", (device / ".screenly/screenly.db").read_bytes())
        ),
        after_swap=lambda: seen.append(("after", (device / ".screenly/screenly.db").read_bytes())),
    )

    assert seen == [
        ("before", b"old database"),
        ("after", fixture_member(".screenly/screenly.db")),
    ]


HOSTILE = {
    "parent escape": [("../evil", tarfile.REGTYPE, b"x", "")],
    "absolute name": [("{tmp}/abs/evil", tarfile.REGTYPE, b"x", "")],
    "dot-dot inside the path": [(".screenly/../../evil", tarfile.REGTYPE, b"x", "")],
    "symlink to /etc": [("screenly_assets/x", tarfile.SYMTYPE, b"", "/etc")],
    "symlink then a file through it": [
        ("screenly_assets/x", tarfile.SYMTYPE, b"", "/etc"),
        ("screenly_assets/x/evil", tarfile.REGTYPE, b"x", ""),
    ],
    "hard link to /etc/passwd": [("screenly_assets/p", tarfile.LNKTYPE, b"", "/etc/passwd")],
    "character device": [("screenly_assets/null", tarfile.CHRTYPE, b"", "")],
    "fifo": [("screenly_assets/pipe", tarfile.FIFOTYPE, b"", "")],
}


@pytest.mark.parametrize("case", HOSTILE, ids=list(HOSTILE))
def test_a_hostile_archive_is_refused_and_nothing_changes(device, tmp_path, case):
    members = [(name.format(tmp=tmp_path), *rest) for name, *rest in HOSTILE[case]]
    archive = _tgz(tmp_path / "hostile.tar.gz", _trees(*members))
    before = snapshot(tmp_path)
    hooks = []

    with pytest.raises(UnsafeArchive):
        recover_backup(
            archive,
            "hostile.tar.gz",
            device,
            device / "screenly_assets",
            before_swap=lambda: hooks.append("before"),
        )

    assert snapshot(tmp_path) == before
    assert hooks == []


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda: FIXTURE_BACKUP.read_bytes()[: FIXTURE_BACKUP.stat().st_size // 2], id="cut"
        ),
        pytest.param(lambda: gzip.decompress(FIXTURE_BACKUP.read_bytes()), id="plain tar"),
        pytest.param(lambda: b"PK\x03\x04 not a tar at all", id="zip"),
    ],
)
def test_an_unreadable_archive_is_refused_and_nothing_changes(device, tmp_path, make):
    archive = tmp_path / "upload.tar.gz"
    archive.write_bytes(make())
    before = snapshot(tmp_path)

    with pytest.raises(UnreadableArchive):
        recover_backup(archive, "upload.tar.gz", device, device / "screenly_assets")

    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "members",
    [
        pytest.param([(".screenly", tarfile.DIRTYPE, b"", "")], id="no screenly_assets"),
        pytest.param([("screenly_assets", tarfile.DIRTYPE, b"", "")], id="no .screenly"),
        pytest.param(
            [
                (".screenly", tarfile.REGTYPE, b"a file", ""),
                ("screenly_assets", tarfile.DIRTYPE, b"", ""),
            ],
            id=".screenly is a file",
        ),
        pytest.param([("data/.screenly/screenly.db", tarfile.REGTYPE, b"x", "")], id="nested"),
        pytest.param(
            [
                ("screenly_assets", tarfile.DIRTYPE, b"", ""),
                (".screenly", tarfile.SYMTYPE, b"", "screenly_assets"),
            ],
            id=".screenly is a link",
        ),
    ],
)
def test_an_archive_without_both_folders_is_wrong(device, tmp_path, members):
    archive = _tgz(tmp_path / "wrong.tar.gz", members)
    before = snapshot(tmp_path)

    with pytest.raises(WrongArchive) as caught:
        recover_backup(archive, "wrong.tar.gz", device, device / "screenly_assets")

    assert caught.value.message == "Archive is wrong."
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("filename", ["backup.zip", "backup.gz", "backup", "backup.tar.gz.txt"])
def test_a_name_that_is_not_a_tar_is_refused_before_the_archive_is_read(tmp_path, filename):
    home = tmp_path / "home"

    with pytest.raises(IncorrectArchiveExtension) as caught:
        recover_backup(tmp_path / "does-not-exist", filename, home, home / "screenly_assets")

    assert caught.value.message == "Incorrect file extension."
    assert not home.exists()


@pytest.mark.parametrize(
    ("filename", "accepted"),
    [
        ("Shop window-2026-11-27T17-08-18.tar.gz", True),
        ("backup.tgz", True),
        ("backup.tar", True),
        ("backup.tar.bz2", True),
        ("backup.tar.xz", True),
        ("backup.zip", False),
        ("backup.gz", False),
        ("backup", False),
    ],
)
def test_only_names_that_guess_as_tar_pass_anthias_extension_check(filename, accepted):
    assert backup.is_tar_name(filename) is accepted


def test_a_failing_after_swap_puts_the_device_back_exactly(device, tmp_path):
    before = snapshot(tmp_path)

    def reopen_fails():
        raise RuntimeError("migration failed")

    with pytest.raises(RuntimeError, match="migration failed"):
        recover_backup(
            FIXTURE_BACKUP, "b.tar.gz", device, device / "screenly_assets", after_swap=reopen_fails
        )

    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("fail_at", [1, 5, 7])
def test_a_failure_midway_through_the_swap_puts_the_device_back_exactly(
    device, tmp_path, monkeypatch, fail_at
):
    before = snapshot(tmp_path)
    real_replace = os.replace
    calls = []

    def flaky_replace(source, target):
        calls.append(target)
        if len(calls) == fail_at:
            raise OSError("I/O error")
        real_replace(source, target)

    monkeypatch.setattr(backup.os, "replace", flaky_replace)

    with pytest.raises(OSError, match="I/O error"):
        recover_backup(FIXTURE_BACKUP, "b.tar.gz", device, device / "screenly_assets")

    monkeypatch.undo()
    assert snapshot(tmp_path) == before


def test_a_file_in_the_archive_replaces_a_folder_and_is_undone_on_failure(device, tmp_path):
    (device / "screenly_assets" / "clip").mkdir()
    (device / "screenly_assets" / "clip" / "part").write_bytes(b"part")
    archive = _tgz(
        tmp_path / "a.tar.gz", _trees(("screenly_assets/clip", tarfile.REGTYPE, b"f", ""))
    )
    before = snapshot(tmp_path)

    with pytest.raises(RuntimeError):
        recover_backup(
            archive, "a.tar.gz", device, device / "screenly_assets", after_swap=_raise_runtime
        )
    assert snapshot(tmp_path) == before

    recover_backup(archive, "a.tar.gz", device, device / "screenly_assets")
    assert (device / "screenly_assets" / "clip").read_bytes() == b"f"


def _raise_runtime():
    raise RuntimeError("after_swap failed")


# -- install_anthias_home ------------------------------------------------------------------------


@pytest.fixture
def anthias_home(real_home):
    """The real Anthias HOME, read-only like the shared fixture folder it comes from."""
    for path in real_home.rglob("*"):
        if path.is_file():
            path.chmod(0o444)
    return real_home


def test_an_anthias_home_is_copied_in_with_progress(anthias_home, device):
    source_before = snapshot(anthias_home)
    calls = []

    installed = install_anthias_home(
        anthias_home,
        device,
        device / "screenly_assets",
        progress=lambda done, total: calls.append((done, total)),
    )

    assert installed.files == 5
    assert installed.kept_host_settings == ("assetdir", "database")
    assert calls == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]
    for name in ("screenly.conf", "screenly.db", "default_assets.yml"):
        copied = device / ".screenly" / name
        source = (anthias_home / ".screenly" / name).read_bytes()
        if name == "screenly.conf":  # this device's file sets no paths: the defaults stay
            source = b"".join(line for line in source.splitlines(keepends=True)
                              if not line.startswith((b"assetdir =", b"database =")))
        assert copied.read_bytes() == source
        assert stat.S_IMODE(copied.stat().st_mode) == 0o644
    assert not (device / ".screenly/screenly.db-wal").exists()
    assert not (device / ".screenly/backups").exists()
    assert (device / "screenly_assets/old.png").read_bytes() == b"old png"
    assert (device / "screenly_assets/6969bcec6629439a9f33dcc8b1b0289e.mp4").read_bytes() == (
        anthias_home / "screenly_assets/6969bcec6629439a9f33dcc8b1b0289e.mp4"
    ).read_bytes()
    assert snapshot(anthias_home) == source_before
    assert not [n for n in os.listdir(device) if n.startswith(".anthias-")]


def test_an_anthias_home_with_a_link_out_of_it_is_refused_untouched(anthias_home, device, tmp_path):
    (anthias_home / "screenly_assets" / "secret.png").symlink_to("/etc/passwd")
    before = snapshot(tmp_path)

    with pytest.raises(ImportFailed) as caught:
        install_anthias_home(anthias_home, device, device / "screenly_assets")

    assert 'Refusing "screenly_assets/secret.png": it links outside' in caught.value.message
    assert snapshot(tmp_path) == before


def test_a_folder_without_screenly_is_not_an_anthias_home(tmp_path, device):
    with pytest.raises(ImportFailed, match="not an Anthias HOME"):
        install_anthias_home(tmp_path / "empty", device, device / "screenly_assets")

    assert (device / ".screenly/screenly.db").read_bytes() == b"old database"


# -- host-level settings never come from an archive -----------------------------------------------

_EVIL = b"[edge]\nreboot_command = touch /tmp/owned\nlisten = 0.0.0.0:80\n"


@pytest.mark.parametrize("members", [
    [(".screenly/screenly.conf", tarfile.REGTYPE,
      b"[DEFAULT]\nreboot_command = touch /tmp/owned\n\n[viewer]\nplayer_name = New\n\n"
      b"[edge]\nlog_format = json\n", "")],
    [("screenly_assets/notes.txt", tarfile.REGTYPE, _EVIL, ""),
     (".screenly/screenly.conf", tarfile.SYMTYPE, b"", "../screenly_assets/notes.txt")],
], ids=["through [DEFAULT]", "through a link to an asset"])
def test_an_archive_cannot_slip_host_level_settings_in_sideways(device, tmp_path, members):
    archive = _tgz(tmp_path / "a.tar.gz", [
        (".screenly", tarfile.DIRTYPE, b"", ""), ("screenly_assets", tarfile.DIRTYPE, b"", ""),
        *members])

    restored = recover_backup(archive, "a.tar.gz", device, device / "screenly_assets")

    conf = device / ".screenly" / "screenly.conf"
    assert not conf.is_symlink()
    settings = Settings.load(device, {})
    assert settings["reboot_command"] == "systemctl reboot"
    assert settings["listen"] == "127.0.0.1:8080"
    assert "reboot_command" in restored.kept_host_settings
    # Editing the asset the link pointed at later changes nothing either.
    (device / "screenly_assets" / "notes.txt").write_bytes(_EVIL)
    assert Settings.load(device, {})["reboot_command"] == "systemctl reboot"


def test_an_archive_keeps_the_device_s_own_host_settings_and_restores_the_rest(device, tmp_path):
    (device / ".screenly" / "screenly.conf").write_text(
        "[main]\nassetdir = /srv/media\n\n[viewer]\nplayer_name = Old\n\n"
        "[edge]\nshutdown_command = /usr/local/bin/off\n")
    archive = _tgz(tmp_path / "a.tar.gz", _trees(("screenly_assets/x.png", tarfile.REGTYPE,
                                                   b"png", "")))

    restored = recover_backup(archive, "a.tar.gz", device, device / "screenly_assets")

    assert restored == backup.Restored(files=2, kept_host_settings=())
    assert (device / ".screenly" / "screenly.conf").read_text() == (
        "[viewer]\nplayer_name = New\n\n[main]\nassetdir = /srv/media\n\n"
        "[edge]\nshutdown_command = /usr/local/bin/off\n\n")
