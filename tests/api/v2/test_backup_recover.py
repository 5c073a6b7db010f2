"""``POST /api/v2/backup`` and ``/recover`` through the real endpoints
(docs/legacy-api.md §3.16)."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.api.v2.conftest import wait_for
from tests.conftest import REAL

NAME = re.compile(r"^(?P<stem>.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.tar\.gz$")


def recover(client, data: bytes, filename: str = "backup.tar.gz", **kwargs):
    return client.post("/api/v2/recover", content_type="multipart/form-data",
                       data={"backup_upload": (io.BytesIO(data), filename)}, **kwargs)


def download(client, url: str, **kwargs) -> tuple[int, bytes]:
    """GET a file and close the streamed response (send_file keeps it open)."""
    with client.get(url, **kwargs) as response:
        return response.status_code, response.data


def tree(home: Path) -> dict[str, str]:
    """Every file under HOME with a digest; SQLite side files change on reads and are left out."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*"))
            if p.is_file() and not p.name.endswith(("-wal", "-shm"))
            and p.name != "screenly.db"}


def build(tmp_path: Path, add) -> bytes:
    path = tmp_path / "hostile.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for folder in (".screenly", "screenly_assets"):
            info = tarfile.TarInfo(folder)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        add(tar)
    return path.read_bytes()


def add_file(tar: tarfile.TarFile, name: str, data: bytes = b"owned") -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def add_symlink(tar: tarfile.TarFile, name: str, target: str) -> None:
    info = tarfile.TarInfo(name)
    info.type = tarfile.SYMTYPE
    info.linkname = target
    tar.addfile(info)


def dot_dot(tar):
    add_file(tar, "screenly_assets/../../evil")


def absolute(tar):
    add_file(tar, "/tmp/anthias-edge-evil")


def symlink_escape(tar):
    add_symlink(tar, "screenly_assets/out", "../../..")
    add_file(tar, "screenly_assets/out/evil")


def absolute_symlink(tar):
    add_symlink(tar, "screenly_assets/passwd", "/etc/passwd")


@pytest.fixture
def populated(client, runtime, create):
    """A device with one asset and a settings file, to prove nothing changes."""
    create(name="Keep me")
    assert client.patch("/api/v2/device_settings", json={"player_name": "Lobby"}).status_code == 200
    home = runtime.settings.home
    return home, tree(home), client.get("/api/v2/assets").get_json()


@pytest.mark.parametrize("add", [dot_dot, absolute, symlink_escape, absolute_symlink],
                         ids=["dot-dot", "absolute-name", "symlink-escape", "absolute-symlink"])
def test_a_hostile_archive_is_refused_and_the_device_is_untouched(
        client, populated, tmp_path, add, viewer):
    home, files_before, assets_before = populated
    response = recover(client, build(tmp_path, add))
    assert response.status_code == 500
    assert response.get_json()["error"].startswith("Refusing ")
    assert tree(home) == files_before
    assert client.get("/api/v2/assets").get_json() == assets_before
    assert not (tmp_path / "evil").exists() and not Path("/tmp/anthias-edge-evil").exists()
    commands = []
    while (message := viewer.receive(timeout_s=0.3)) is not None:
        commands.append(message.command)
    assert commands[-1] == "play"


