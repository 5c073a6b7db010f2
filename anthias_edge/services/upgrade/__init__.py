"""Upgrade Anthias Edge in place, and roll back to the release before (docs/upgrade.md).

An upgrade builds the new release's venv beside the current one, backs the SQLite database up
(``.screenly/backups/pre-upgrade-<from>-<to>.db``), runs the new release's migrations, and only
then switches the ``venv`` link; ``previous`` keeps the old release. Any failure before the
switch leaves the current release running as it was: a failed install removes the half-built
venv, a failed migration also puts the database back from the backup. Migrations are
forward-only and additive, so the previous release runs on the migrated database and a
rollback is just the link switched back (``--restore-database`` also puts the pre-upgrade copy
back, losing what was written since).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from anthias_edge.services.upgrade.database import restore_backup, take_backup
from anthias_edge.services.upgrade.errors import UpgradeError
from anthias_edge.services.upgrade.install import (
    PipSource,
    build_release,
    download_wheel,
    release_version,
    wheel_version,
)
from anthias_edge.services.upgrade.releases import Layout

__all__ = ["DataHome", "PipSource", "UpgradeError", "rollback", "upgrade"]

# Stopped before the database changes, started after the switch (in this order).
UNITS = ("anthias-server.service", "anthias-sync.service", "anthias-player.service")

Say = Callable[[str], None]
UnitControl = Callable[[str, str], bool]


@dataclass(frozen=True)
class DataHome:
    """The device data the releases share: HOME and the environment its settings come from."""

    home: Path
    environ: Mapping[str, str]

    def database(self) -> Path | None:
        """The SQLite database file; None when it does not exist yet."""
        from anthias_edge.settings import Settings

        settings = Settings.load(self.home, dict(self.environ))
        if settings.database_url:
            raise UpgradeError(
                "The settings point at PostgreSQL (DATABASE_URL): anthias-edge upgrade backs up "
                "and migrates a device's SQLite database only. Upgrade a cloud server by its "
                "deployment, with a pg_dump taken first.")
        path = settings.database_path
        return path if path.exists() else None

    def backups(self) -> Path:
        """Where the pre-upgrade copies go."""
        return self.home / ".screenly" / "backups"


def systemctl(verb: str, unit: str) -> bool:
    """``systemctl VERB UNIT``; for ``is-active``, whether the unit runs."""
    result = subprocess.run(["systemctl", verb, unit], capture_output=True, text=True,
                            timeout=120, check=False)
    if verb != "is-active" and result.returncode != 0:
        raise UpgradeError(f"systemctl {verb} {unit} failed: {result.stderr.strip()}")
    return result.returncode == 0


def upgrade(layout: Layout, data: DataHome, *, wheel: Path | None = None,
            source: PipSource | None = None, version: str | None = None,
            python: str | None = None, restart: bool = True, say: Say = print,
            units: UnitControl = systemctl) -> str:
    """Install and switch to a new release; return its version (see the module docstring)."""
    source = source or PipSource()
    current = layout.current()
    say(f"Current release: {current.name} ({layout.venv})")
    with tempfile.TemporaryDirectory(prefix="anthias-upgrade-") as scratch:
        if wheel is None:
            if not source.index_url and not source.find_links:
                raise UpgradeError("Give a wheel (--wheel) or an index (--index).")
            say("Downloading the wheel" + (f" {version}" if version else ""))
            wheel = download_wheel(source, version, Path(scratch))
        elif not wheel.is_file():
            raise UpgradeError(f"The wheel {wheel} does not exist.")
        new_version = wheel_version(wheel)
        target = layout.release(new_version)
        if target.resolve() == current.resolve():
            raise UpgradeError(f"{new_version} is already the current release.")
        if target.exists():  # a leftover, or the previous release built again
            shutil.rmtree(target)
        say(f"Installing {wheel.name} into {target}")
        try:
            build_release(target, wheel, source, python or _base_python())
            installed = release_version(target)
        except UpgradeError as exc:
            shutil.rmtree(target, ignore_errors=True)
            raise UpgradeError(f"{exc.message} The current release {current.name} is "
                               f"unchanged.") from exc
    stopped = _stop(units, say) if restart else []
    try:
        backup = _migrate(target, data, current.name, installed, say)
    except UpgradeError:
        shutil.rmtree(target, ignore_errors=True)
        _start(units, stopped, say)
        raise
    layout.releases.mkdir(exist_ok=True)
    layout.point(layout.previous_link, current)
    layout.point(layout.venv, target)
    say(f"Switched to {installed}; previous: {current.name}")
    for name in layout.prune():
        say(f"Removed the old release {name}")
    _start(units, stopped, say)
    if backup:
        say(f"Pre-upgrade database copy: {backup}")
    return installed


def rollback(layout: Layout, data: DataHome, *, restore_database: bool = False,
             restart: bool = True, say: Say = print, units: UnitControl = systemctl) -> str:
    """Switch back to the previous release; return its version."""
    current, previous = layout.current(), layout.previous()
    if previous is None:
        raise UpgradeError(f"There is no previous release to roll back to "
                           f"({layout.previous_link} is missing).")
    say(f"Rolling back from {current.name} to {previous.name}")
    stopped = _stop(units, say) if restart else []
    if restore_database:
        database = data.database()
        backup = data.backups() / f"pre-upgrade-{previous.name}-{current.name}.db"
        if database is None or not backup.exists():
            _start(units, stopped, say)
            raise UpgradeError(f"Cannot restore the database: {backup} is missing. Nothing "
                               f"was changed.")
        keep = data.backups() / f"pre-rollback-{current.name}-{previous.name}.db"
        say(f"Keeping the database as it is now in {keep}")
        take_backup(database, keep)
        say(f"Restoring the database from {backup}")
        restore_backup(backup, database)
    layout.point(layout.previous_link, current)
    layout.point(layout.venv, previous)
    say(f"Switched to {previous.name}; previous: {current.name}")
    _start(units, stopped, say)
    return previous.name


def _migrate(release: Path, data: DataHome, old: str, new: str, say: Say) -> Path | None:
    """Back the database up, then run the new release's migrations; restore it on failure."""
    database = data.database()
    backup = None
    if database is not None:
        backup = data.backups() / f"pre-upgrade-{old}-{new}.db"
        say(f"Backing up {database} to {backup}")
        take_backup(database, backup)
    say(f"Migrating the database with {new}")
    result = subprocess.run([str(release / "bin" / "anthias-edge"), "migrate"],
                            env={**os.environ, **data.environ, "HOME": str(data.home)},
                            capture_output=True, text=True, timeout=3600, check=False,
                            **_as_owner(database))
    for line in result.stdout.splitlines():
        say(f"  {line}")
    if result.returncode == 0:
        return backup
    reason = (result.stderr.strip().splitlines() or ["no output"])[-1]
    if database is not None and backup is not None:
        say(f"Migration failed; restoring the database from {backup}")
        restore_backup(backup, database)
    raise UpgradeError(f"The database migration of {new} failed ({reason}); the database was "
                       f"restored and {old} stays the current release.")


def _as_owner(database: Path | None) -> dict[str, int]:
    """Run as the database's owner when root, so new files (WAL, lock) stay the service's."""
    if database is None or os.geteuid() != 0:
        return {}
    stat = database.stat()
    return {} if stat.st_uid == 0 else {"user": stat.st_uid, "group": stat.st_gid,
                                        "extra_groups": []}


def _stop(units: UnitControl, say: Say) -> list[str]:
    running = [unit for unit in UNITS if units("is-active", unit)]
    for unit in reversed(running):
        say(f"Stopping {unit}")
        units("stop", unit)
    return running


def _start(units: UnitControl, stopped: list[str], say: Say) -> None:
    for unit in stopped:
        say(f"Starting {unit}")
        units("start", unit)


def _base_python() -> str:
    """The interpreter the current venv was made from (not the venv's own python)."""
    return getattr(sys, "_base_executable", "") or sys.executable
