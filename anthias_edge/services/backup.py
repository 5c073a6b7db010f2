"""Backups in Anthias's archive format, restoring them, and importing an Anthias HOME folder.

An archive is a gzip tar holding the folders ``.screenly`` (settings, database) and
``screenly_assets`` (media), exactly as Anthias writes and reads it (docs/legacy-api.md §3.16).
Restoring extracts into a temp folder first, then moves file by file into place, keeping every
replaced file so that any failure puts the device back exactly as it was.

An incoming ``screenly.conf`` never brings host-level settings (``settings.HOST_LEVEL``: commands,
paths, addresses): this device's own values are written into it before it is installed.

The device's cloud link is its own too (issue 15): ``.screenly/sync`` (its private key) never
goes into a backup nor comes out of one, and a restore or import keeps the device's link row
and unsent outbox across the database swap, then records what the new library holds
(``cloud_sync/device/carry.py``).
"""

from __future__ import annotations

import configparser
import io
import logging
import mimetypes
import os
import posixpath
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from anthias_edge.errors import (
    ImportFailed,
    IncorrectArchiveExtension,
    InvalidSetting,
    WrongArchive,
)
from anthias_edge.services.archive_safety import safe_extract
from anthias_edge.services.file_swap import (
    ROLLBACK_PREFIX,
    SCRATCH_PREFIX,
    FileSwap,
    fsync_path,
    restore_lock,
    scratch_dir,
)
from anthias_edge.settings import SETTINGS
from cloud_sync.device import carry

logger = logging.getLogger(__name__)

CONFIG_TREE = ".screenly"
ASSET_TREE = "screenly_assets"
DEFAULT_BACKUP_NAME = "anthias-backup"
DATABASE_NAME = "screenly.db"
CONF_NAME = "screenly.conf"
# What `import-anthias` takes from `.screenly/`; a WAL, if the source has one, holds committed data.
IMPORTED_CONFIG_FILES = (CONF_NAME, DATABASE_NAME, "default_assets.yml", "screenly.db-wal")
_SQLITE_SIDE_SUFFIXES = ("-wal", "-shm")
_OWN_TEMP_PREFIXES = (SCRATCH_PREFIX, ROLLBACK_PREFIX)
# Archive paths that belong to this device alone: its sync key (cloud_sync/agent).
PRIVATE_ENTRIES = frozenset({f"{CONFIG_TREE}/sync"})

Progress = Callable[[int, int], None]
_Step = tuple[Path, Path, bool]  # (source, target, is_folder)


@dataclass(frozen=True)
class Restored:
    """What a restore or an import installed."""

    files: int
    # Host-level settings the incoming screenly.conf set and this device kept its own value for.
    kept_host_settings: tuple[str, ...] = ()
    # The device's cloud link, still to be put back once the imported file is migrated.
    carried_link: carry.CarriedLink | None = None


def backup_name(player_name: str, now: datetime) -> str:
    """Anthias's archive name: ``<player name or "anthias-backup">-<local time>.tar.gz``.

    A naive ``now`` is taken as local time. The player name is kept verbatim, except that ``/``
    (which Anthias would choke on) becomes ``-`` so the name stays one file in the static folder.
    """
    if now.tzinfo is not None:
        now = now.astimezone()
    stem = (player_name or DEFAULT_BACKUP_NAME).replace("/", "-").replace("\0", "-")
    return f"{stem}-{now:%Y-%m-%dT%H-%M-%S}.tar.gz"


def is_tar_name(filename: str) -> bool:
    """Whether an uploaded file name guesses as a tar archive, Anthias's only check
    (docs/legacy-api.md §3.16)."""
    return mimetypes.guess_type(filename)[0] == "application/x-tar"


def _left_out(name: str) -> bool:
    """SQLite side files and our own temp files (uploads in progress, ...) stay out of backups."""
    left_out_suffixes = (*_SQLITE_SIDE_SUFFIXES, ".tmp", ".lock")
    return name.endswith(left_out_suffixes) or name.startswith(_OWN_TEMP_PREFIXES)


