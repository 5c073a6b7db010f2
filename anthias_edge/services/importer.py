"""Importing an Anthias device: its HOME folder or a backup archive, migrated for Anthias Edge.

The logic behind ``anthias-edge import-anthias``; no click and no Flask here. Files move in with
``services.backup`` (the folder import, and the same restore ``/api/v2/recover`` runs), then the
imported SQLite database is migrated and its asset paths are pointed at this device's
``screenly_assets``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from peewee import PeeweeException

from anthias_edge.db import db, open_database, run_migrations
from anthias_edge.errors import ImportFailed, WrongArchive
from anthias_edge.models import Asset
from anthias_edge.services.assets import relocate_asset_uris
from anthias_edge.services.backup import (
    CONFIG_TREE,
    DATABASE_NAME,
    Progress,
    Restored,
    install_anthias_home,
    is_tar_name,
    recover_backup,
)
from anthias_edge.services.file_swap import undo_interrupted_swaps
from anthias_edge.settings import Settings
from cloud_sync.device import carry

logger = logging.getLogger(__name__)

SourceKind = Literal["folder", "archive"]
SQLITE_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class ImportSummary:
    """What one import brought in."""

    source: Path
    kind: SourceKind
    files: int
    assets: int
    migrations: tuple[str, ...]
    relocated: int
    # Host-level settings the source set; this device kept its own values (logged as well).
    kept_host_settings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Upgrade:
    migrations: tuple[str, ...]
    relocated: int
    assets: int


class _Counter:
    """Passes ``progress(done, total)`` on and remembers how many files were installed."""

    def __init__(self, progress: Progress | None) -> None:
        self.done = 0
        self._progress = progress

    def __call__(self, done: int, total: int) -> None:
        self.done = done
        if self._progress is not None:
            self._progress(done, total)


def check_source(source: Path, settings: Settings) -> SourceKind:
    """Tell whether ``source`` is an Anthias HOME folder or a backup archive; refuse anything else.

    Also refuses a target this import could not serve from: an ``ANTHIAS_DATABASE`` override
    away from ``HOME/.screenly/screenly.db``, where the imported database lands.
    """
    source = Path(source)
    target = settings.config_dir / DATABASE_NAME
    if "database" in settings.env_overrides and settings.database_path != target:
        raise ImportFailed(
            f"ANTHIAS_DATABASE points at {settings.database_path}, but an import writes "
            f"{target}; unset it first."
        )
    if source.is_dir():
        if source.resolve() == settings.home.resolve():
            raise ImportFailed(f"{source} is this device's own HOME: there is nothing to import.")
        database = source / CONFIG_TREE / DATABASE_NAME
        if not database.is_file():
            raise ImportFailed(
                f"{source} is not an Anthias HOME folder: it has no {CONFIG_TREE}/{DATABASE_NAME}."
            )
        # A folder import cannot be rolled back once migrating starts, so check the file first.
        with database.open("rb") as handle:
            if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise ImportFailed(f"{database} is not an SQLite database.")
        return "folder"
    if source.is_file():
        if not is_tar_name(source.name):
            raise ImportFailed(
                f"{source} is neither an Anthias HOME folder nor a backup archive (.tar.gz)."
            )
        return "archive"
    if source.exists():
        raise ImportFailed(f"{source} is neither a folder nor a file.")
    raise ImportFailed(f"{source} does not exist.")


def import_anthias(
    source: Path, settings: Settings, progress: Progress | None = None
) -> ImportSummary:
    """Bring an Anthias HOME folder or backup archive into ``settings.home``, ready to serve.

    Replaces this device's settings, database and same-named media. ``settings`` is reloaded from
    the imported ``screenly.conf``. An archive is restored as ``/api/v2/recover`` does, and if
    migrating it fails every file is put back. Stop the server before importing.

    :param progress: called as ``progress(done, total)`` after each installed file.
    """
    source = Path(source)
    kind = check_source(source, settings)
    counter = _Counter(progress)
    # Like the server's start: put back what an interrupted restore or import left half done.
    if undo_interrupted_swaps(settings.home):
        settings.reload()
    if kind == "folder":
        installed = install_anthias_home(source, settings.home, settings.asset_dir, counter)
        settings.reload()
        upgrade = _upgrade(settings)
        # The device's cloud link and unsent outbox, into the now migrated file.
        carry.reinstate(settings.config_dir / DATABASE_NAME, installed.carried_link)
    else:
        upgrade, installed = _recover(source, settings, counter)
    logger.info("Imported %d assets and %d files from %s", upgrade.assets, installed.files, source)
    return ImportSummary(
        source=source, kind=kind, files=installed.files, assets=upgrade.assets,
        migrations=upgrade.migrations, relocated=upgrade.relocated,
        kept_host_settings=installed.kept_host_settings,
    )


def _recover(source: Path, settings: Settings, counter: _Counter) -> tuple[_Upgrade, Restored]:
    """Restore an archive; migrating inside ``after_swap`` rolls the files back if it fails."""
    done: list[_Upgrade] = []

    def after_swap() -> None:
        settings.reload()
        done.append(_upgrade(settings))

    try:
        installed = recover_backup(
            source, source.name, settings.home, settings.asset_dir,
            after_swap=after_swap, progress=counter,
        )
    except WrongArchive as exc:
        raise ImportFailed(
            f"{source} is not an Anthias backup: it must hold the {CONFIG_TREE} and "
            "screenly_assets folders."
        ) from exc
    except BaseException:
        settings.reload()  # the previous screenly.conf is back in place
        raise
    return done[0], installed


def _upgrade(settings: Settings) -> _Upgrade:
    """Migrate the imported database and point its asset paths at our asset folder."""
    database = open_database(settings.config_dir / DATABASE_NAME)
    previous = db.obj
    db.initialize(database)
    try:
        with database.connection_context():
            applied = run_migrations(database)
            relocated = relocate_asset_uris(settings.asset_dir)
            assets = Asset.select().count()
    except PeeweeException as exc:
        raise ImportFailed(f"The imported database could not be read: {exc}") from exc
    finally:
        database.close_all()
        if previous is not None:
            db.initialize(previous)
    return _Upgrade(migrations=tuple(applied), relocated=relocated, assets=assets)