def test_a_truncated_real_backup_is_refused_and_the_device_is_untouched(client, populated):
    home, files_before, assets_before = populated
    data = (REAL / "anthias-backup.tar.gz").read_bytes()
    response = recover(client, data[: len(data) // 2])
    assert response.status_code == 500
    assert response.get_json()["error"].startswith("The archive could not be")
    assert tree(home) == files_before
    assert client.get("/api/v2/assets").get_json() == assets_before


def test_an_archive_without_the_two_folders_is_wrong(client, populated, tmp_path):
    home, files_before, _ = populated
    path = tmp_path / "other.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        add_file(tar, "notes.txt")
    response = recover(client, path.read_bytes())
    assert response.status_code == 500
    assert response.get_json() == {"error": "Archive is wrong."}
    assert tree(home) == files_before


def test_a_wrong_extension_is_refused_before_the_viewer_is_stopped(client, runtime, viewer):
    response = recover(client, b"whatever", "backup.zip")
    assert response.status_code == 500
    assert response.get_json() == {"error": "Incorrect file extension."}
    assert viewer.receive(timeout_s=0.3) is None


def test_recover_without_a_file_gives_anthias_nonetype_text(client, runtime):
    response = client.post("/api/v2/recover", data={}, content_type="multipart/form-data")
    assert response.status_code == 500
    assert response.get_json() == {"error": "'NoneType' object has no attribute 'name'"}


def test_backup_answers_201_with_the_archive_name(client, runtime):
    response = client.post("/api/v2/backup")
    assert response.status_code == 201
    match = NAME.match(response.get_json())
    assert match and match["stem"] == "anthias-backup"


def test_backup_names_the_archive_after_the_player(client, runtime):
    client.patch("/api/v2/device_settings", json={"player_name": "Shop window"})
    assert NAME.match(client.post("/api/v2/backup").get_json())["stem"] == "Shop window"


def test_the_backup_is_downloadable_at_both_urls_with_anthias_members(client, runtime, create):
    create()
    name = client.post("/api/v2/backup").get_json()
    with_mime = download(client, f"/static_with_mime/{quote(name)}?mime=application/x-tgz")
    plain = download(client, f"/static/{quote(name)}")
    assert with_mime[0] == plain[0] == 200
    assert with_mime[1] == plain[1]
    assert plain[1] == (runtime.settings.static_dir / name).read_bytes()
    with tarfile.open(fileobj=io.BytesIO(plain[1]), mode="r:gz") as tar:
        names = tar.getnames()
    assert {n.split("/", 1)[0] for n in names} == {".screenly", "screenly_assets"}
    assert ".screenly/screenly.conf" in names


def test_with_auth_on_the_download_needs_credentials(client, runtime):
    from tests.helpers import basic

    assert client.patch("/api/v2/device_settings", json={
        "auth_backend": "auth_basic", "username": "admin", "password": "pw",
        "password_2": "pw"}).status_code == 200
    auth = basic("admin", "pw")
    name = client.post("/api/v2/backup", headers=auth).get_json()
    assert client.get(f"/static/{quote(name)}").status_code == 401
    assert client.get(f"/static_with_mime/{quote(name)}").status_code == 401
    assert download(client, f"/static/{quote(name)}", headers=auth)[0] == 200


def test_a_download_cannot_leave_the_backup_folder(client, runtime):
    response = client.get("/static_with_mime/..%2F.screenly%2Fscreenly.conf")
    assert response.status_code == 404


@pytest.mark.sqlite_only
def test_our_own_backup_restores_the_same_assets_on_a_fresh_device(
        make_app, client, runtime, create, tmp_path, monkeypatch):
    create(name="Page")
    create(name="Stream", uri="rtsp://198.51.100.7:8554/cam", mimetype="streaming")
    assets = client.get("/api/v2/assets").get_json()
    name = client.post("/api/v2/backup").get_json()
    data = download(client, f"/static/{quote(name)}")[1]
    fresh_home = tmp_path / "fresh"
    fresh_home.mkdir()
    fresh = make_app(HOME=str(fresh_home)).test_client()
    response = recover(fresh, data, name)
    assert response.status_code == 200, response.get_data(as_text=True)
    restored = fresh.get("/api/v2/assets").get_json()
    assert [{k: v for k, v in a.items() if k != "is_active"} for a in restored] == [
        {k: v for k, v in a.items() if k != "is_active"} for a in assets]


# -- host-level settings stay the device's own (docs/settings.md) ------------------------------


def _recording_script(path: Path, marker: Path) -> Path:
    """A stand-in for a host command: writes ``marker`` when it runs."""
    path.write_text(f'#!/bin/sh\necho ran > "{marker}.part" && mv "{marker}.part" "{marker}"\n')
    path.chmod(0o755)
    return path


def test_a_restored_archive_cannot_set_the_reboot_command_or_move_the_asset_folder(
        make_app, environ, tmp_path, caplog):
    # On a real device the host commands come from the administrator's screenly.conf.
    environ.pop("ANTHIAS_REBOOT_COMMAND")
    home = Path(environ["HOME"])
    own_marker, owned_marker = tmp_path / "device-rebooted", tmp_path / "owned"
    own_command = _recording_script(tmp_path / "reboot.sh", own_marker)
    (home / ".screenly").mkdir()
    (home / ".screenly" / "screenly.conf").write_text(
        f"[viewer]\nplayer_name = Before\n\n[edge]\nreboot_command = {own_command}\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    app = make_app()
    runtime = app.extensions["anthias"]
    client = app.test_client()
    asset_dir = runtime.settings.asset_dir

    conf = (f"[main]\nassetdir = {elsewhere}\ndatabase = {elsewhere}/db.sqlite\n\n"
            "[viewer]\nplayer_name = Restored\ndefault_duration = 17\n\n"
            f"[edge]\nreboot_command = touch {owned_marker}\nlisten = 0.0.0.0:80\n"
            "mode = cloud\n").encode()
    archive = build(tmp_path, lambda tar: (add_file(tar, ".screenly/screenly.conf", conf),
                                           add_file(tar, "screenly_assets/clip.mp4", b"mp4")))
    with caplog.at_level("WARNING"):
        response = recover(client, archive)

    assert (response.status_code, response.get_json()) == (200, "Recovery successful.")
    assert client.post("/api/v2/reboot").status_code == 200
    wait_for(lambda: own_marker.exists() or owned_marker.exists())
    assert own_marker.exists() and not owned_marker.exists()
    settings = client.get("/api/v2/device_settings").get_json()
    assert (settings["player_name"], settings["default_duration"]) == ("Restored", 17)
    assert runtime.settings.asset_dir == asset_dir
    assert (asset_dir / "clip.mp4").read_bytes() == b"mp4"
    assert list(elsewhere.iterdir()) == []
    text = (home / ".screenly" / "screenly.conf").read_text()
    assert f"reboot_command = {own_command}\n" in text
    assert "touch" not in text and str(elsewhere) not in text
    assert "0.0.0.0:80" not in text and "cloud" not in text
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    for key in ("assetdir", "database", "reboot_command", "listen", "mode"):
        assert key in warning


def test_device_settings_ignore_host_level_keys_as_anthias_ignores_unknown_ones(client, runtime):
    before = runtime.settings.as_dict()
    response = client.patch("/api/v2/device_settings", json={
        "player_name": "Lobby", "reboot_command": "touch /tmp/owned", "assetdir": "/etc",
        "listen": "0.0.0.0:80", "mode": "cloud"})

    assert (response.status_code, response.get_json()) == (
        200, {"message": "Settings were successfully saved."})
    runtime.settings.reload()
    after = runtime.settings.as_dict()
    assert after.pop("player_name") == "Lobby"
    before.pop("player_name")
    assert after == before
