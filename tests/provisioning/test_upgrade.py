"""``anthias-edge upgrade`` and ``rollback`` with real wheels, real venvs and a real library.

The previous release is a wheel built from ``git archive fce0735`` (the release before issue
16); the new one is a wheel built from ``git archive HEAD`` with only its version changed (to
``<version>+upgrade.test``, so the two can be told apart: both trees say 0.1.0). A third wheel,
HEAD plus one migration that fails, stands for a broken release. The old wheel and the
dependency wheelhouse are cached under ``$XDG_CACHE_HOME/anthias-edge-tests/upgrade`` (built
once per machine, shared by both passes of scripts/test); the HEAD wheels are built once per
session. Every venv is a real ``python -m venv`` with the wheels installed by pip from the
wheelhouse (``--no-index --find-links``): nothing is shared with the test's own venv.

The library is the real Anthias device's backup (tests/fixtures/anthias-real), imported by the
old release's own ``import-anthias``. The tests run in file order on one install root (built
once for the module: a venv cannot be copied to another path), each leaving it as the next
expects: the failures first (which must change nothing), then upgrade, rollback and rollback
again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PREVIOUS_COMMIT = "fce0735"
REAL = REPO / "tests" / "fixtures" / "anthias-real"
ASSET_NAMES = {"Opening hours", "Storefront.png", "Intro.mp4", "Parking camera",
               "Spring campaign"}


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "anthias-edge-tests" / "upgrade"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    kwargs.setdefault("timeout", 1800)
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def _checked(command: list[str], **kwargs) -> str:
    result = _run(command, **kwargs)
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result.stdout


def _source_tree(commit: str, target: Path, version_suffix: str = "") -> Path:
    """``git archive COMMIT`` unpacked into ``target``, its version suffixed if asked."""
    target.mkdir(parents=True)
    archive = target.with_suffix(".tar")
    _checked(["git", "-C", str(REPO), "archive", "--format=tar", "-o", str(archive), commit])
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    archive.unlink()
    if version_suffix:
        init = target / "anthias_edge" / "__init__.py"
        text = init.read_text()
        text, count = re.subn(r'__version__ = "([^"]+)"', rf'__version__ = "\1{version_suffix}"',
                              text)
        assert count == 1
        init.write_text(text)
    return target


def _wheel(source: Path, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    _checked([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
              "-w", str(out), str(source)])
    (wheel,) = out.glob("anthias_edge-*.whl")
    return wheel


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The previous, new and broken-migration wheels and the dependency wheelhouse."""
    work = tmp_path_factory.mktemp("wheels")
    cached_old = _cache() / PREVIOUS_COMMIT
    if not list(cached_old.glob("anthias_edge-*.whl")):
        shutil.rmtree(cached_old, ignore_errors=True)
        _wheel(_source_tree(PREVIOUS_COMMIT, work / "old-src"), cached_old)
    (old,) = cached_old.glob("anthias_edge-*.whl")
    new = _wheel(_source_tree("HEAD", work / "new-src", "+upgrade.test"), work / "new")
    broken_src = _source_tree("HEAD", work / "broken-src", "+broken.migration")
    (broken_src / "anthias_edge" / "migrations" / "0099_fails.py").write_text(
        "def up(migrator, db):\n"
        "    raise RuntimeError('this migration fails on purpose')\n")
    broken = _wheel(broken_src, work / "broken")
    # The dependencies of both releases as wheels, fetched once per set of requirements.
    requirements = sorted(set(_requires(old)) | set(_requires(new)))
    key = hashlib.sha256("\n".join(requirements).encode()).hexdigest()[:16]
    wheelhouse = _cache() / f"wheelhouse-{key}"
    if not (wheelhouse / ".complete").exists():
        _checked([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check",
                  "-w", str(wheelhouse), *requirements])
        (wheelhouse / ".complete").write_text("\n".join(requirements))
    return {"old": old, "new": new, "broken": broken, "wheelhouse": wheelhouse}


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    return [line.split(":", 1)[1].strip() for line in metadata.splitlines()
            if line.startswith("Requires-Dist:") and "extra ==" not in line]


def _migrations(wheel: Path) -> set[str]:
    """The migration names a release's wheel carries."""
    with zipfile.ZipFile(wheel) as archive:
        return {Path(name).stem for name in archive.namelist()
                if re.fullmatch(r"anthias_edge/migrations/\d{4}_\w+\.py", name)}


