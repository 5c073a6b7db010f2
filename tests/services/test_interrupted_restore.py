"""A restore killed with ``kill -9`` leaves nothing behind once the server starts again.

A real child process restores a real archive and is killed while paused inside the restore (its
own hooks wait for a file the test never writes); then the server starts on the same HOME.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from anthias_edge.services.file_swap import undo_interrupted_swaps
from tests.api.v2.conftest import wait_for
from tests.conftest import REAL
from tests.helpers import v2_asset

BACKUP = REAL / "anthias-backup.tar.gz"

# Restores ARCHIVE over HOME and, at PAUSE ("extracted": before any file moves; "swap": with all
# but one file moved), writes MARKER and waits until GO exists.
CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from anthias_edge.services.backup import recover_backup

    home, archive, pause, marker, go = (Path(arg) for arg in sys.argv[1:])

    def wait(stage):
        if stage == pause.name:
            marker.write_text(stage)
            while not go.exists():
                time.sleep(0.02)

    recover_backup(archive, archive.name, home, home / "screenly_assets",
                   before_swap=lambda: wait("extracted"),
                   progress=lambda done, total: done == total - 1 and wait("swap"))
""")


def leftovers(home: Path) -> list[str]:
    return sorted(p.name for p in home.iterdir() if p.name.startswith((".anthias-", "tmp")))


def files(home: Path) -> dict[str, str]:
    """Every file under HOME with a digest; SQLite files change on open and are compared by API."""
    return {str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(home.rglob("*")) if p.is_file() and "screenly.db" not in p.name}


def start_restore(tmp_path: Path, home: Path, pause: str) -> tuple[subprocess.Popen, Path]:
    """Start the child restore and return once it is paused at ``pause``."""
    marker, go = tmp_path / "paused", tmp_path / "go"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home), str(BACKUP), str(tmp_path / pause),
         str(marker), str(go)],
        cwd=Path(__file__).resolve().parents[2],
    )
    wait_for(lambda: marker.exists() or child.poll() is not None, timeout_s=60)
    assert child.poll() is None, "the restore ended before it reached its pause"
    return child, go


@pytest.fixture
def device(make_app: Callable[..., Flask], home: Path) -> tuple[list[dict], dict[str, str]]:
    """A device with one asset, stopped: what the API listed and the files it had."""
    app = make_app()
    client = app.test_client()
    assert client.post("/api/v2/assets", json=v2_asset(name="Keep me")).status_code == 201
    assert client.patch("/api/v2/device_settings", json={"player_name": "Mine"}).status_code == 200
    assets = client.get("/api/v2/assets").get_json()
    app.extensions["anthias"].close_database()
    return assets, files(home)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("pause", ["extracted", "swap"])
def test_a_restore_killed_mid_way_is_cleaned_up_and_undone_at_the_next_start(
        make_app, home, tmp_path, device, pause):
    assets_before, files_before = device
    child, _ = start_restore(tmp_path, home, pause)
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait() == -signal.SIGKILL
    assert any(name.startswith(".anthias-recover-") for name in leftovers(home))
    if pause == "swap":
        assert files(home) != files_before  # half restored

    client = make_app().test_client()

    assert leftovers(home) == []
    assert files(home) == files_before
    assert client.get("/api/v2/assets").get_json() == assets_before
    assert client.get("/api/v2/device_settings").get_json()["player_name"] == "Mine"


@pytest.mark.sqlite_only
def test_a_restore_running_in_another_process_is_left_alone_by_a_start(
        make_app, home, tmp_path, device):
    child, go = start_restore(tmp_path, home, "swap")
    try:
        in_flight = leftovers(home)
        assert any(name.startswith(".anthias-rollback-") for name in in_flight)

        assert undo_interrupted_swaps(home) == 0

        assert leftovers(home) == in_flight
    finally:
        go.write_text("go")
        assert child.wait(timeout=60) == 0
    assert leftovers(home) == []
    client = make_app().test_client()
    assert [a["name"] for a in client.get("/api/v2/assets").get_json()] != [
        a["name"] for a in device[0]]
    assert client.get("/api/v2/device_settings").get_json()["player_name"] == "Shop window"


def test_upload_folders_an_earlier_version_left_are_removed_and_nothing_else(make_app, home):
    old = home / "tmpa1b2c3d4"
    old.mkdir()
    (old / "upload").write_bytes(b"half an archive")
    mine = home / "tmpnotes12"
    mine.mkdir()
    (mine / "notes.txt").write_text("not ours")

    make_app()

    assert not old.exists()
    assert (mine / "notes.txt").read_text() == "not ours"
