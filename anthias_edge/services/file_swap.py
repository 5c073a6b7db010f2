"""Replacing many files as one undoable step, journaled so a power cut can be undone too.

Restores and imports install files one by one. Every replaced file is moved
aside into ``HOME/.anthias-rollback-<token>/`` and every step is written to a
journal there *before* it happens. A failure rolls back at once; a crash or
power cut leaves the journal behind, and ``undo_interrupted_swaps`` (run at
start-up) puts the device back exactly as it was before the swap began.

A restore holds an ``flock`` on the HOME folder itself (``restore_lock``) from
its first temp folder to its last rename. The kernel drops that lock when the process
dies, even by ``kill -9``, so whoever gets it knows that every leftover swap and
scratch folder in HOME is abandoned, and one held elsewhere is never touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

logger = logging.getLogger(__name__)

ROLLBACK_PREFIX = ".anthias-rollback-"
# Scratch folders of a restore (the uploaded archive, its extracted tree, edited files).
SCRATCH_PREFIX = ".anthias-recover-"
JOURNAL = "journal.jsonl"
COMMITTED = "commit"


def _open_lock(home: Path) -> int:
    # The folder itself is locked: no lock file to leave behind, back up or snapshot.
    return os.open(home, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


@contextlib.contextmanager
def restore_lock(home: Path) -> Iterator[None]:
    """Hold HOME's restore lock, waiting for a restore running elsewhere to finish first.

    One restore or import at a time, in any thread or process; ``flock`` locks belong to the
    open file, so two threads of one process exclude each other too.
    """
    home.mkdir(parents=True, exist_ok=True)
    fd = _open_lock(home)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def scratch_dir(home: Path) -> Path:
    """A fresh scratch folder in HOME (same filesystem, so its files can be renamed into place).

    Create it only while holding ``restore_lock``: ``undo_interrupted_swaps`` removes any it
    finds when the lock is free.
    """
    return Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=home))


def fsync_path(path: Path) -> None:
    """Flush a file's data or a folder's entries (after renames) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_beside(target: Path) -> Path:
    """A fresh temp file name in ``target``'s folder."""
    return target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"