def _link_stays_inside(arcname: str, target: str) -> bool:
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(arcname), target))
    return not posixpath.isabs(resolved) and resolved.split("/")[0] != ".."


def _add(tar: tarfile.TarFile, path: Path, arcname: str) -> None:
    """Add one entry (recursively for folders) the way ``TarFile.add`` does, minus side files."""
    try:
        if path.is_symlink():
            if _link_stays_inside(arcname, os.readlink(path)):
                tar.add(path, arcname)
            elif path.is_file():
                # A link leading out of the tree would be refused on restore: store the file.
                with path.open("rb") as data:
                    tar.addfile(tar.gettarinfo(arcname=arcname, fileobj=data), data)
            else:
                logger.warning("Leaving %s out of the backup: it links outside the folder", path)
        elif path.is_dir():
            tar.add(path, arcname, recursive=False)
            for child in sorted(os.listdir(path)):
                if not _left_out(child) and f"{arcname}/{child}" not in PRIVATE_ENTRIES:
                    _add(tar, path / child, f"{arcname}/{child}")
        elif path.is_file():
            tar.add(path, arcname)
        else:
            logger.warning("Leaving %s out of the backup: not a file, folder or link", path)
    except FileNotFoundError:
        logger.info("%s disappeared while the backup was written; left out", path)


def create_backup(
    home: Path,
    *,
    asset_dir: Path,
    static_dir: Path,
    player_name: str,
    config_dir_name: str = CONFIG_TREE,
    now: datetime | None = None,
    before_archive: Callable[[], None] | None = None,
) -> str:
    """Write an Anthias-compatible backup to ``static_dir`` and return its file name.

    :param before_archive: called first, e.g. to checkpoint the SQLite WAL into ``screenly.db``.
    """
    if before_archive is not None:
        before_archive()
    name = backup_name(player_name, now or datetime.now())
    static_dir.mkdir(parents=True, exist_ok=True)
    final = static_dir / name
    trees = ((home / config_dir_name, CONFIG_TREE), (asset_dir, ASSET_TREE))
    for root, _ in trees:
        root.mkdir(parents=True, exist_ok=True)  # a backup without it could not be restored
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=static_dir)
    try:
        with os.fdopen(fd, "wb") as raw:
            # Named after the final file so the gzip header carries the same name as Anthias's.
            with tarfile.open(name=str(final), mode="w:gz", fileobj=raw) as tar:
                for root, arcname in trees:
                    # A link (to a USB stick, ...) is archived as the folder it points to.
                    _add(tar, root.resolve(), arcname)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, final)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_path(static_dir)
    logger.info("Backup written to %s", final)
    return name


def _tree_entries(source: Path, target: Path) -> list[_Step]:
    """``(source, target, is_dir)`` for everything under ``source``, folders before contents."""
    with os.scandir(source) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    plan: list[_Step] = []
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            plan.append((Path(entry.path), target / entry.name, True))
            plan.extend(_tree_entries(Path(entry.path), target / entry.name))
        else:
            plan.append((Path(entry.path), target / entry.name, False))
    return plan


def _swap_in(
    home: Path,
    plan: list[_Step],
    database: Path,
    *,
    copy: bool,
    progress: Progress | None,
    after: Callable[[], None] | None = None,
) -> int:
    """Install ``plan`` and run ``after``; if either fails, undo every change and re-raise."""
    swap = FileSwap(home)
    total = sum(1 for _, _, is_dir in plan if not is_dir)
    done = 0
    try:
        for source, target, is_dir in plan:
            if is_dir:
                swap.ensure_dir(target)
                continue
            if target == database:  # the live DB's WAL must never meet another database file
                for side in (Path(f"{database}{suffix}") for suffix in _SQLITE_SIDE_SUFFIXES):
                    if os.path.lexists(side):
                        swap.stash(side)
            swap.install(source, target, copy=copy)
            done += 1
            if progress is not None:
                progress(done, total)
        if after is not None:
            after()
    except BaseException:
        logger.warning("Putting the previous files back after a failure")
        swap.rollback()
        raise
    swap.commit()
    return done


