"""A swap cut short by a crash is undone at the next start, leaving the device as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from anthias_edge.services.file_swap import FileSwap, temp_beside, undo_interrupted_swaps


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root with its bytes (None for folders), skipping rollback folders."""
    result: dict[str, bytes | None] = {}
    for path in sorted(root.rglob("*")):
        if any(part.startswith(".anthias-rollback-") for part in path.relative_to(root).parts):
            continue
        result[str(path.relative_to(root))] = None if path.is_dir() else path.read_bytes()
    return result


def power_cut(swap: FileSwap) -> None:
    """What the OS does to a dead process's open journal: close it, nothing more."""
    swap._journal.close()


def make_device(home: Path) -> None:
    (home / ".screenly").mkdir(parents=True)
    (home / ".screenly" / "screenly.db").write_bytes(b"old database")
    (home / ".screenly" / "screenly.db-wal").write_bytes(b"old wal")
    (home / "screenly_assets").mkdir()
    (home / "screenly_assets" / "a.png").write_bytes(b"old image")


def incoming(tmp_path: Path) -> dict[str, Path]:
    source = tmp_path / "incoming"
    source.mkdir()
    files = {"screenly.db": b"new database", "b.png": b"new image"}
    for name, data in files.items():
        (source / name).write_bytes(data)
    return {name: source / name for name in files}


def test_a_swap_interrupted_midway_is_undone_at_the_next_start(tmp_path):
    home = tmp_path / "home"
    make_device(home)
    before = snapshot(home)
    new = incoming(tmp_path)

    swap = FileSwap(home)
    swap.stash(home / ".screenly" / "screenly.db-wal")
    swap.install(new["screenly.db"], home / ".screenly" / "screenly.db", copy=True)
    swap.install(new["b.png"], home / "screenly_assets" / "sub" / "b.png", copy=True)
    power_cut(swap)  # neither commit nor rollback runs
    assert snapshot(home) != before

    assert undo_interrupted_swaps(home) == 1
    assert snapshot(home) == before
    assert list(home.glob(".anthias-rollback-*")) == []


def test_a_committed_swap_is_kept_and_its_leftovers_cleared(tmp_path):
    home = tmp_path / "home"
    make_device(home)
    new = incoming(tmp_path)
    swap = FileSwap(home)
    swap.install(new["screenly.db"], home / ".screenly" / "screenly.db", copy=True)
    swap.commit()

    assert undo_interrupted_swaps(home) == 0
    assert (home / ".screenly" / "screenly.db").read_bytes() == b"new database"
    assert list(home.glob(".anthias-rollback-*")) == []


def test_a_torn_last_journal_line_is_treated_as_a_step_that_never_ran(tmp_path):
    home = tmp_path / "home"
    make_device(home)
    before = snapshot(home)
    swap = FileSwap(home)
    swap.stash(home / "screenly_assets" / "a.png")
    power_cut(swap)
    [folder] = home.glob(".anthias-rollback-*")
    with (folder / "journal.jsonl").open("a") as journal:
        journal.write('{"op": "install", "pa')  # cut off mid-write

    assert undo_interrupted_swaps(home) == 1
    assert snapshot(home) == before


def test_a_copy_and_a_swap_folder_cut_short_by_a_kill_leave_nothing_behind(tmp_path):
    home = tmp_path / "home"
    make_device(home)
    before = snapshot(home)
    new = incoming(tmp_path)
    swap = FileSwap(home)
    swap.install(new["b.png"], home / "screenly_assets" / "b.png", copy=True)
    # Killed inside the next copy, as install() left it: journaled, half written, not renamed.
    temp = temp_beside(home / ".screenly" / "screenly.db")
    swap._journal.write("temp", path=temp)
    temp.write_bytes(b"half a copy")
    power_cut(swap)
    # And a second swap killed between creating its folder and its journal.
    (home / ".anthias-rollback-0123456789ab").mkdir()

    assert undo_interrupted_swaps(home) == 1

    assert snapshot(home) == before
    assert sorted(p.name for p in home.rglob(".*")) == [".screenly"]


@pytest.mark.sqlite_only  # the database file is what a restore swaps
def test_the_server_undoes_an_interrupted_restore_before_opening_the_database(
    make_app, home, tmp_path
):
    app = make_app()
    client = app.test_client()
    client.post("/api/v2/assets", json={
        "name": "kept", "uri": "https://example.com", "start_date": "2020-01-01T00:00:00Z",
        "end_date": "2099-01-01T00:00:00Z", "duration": 10, "mimetype": "webpage",
        "is_enabled": True, "skip_asset_check": True})
    runtime = app.extensions["anthias"]
    runtime.messenger.close()
    runtime.close_database()
    database = runtime.settings.database_path
    good = database.read_bytes()

    broken = tmp_path / "broken.db"
    broken.write_bytes(b"half a database")
    swap = FileSwap(home)
    for side in ("-wal", "-shm"):
        side_path = Path(f"{database}{side}")
        if side_path.exists():
            swap.stash(side_path)
    swap.install(broken, database, copy=True)
    power_cut(swap)

    again = make_app()
    names = [a["name"] for a in again.test_client().get("/api/v2/assets").get_json()]
    assert names == ["kept"]
    assert database.read_bytes() == good