def copy_beside(source: Path, target: Path, tmp: Path | None = None) -> Path:
    """Copy ``source`` to a durable temp file in ``target``'s folder, ready to be renamed.

    :param tmp: the temp file's name (default: a fresh ``temp_beside(target)``).
    """
    tmp = tmp or temp_beside(target)
    try:
        if source.is_symlink():
            os.symlink(os.readlink(source), tmp)
            return tmp
        with source.open("rb") as src, tmp.open("xb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        stat = source.stat()
        # Readable by the player whatever the source's mode (the fixture's files are read-only).
        os.chmod(tmp, (stat.st_mode & 0o755) | 0o600)
        os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


class _Journal:
    """Append-only, fsynced record of the steps of one swap."""

    def __init__(self, folder: Path) -> None:
        self._file = (folder / JOURNAL).open("a", encoding="utf-8")

    def write(self, op: str, **paths: Path) -> None:
        entry = {"op": op, **{key: str(value) for key, value in paths.items()}}
        self._file.write(json.dumps(entry) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


class FileSwap:
    """Moves files into place one at a time and keeps everything they replace, for rollback."""

    def __init__(self, home: Path) -> None:
        self._home = home
        token = secrets.token_hex(6)
        self._token = token
        self._folder = home / f"{ROLLBACK_PREFIX}{token}"
        self._folder.mkdir()
        self._journal = _Journal(self._folder)
        self._stash_dirs: dict[int, Path] = {os.stat(home).st_dev: self._folder}
        self._stashed: list[tuple[Path, Path]] = []
        self._installed: list[Path] = []
        self._created: list[Path] = []
        self._touched: set[Path] = {home}

    def stash(self, path: Path) -> None:
        """Move ``path`` (file, link or folder) aside; rename needs the same filesystem."""
        device = os.stat(path.parent).st_dev
        folder = self._stash_dirs.get(device)
        if folder is None:
            folder = path.parent / f"{ROLLBACK_PREFIX}{self._token}"
            self._journal.write("stash_dir", path=folder)
            folder.mkdir()
            self._stash_dirs[device] = folder
        spare = folder / str(len(self._stashed))
        self._journal.write("stash", path=path, spare=spare)
        os.rename(path, spare)
        self._stashed.append((path, spare))
        self._touched.add(path.parent)

    def ensure_dir(self, path: Path) -> None:
        """Make ``path`` a folder, following the device's own links as extraction would."""
        if path.is_dir():
            return
        self.ensure_dir(path.parent)
        if os.path.lexists(path):
            self.stash(path)
        self._journal.write("mkdir", path=path)
        path.mkdir()
        self._created.append(path)
        self._touched.add(path.parent)

    def install(self, source: Path, target: Path, *, copy: bool) -> None:
        """Put ``source`` at ``target``, moving it when it can be renamed, copying otherwise."""
        self.ensure_dir(target.parent)
        copied = copy or os.lstat(source).st_dev != os.stat(target.parent).st_dev
        if copied:
            tmp = temp_beside(target)
            self._journal.write("temp", path=tmp)  # so a crash mid-copy leaves nothing behind
            source = copy_beside(source, target, tmp)
        elif not source.is_symlink():
            fsync_path(source)
        try:
            if os.path.lexists(target):
                self.stash(target)
            self._journal.write("install", path=target)
            os.replace(source, target)
        except BaseException:
            if copied:
                source.unlink(missing_ok=True)
            raise
        self._installed.append(target)
        self._touched.add(target.parent)

    def commit(self) -> None:
        """Make the new files durable and drop what they replaced."""
        for folder in self._touched:
            if folder.is_dir():
                fsync_path(folder)
        self._journal.write(COMMITTED)
        self._journal.close()
        self._drop_stash()

    def _drop_stash(self) -> None:
        for folder in self._stash_dirs.values():
            shutil.rmtree(folder, ignore_errors=True)

    def rollback(self) -> None:
        """Remove what was installed and put every replaced file back."""
        self._journal.close()
        steps = [
            *((os.unlink, (path,)) for path in reversed(self._installed)),
            *((os.rmdir, (path,)) for path in reversed(self._created)),
            *((os.replace, pair[::-1]) for pair in reversed(self._stashed)),
        ]
        failures = 0
        for action, paths in steps:
            try:
                action(*paths)
            except OSError:
                logger.exception("Rollback step %s%s failed", action.__name__, paths)
                failures += 1
        if failures:  # keep the stash: it may hold the only copy of files not put back
            logger.error("Rollback incomplete; replaced files are kept in %s", self._stash_dirs)
        else:
            self._drop_stash()


def undo_interrupted_swaps(home: Path) -> int:
    """Undo every swap a crash or power cut left half done in ``home``; return how many.

    Steps are undone newest first, each only if it had happened: a journal
    entry is written before its step, so the last one may never have run.
    Scratch folders of interrupted restores go too. Nothing is touched while a
    restore holds ``restore_lock`` (it is running, not interrupted).
    """
    if not home.is_dir():
        return 0
    fd = _open_lock(home)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("A restore is running in %s; leaving its files alone", home)
            return 0
        undone = _undo_swaps(home)
        _remove_scratch_dirs(home)
        return undone
    finally:
        os.close(fd)


def _remove_scratch_dirs(home: Path) -> None:
    for folder in [*home.glob(f"{SCRATCH_PREFIX}*"), *_old_upload_dirs(home)]:
        logger.warning("Removing %s, left by a restore that was interrupted", folder.name)
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder, ignore_errors=True)
        else:
            folder.unlink(missing_ok=True)


def _old_upload_dirs(home: Path) -> list[Path]:
    """``HOME/tmpXXXXXXXX/upload``: where earlier versions put an uploaded archive.

    Only folders shaped exactly so (``tempfile``'s name, nothing in it but ``upload``) are taken.
    """
    found = []
    for folder in home.glob("tmp????????"):
        if folder.is_dir() and not folder.is_symlink() and os.listdir(folder) in ([], ["upload"]):
            found.append(folder)
    return found


def _undo_swaps(home: Path) -> int:
    undone = 0
    for folder in sorted(home.glob(f"{ROLLBACK_PREFIX}*")):
        journal = folder / JOURNAL
        if not journal.is_file():
            # Killed before the journal existed: nothing was stashed into it yet.
            shutil.rmtree(folder, ignore_errors=True)
            continue
        entries = []
        for line in journal.read_text(encoding="utf-8").splitlines():
            try:
                entries.append(json.loads(line))
            except ValueError:
                break  # a torn last line: that step never started
        extra_dirs = [Path(e["path"]) for e in entries if e["op"] == "stash_dir"]
        if not any(e["op"] == COMMITTED for e in entries):
            logger.warning("Undoing a restore that was interrupted (%s)", folder.name)
            for entry in reversed(entries):
                _undo(entry)
            undone += 1
        for stash in [*extra_dirs, folder]:
            shutil.rmtree(stash, ignore_errors=True)
    return undone


def _undo(entry: dict[str, str]) -> None:
    op, path = entry["op"], Path(entry.get("path", ""))
    try:
        if op in ("install", "temp") and os.path.lexists(path):
            os.unlink(path)
        elif op == "mkdir" and path.is_dir():
            path.rmdir()
        elif op == "stash" and os.path.lexists(entry["spare"]):
            os.replace(entry["spare"], path)
    except OSError:
        logger.exception("Could not undo %s of %s", op, path)