def _version_of(wheel: Path) -> str:
    return wheel.name.split("-")[1]


@pytest.fixture(scope="module")
def device(tmp_path_factory: pytest.TempPathFactory, wheels) -> dict[str, Path]:
    """An install root with the previous release current, and a HOME holding the real library
    imported by that release."""
    base = tmp_path_factory.mktemp("device")
    root, home = base / "opt", base / "home"
    home.mkdir()
    release = root / "releases" / _version_of(wheels["old"])
    _checked([_base_python(), "-m", "venv", str(release)])
    _checked([str(release / "bin" / "python"), "-m", "pip", "install", "--no-index",
              "--disable-pip-version-check", "--find-links", str(wheels["wheelhouse"]),
              str(wheels["old"])])
    (root / "venv").symlink_to(os.path.relpath(release, root))
    _checked([str(root / "venv" / "bin" / "anthias-edge"), "import-anthias", "--yes",
              str(REAL / "anthias-backup.tar.gz")], env=_env(home))
    return {"root": root, "home": home, "database": home / ".screenly" / "screenly.db"}


def _base_python() -> str:
    return getattr(sys, "_base_executable", "") or sys.executable


def _env(home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ANTHIAS_") and key != "DATABASE_URL"}
    return {**env, "HOME": str(home), "ANTHIAS_ZMQ_PUBLISHER": "tcp://127.0.0.1:*",
            "ANTHIAS_ZMQ_COLLECTOR": "tcp://127.0.0.1:*"}


def _cli(device, *args: str) -> subprocess.CompletedProcess[str]:
    """This tree's ``anthias-edge`` (the command under test) on the device's root and HOME."""
    return _run([sys.executable, "-m", "anthias_edge.cli", *args, "--root", str(device["root"]),
                 "--home", str(device["home"]), "--no-restart"], env=_env(device["home"]))


def _current_version(device) -> str:
    program = device["root"] / "venv" / "bin" / "anthias-edge"
    return _checked([str(program), "--version"]).split()[-1]


def _applied(database: Path) -> set[str]:
    with sqlite3.connect(database) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM anthias_edge_migrations")}


def _asset_names(database: Path) -> set[str]:
    with sqlite3.connect(database) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM assets")}


@contextlib.contextmanager
def _served(device) -> Iterator[str]:
    """The current release's server on the device's HOME; yields its base URL."""
    process = subprocess.Popen([str(device["root"] / "venv" / "bin" / "anthias-edge"), "serve",
                                "--listen", "127.0.0.1:0"], env=_env(device["home"]),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            match = re.search(r"running at (http://127\.0\.0\.1:\d+)/", line)
            if match:
                break
        else:
            raise AssertionError(f"the server did not start: {process.stderr.read()}")
        yield match.group(1)
    finally:
        process.terminate()
        process.wait(timeout=60)
        process.stdout.close()
        process.stderr.close()


def _list_names(base: str) -> set[str]:
    with urllib.request.urlopen(f"{base}/api/v2/assets", timeout=60) as response:
        return {asset["name"] for asset in json.load(response)}


def _served_asset_names(device) -> set[str]:
    """Start the current release's server and list the assets over API v2."""
    with _served(device) as base:
        return _list_names(base)


# -- in file order, on one device -----------------------------------------------------------


def test_the_previous_release_is_installed_with_the_real_library(device, wheels):
    assert _current_version(device) == _version_of(wheels["old"])
    assert _asset_names(device["database"]) == ASSET_NAMES
    assert _applied(device["database"]) == _migrations(wheels["old"])
    # The new release brings migrations the old one does not know (0013-0015 in issue 15).
    assert _migrations(wheels["new"]) > _migrations(wheels["old"])


def test_a_missing_wheel_is_a_clear_error_and_changes_nothing(device, tmp_path):
    result = _cli(device, "upgrade", "--wheel", str(tmp_path / "anthias_edge-9.9-py3-none-any.whl"))
    assert result.returncode == 1
    assert "does not exist" in result.stderr
    assert _current_version(device) == "0.1.0"


def test_a_corrupt_wheel_fails_to_install_and_the_current_release_keeps_working(device,
                                                                                 tmp_path, wheels):
    corrupt = tmp_path / "anthias_edge-0.1.0+corrupt-py3-none-any.whl"
    corrupt.write_bytes(b"this is not a zip archive")
    result = _cli(device, "upgrade", "--wheel", str(corrupt), "--no-index",
                  "--find-links", str(wheels["wheelhouse"]))
    assert result.returncode == 1
    assert "Could not install" in result.stderr and "is unchanged" in result.stderr
    assert not (device["root"] / "releases" / "0.1.0+corrupt").exists()
    assert not (device["root"] / "previous").exists()
    assert _current_version(device) == "0.1.0"
    assert _served_asset_names(device) == ASSET_NAMES


def test_a_failing_migration_restores_the_database_and_makes_no_switch(device, wheels):
    before = _applied(device["database"])
    result = _cli(device, "upgrade", "--wheel", str(wheels["broken"]), "--no-index",
                  "--find-links", str(wheels["wheelhouse"]))
    assert result.returncode == 1, result.stdout
    assert "this migration fails on purpose" in result.stderr
    assert "the database was restored" in result.stderr
    assert "Migration failed; restoring the database" in result.stdout
    # The migrations before the failing one had run; the restore took them back out.
    assert _applied(device["database"]) == before
    assert _asset_names(device["database"]) == ASSET_NAMES
    assert not (device["root"] / "releases" / _version_of(wheels["broken"])).exists()
    assert _current_version(device) == "0.1.0"


def _simple_index(folder: Path, wheel: Path) -> str:
    """A PEP 503 index (file://) offering ``wheel`` as the anthias-edge project."""
    project = folder / "simple" / "anthias-edge"
    project.mkdir(parents=True)
    shutil.copyfile(wheel, project / wheel.name)
    (project / "index.html").write_text(
        f'<!DOCTYPE html><html><body><a href="{wheel.name}">{wheel.name}</a></body></html>\n')
    return (folder / "simple").as_uri()


def test_upgrade_from_an_index_installs_migrates_and_switches_keeping_the_data(device, wheels,
                                                                               tmp_path):
    new = _version_of(wheels["new"])
    index = _simple_index(tmp_path, wheels["new"])
    # The wheel comes from the index; its dependencies from the wheelhouse (no network).
    result = _cli(device, "upgrade", "--index", index, "--version", new,
                  "--find-links", str(wheels["wheelhouse"]))
    assert result.returncode == 0, result.stderr
    for line in ("Current release: 0.1.0", f"Downloading the wheel {new}",
                 f"Installing {wheels['new'].name}",
                 "Backing up", f"Migrating the database with {new}",
                 f"Switched to {new}; previous: 0.1.0", f"Upgraded to {new}."):
        assert line in result.stdout
    assert _current_version(device) == new
    assert os.readlink(device["root"] / "previous") == "releases/0.1.0"
    assert os.readlink(device["root"] / "venv") == f"releases/{new}"
    assert _applied(device["database"]) == _migrations(wheels["new"])
    assert _asset_names(device["database"]) == ASSET_NAMES
    backup = device["home"] / ".screenly" / "backups" / f"pre-upgrade-0.1.0-{new}.db"
    assert _asset_names(backup) == ASSET_NAMES
    assert _applied(backup) == _migrations(wheels["old"])
    assert _served_asset_names(device) == ASSET_NAMES


def test_rollback_runs_the_previous_release_on_the_migrated_database(device, wheels):
    new = _version_of(wheels["new"])
    result = _cli(device, "rollback")
    assert result.returncode == 0, result.stderr
    assert "Rolled back to 0.1.0." in result.stdout
    assert _current_version(device) == "0.1.0"
    assert os.readlink(device["root"] / "previous") == f"releases/{new}"
    # The old release's migration runner ignores the newer migrations it does not know...
    assert _applied(device["database"]) == _migrations(wheels["new"])
    # ...and its server starts on that schema, lists the library and writes to it: the
    # newer columns have defaults, so the old release's inserts still work.
    body = {"name": "Written by the old release", "uri": "https://example.org/", "duration": 10,
            "mimetype": "webpage", "is_enabled": True, "nocache": False, "play_order": 0,
            "skip_asset_check": True, "start_date": "2020-01-01T00:00:00.000Z",
            "end_date": "2099-01-01T00:00:00.000Z"}
    with _served(device) as base:
        assert _list_names(base) == ASSET_NAMES
        request = urllib.request.Request(f"{base}/api/v2/assets", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            assert response.status == 201
        assert _list_names(base) == {*ASSET_NAMES, "Written by the old release"}


def test_rollback_with_restore_database_puts_the_pre_upgrade_copy_back(device, wheels):
    new = _version_of(wheels["new"])
    forward = _cli(device, "rollback")  # back to the new release: rollback swaps the two
    assert forward.returncode == 0, forward.stderr
    assert _current_version(device) == new
    with sqlite3.connect(device["database"]) as conn:  # a write made after the upgrade
        conn.execute("UPDATE assets SET name = 'Renamed after the upgrade' "
                     "WHERE name = 'Opening hours'")
    result = _cli(device, "rollback", "--restore-database")
    assert result.returncode == 0, result.stderr
    assert _current_version(device) == "0.1.0"
    assert _asset_names(device["database"]) == ASSET_NAMES  # the write is lost, as documented
    assert _applied(device["database"]) == _migrations(wheels["old"])
    kept = device["home"] / ".screenly" / "backups" / f"pre-rollback-{new}-0.1.0.db"
    assert "Renamed after the upgrade" in _asset_names(kept)
    assert _served_asset_names(device) == ASSET_NAMES


# -- the switch itself, on releases that are only folders -------------------------------------


def _fake_release(root: Path, version: str) -> Path:
    """A release folder as the layout sees one (its bin/anthias-edge exists)."""
    program = root / "releases" / version / "bin" / "anthias-edge"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    return program.parent.parent


def test_rollback_stops_the_running_units_and_starts_them_again_after_the_switch(tmp_path):
    from anthias_edge.services.upgrade import DataHome, rollback
    from anthias_edge.services.upgrade.releases import Layout

    layout = Layout(tmp_path / "opt")
    old, new = _fake_release(layout.root, "1.0"), _fake_release(layout.root, "2.0")
    layout.point(layout.venv, new)
    layout.point(layout.previous_link, old)
    calls: list[tuple[str, str]] = []

    def units(verb: str, unit: str) -> bool:
        calls.append((verb, unit))
        if verb == "start":  # the switch happened before any start
            assert layout.current() == old.resolve()
        return unit != "anthias-sync.service"  # the agent is not running

    version = rollback(layout, DataHome(tmp_path / "home", {}), say=lambda line: None,
                       units=units)
    assert version == "1.0"
    assert [call for call in calls if call[0] != "is-active"] == [
        ("stop", "anthias-player.service"), ("stop", "anthias-server.service"),
        ("start", "anthias-server.service"), ("start", "anthias-player.service")]
    assert os.readlink(layout.venv) == "releases/1.0"
    assert os.readlink(layout.previous_link) == "releases/2.0"
    assert sorted(p.name for p in layout.root.iterdir()) == ["previous", "releases", "venv"]


def test_rollback_without_a_previous_release_is_a_clear_error(tmp_path):
    from anthias_edge.services.upgrade import DataHome, UpgradeError, rollback
    from anthias_edge.services.upgrade.releases import Layout

    layout = Layout(tmp_path / "opt")
    layout.point(layout.venv, _fake_release(layout.root, "1.0"))
    with pytest.raises(UpgradeError, match="no previous release"):
        rollback(layout, DataHome(tmp_path, {}), restart=False, say=lambda line: None)


def test_a_plain_venv_is_not_taken_for_a_release_layout(tmp_path):
    from anthias_edge.services.upgrade import UpgradeError
    from anthias_edge.services.upgrade.releases import Layout

    layout = Layout(tmp_path / "opt")
    (layout.venv / "bin").mkdir(parents=True)
    (layout.venv / "bin" / "anthias-edge").write_text("#!/bin/sh\n")
    with pytest.raises(UpgradeError, match="plain virtual environment"):
        layout.current()


def test_a_version_cannot_name_a_folder_outside_releases(tmp_path):
    from anthias_edge.services.upgrade import UpgradeError
    from anthias_edge.services.upgrade.releases import Layout

    with pytest.raises(UpgradeError, match="not a release version"):
        Layout(tmp_path).release("../../etc")


def test_the_cli_wants_exactly_one_source():
    result = _run([sys.executable, "-m", "anthias_edge.cli", "upgrade", "--no-restart"])
    assert result.returncode == 2
    assert "exactly one of --wheel PATH and --index URL" in result.stderr