def recover_backup(
    archive: Path | BinaryIO,
    filename: str,
    home: Path,
    asset_dir: Path,
    *,
    config_dir_name: str = CONFIG_TREE,
    before_swap: Callable[[], None] | None = None,
    after_swap: Callable[[], None] | None = None,
    progress: Progress | None = None,
) -> Restored:
    """Restore an Anthias backup over HOME; on any failure the device is left as it was.

    Files of the device that the archive does not hold are kept, as with Anthias, and so are its
    host-level settings. Runs under ``restore_lock``: a restore elsewhere is waited for.

    :param archive: the archive's path (the caller owns and deletes it) or an open binary
        stream, such as an upload, copied into the restore's scratch folder first.
    :param filename: the uploaded name; it must look like a tar archive.
    :param before_swap: called once the archive is checked, just before files move (close the DB).
    :param after_swap: called after all files moved (reopen the DB, migrate); if it raises, the
        files are rolled back too.
    :param progress: called as ``progress(done, total)`` after each installed file.
    """
    if not is_tar_name(filename):
        raise IncorrectArchiveExtension()
    with restore_lock(home):
        # Inside HOME, hence on its filesystem, so that installing a file is an atomic rename.
        workdir = scratch_dir(home)
        try:
            if not isinstance(archive, Path):
                archive = _save_stream(archive, workdir / "upload")
            extracted = workdir / "tree"
            extracted.mkdir()
            names = safe_extract(archive, extracted)
            trees = {CONFIG_TREE: home / config_dir_name, ASSET_TREE: asset_dir}
            plan: list[_Step] = []
            for tree, target in trees.items():
                source = extracted / tree
                if tree not in names or source.is_symlink() or not source.is_dir():
                    raise WrongArchive()
                plan.append((source, target, True))
                plan.extend(step for step in _tree_entries(source, target)
                            if not _is_private(step[0], extracted))
            ignored = [name for name in names if name not in trees]
            if ignored:
                logger.warning("Ignoring top-level archive entries %s", ignored)
            kept = keep_host_settings(
                extracted / CONFIG_TREE / CONF_NAME, trees[CONFIG_TREE] / CONF_NAME
            )
            if before_swap is not None:
                before_swap()
            database = trees[CONFIG_TREE] / DATABASE_NAME
            count = _swap_in(home, plan, database, copy=False, progress=progress,
                             after=_keeping_link(database, after_swap))
            logger.info("Recovered %d files from %s", count, filename)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return Restored(count, kept)


def _is_private(source: Path, extracted: Path) -> bool:
    relative = source.relative_to(extracted).as_posix()
    return any(relative == entry or relative.startswith(f"{entry}/") for entry in PRIVATE_ENTRIES)


def _keeping_link(database: Path, after_swap: Callable[[], None] | None) -> Callable[[], None]:
    """``after_swap`` (which migrates the new file), then the device's link put back in it."""
    carried = carry.capture(database)

    def after() -> None:
        if after_swap is not None:
            after_swap()
        carry.reinstate(database, carried)

    return after


def _save_stream(stream: BinaryIO, path: Path) -> Path:
    with path.open("xb") as out:
        shutil.copyfileobj(stream, out, 1 << 20)
    return path


