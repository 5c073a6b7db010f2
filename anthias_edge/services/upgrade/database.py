"""The device's SQLite database around an upgrade: a consistent copy before, put back on failure.

Both directions use SQLite's online backup API, which copies a consistent snapshot page by page
even while another connection writes (WAL mode), unlike a file copy that can catch a
half-written page or miss the -wal file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from anthias_edge.services.upgrade.errors import UpgradeError


def copy_database(source: Path, target: Path) -> None:
    """Copy ``source`` into ``target`` (created or overwritten) with the backup API."""
    try:
        with (contextlib.closing(sqlite3.connect(source, timeout=30)) as src,
              contextlib.closing(sqlite3.connect(target, timeout=30)) as dst):
            src.backup(dst)
            # Fold the copy's WAL into its main file, so the file alone is the whole copy.
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise UpgradeError(f"Could not copy the database {source} to {target}: {exc}.") from exc


def take_backup(database: Path, backup: Path) -> None:
    """Write a consistent copy of ``database`` to ``backup``, owned like the database."""
    backup.parent.mkdir(parents=True, exist_ok=True)
    partial = backup.with_name(backup.name + ".partial")
    partial.unlink(missing_ok=True)
    copy_database(database, partial)
    os.replace(partial, backup)
    match_owner(backup, database)


def restore_backup(backup: Path, database: Path) -> None:
    """Put ``backup``'s content back into ``database`` (the services must be stopped)."""
    if not backup.exists():
        raise UpgradeError(f"The backup {backup} is missing; the database was not restored.")
    copy_database(backup, database)


def match_owner(path: Path, like: Path) -> None:
    """Give ``path`` the owner of ``like`` (only root can, and only root needs to)."""
    if os.geteuid() == 0:
        stat = like.stat()
        os.chown(path, stat.st_uid, stat.st_gid)
        for suffix in ("-wal", "-shm"):
            extra = path.with_name(path.name + suffix)
            if extra.exists():
                os.chown(extra, stat.st_uid, stat.st_gid)