def _read_conf(path: Path, shown: str) -> configparser.ConfigParser:
    """Parse a ``screenly.conf`` the way ``Settings`` does; ``shown`` names it in errors."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise InvalidSetting(f"{shown} could not be read: {exc}") from exc
    return parser


def _option(parser: configparser.ConfigParser, section: str, key: str) -> str | None:
    return parser.get(section, key) if parser.has_option(section, key) else None


def keep_host_settings(incoming: Path, local: Path) -> tuple[str, ...]:
    """Rewrite the ``screenly.conf`` about to be installed with this device's host-level values.

    Host-level settings (commands, paths, addresses) come only from the administrator: the
    device's own ``local`` file, where a key it does not set takes the default. Every other line
    of ``incoming`` is kept. Returns, in table order, the host-level keys ``incoming`` tried to
    change, and logs a warning naming them. ``incoming`` (a file of the restore's scratch folder)
    is replaced by a regular file, never left a link into the archive.
    """
    if not os.path.lexists(incoming):
        return ()
    if not incoming.is_file():
        raise InvalidSetting(f"The incoming {CONF_NAME} is not a file.")
    theirs = _read_conf(incoming, f"The incoming {CONF_NAME}")
    ours = _read_conf(local, str(local)) if local.is_file() else None
    changed = incoming.is_symlink()
    kept: list[str] = []
    for setting in SETTINGS:
        if not setting.host:
            continue
        section, key = setting.section, setting.key
        wanted = _option(ours, section, key) if ours else None
        given = _option(theirs, section, key)  # as Settings would read it, [DEFAULT] included
        if given is not None and given != wanted:
            kept.append(key)
        # [DEFAULT] reaches into every section, including one added below: only ours count.
        changed |= theirs.remove_option(theirs.default_section, key)
        if _option(theirs, section, key) == wanted:
            continue
        changed = True
        if wanted is None:
            theirs.remove_option(section, key)
        else:
            if not theirs.has_section(section):
                theirs.add_section(section)
            theirs.set(section, key, wanted)
    if changed:
        text = io.StringIO()
        theirs.write(text)
        incoming.unlink()
        incoming.write_text(text.getvalue(), encoding="utf-8")
    if kept:
        logger.warning(
            "The incoming %s set the host-level settings %s; this device keeps its own values "
            "(set them in %s or in the environment)", CONF_NAME, ", ".join(kept), local,
        )
    return tuple(kept)


def _checked_source(path: Path, source_root: Path, source_home: Path) -> Path:
    real, shown = path.resolve(), path.relative_to(source_home)
    if not real.is_relative_to(source_root):
        raise ImportFailed(f'Refusing "{shown}": it links outside {source_home}.')
    if not real.is_file():
        raise ImportFailed(f'Refusing "{shown}": it is not a regular file.')
    return real


def _import_plan(source_home: Path, config_dir: Path, asset_dir: Path) -> list[_Step]:
    source_root = source_home.resolve()
    source_config = source_home / CONFIG_TREE
    if not source_config.is_dir():
        raise ImportFailed(f"{source_home} is not an Anthias HOME: it has no {CONFIG_TREE} folder.")
    plan = [
        (_checked_source(source_config / name, source_root, source_home), config_dir / name, False)
        for name in IMPORTED_CONFIG_FILES
        if os.path.lexists(source_config / name)
    ]
    source_assets = source_home / ASSET_TREE
    if source_assets.is_dir():
        for source, target, is_dir in _tree_entries(source_assets, asset_dir):
            if is_dir or _left_out(source.name):
                continue
            plan.append((_checked_source(source, source_root, source_home), target, False))
    return plan


def install_anthias_home(
    source_home: Path,
    home: Path,
    asset_dir: Path,
    progress: Progress | None = None,
    *,
    config_dir_name: str = CONFIG_TREE,
) -> Restored:
    """Copy an Anthias HOME's settings, database and media into ours.

    Takes ``.screenly/{screenly.conf,screenly.db,default_assets.yml}`` (and ``screenly.db-wal``
    when present) and every file of ``screenly_assets``, keeping this device's host-level
    settings. ``source_home`` is only read. Links that lead out of ``source_home`` are refused
    before anything is copied; on any failure the files already copied are removed and the
    replaced ones put back.
    """
    config_dir = home / config_dir_name
    plan = _import_plan(source_home, config_dir, asset_dir)
    with restore_lock(home):
        workdir = scratch_dir(home)
        try:
            kept: tuple[str, ...] = ()
            for index, (source, target, _) in enumerate(plan):
                if target == config_dir / CONF_NAME:
                    edited = workdir / CONF_NAME
                    shutil.copyfile(source, edited)
                    kept = keep_host_settings(edited, target)
                    plan[index] = (edited, target, False)
            database = config_dir / DATABASE_NAME
            # The imported file is migrated later (importer._upgrade): carry the link then.
            carried = carry.capture(database)
            count = _swap_in(home, plan, database, copy=True, progress=progress)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    logger.info("Imported %d files from %s", count, source_home)
    return Restored(count, kept, carried)
