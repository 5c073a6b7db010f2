"""Checks and extraction for tar archives that come from outside (backup uploads).

Every member is vetted before a single byte is written: nothing may land outside the destination,
and only regular files, folders and links that stay inside are allowed. Python's ``data`` extraction
filter runs as well, as a second line of defence.
"""

from __future__ import annotations

import gzip
import logging
import posixpath
import tarfile
import zlib
from pathlib import Path

from anthias_edge.errors import UnreadableArchive, UnsafeArchive

logger = logging.getLogger(__name__)

# Same limit as Linux's MAXSYMLINKS: a longer chain is a loop or an attack.
_MAX_LINK_HOPS = 40
_READ_ERRORS = (tarfile.ReadError, EOFError, OSError, zlib.error)


class _Escape(Exception):
    """A path resolved to somewhere outside the destination."""


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def _resolve(base: list[str], path: str, links: dict[str, str], hops: int = 0) -> list[str]:
    """Resolve ``path`` from folder ``base`` the way the kernel would after extraction.

    ``links`` maps the archive's symlinks seen so far to their targets. Raises ``_Escape`` as soon
    as the walk would leave the destination, or when a target is absolute.
    """
    if hops > _MAX_LINK_HOPS:
        raise _Escape("too many levels of symbolic links")
    if posixpath.isabs(path):
        raise _Escape("absolute path")
    stack = list(base)
    for part in _components(path):
        if part == "..":
            if not stack:
                raise _Escape("leaves the destination")
            stack.pop()
            continue
        stack.append(part)
        target = links.get("/".join(stack))
        if target is not None:
            stack.pop()
            stack = _resolve(stack, target, links, hops + 1)
    return stack


def _refuse(member: tarfile.TarInfo, why: str) -> UnsafeArchive:
    logger.warning("Refusing archive member %r: %s", member.name, why)
    return UnsafeArchive(f'Refusing "{member.name}": {why}.')


def check_members(tar: tarfile.TarFile) -> None:
    """Raise ``UnsafeArchive`` naming the first member that could escape the destination folder.

    Refused: absolute names, ``..`` components, links whose target is absolute or leads outside
    (symlinks resolve from the member's folder, hard links from the archive root, following the
    archive's own symlinks), hard links to anything but a file earlier in the archive, files
    written through a link that leaves, and every member that is not a regular file, a folder or
    a link (devices, FIFOs, ...). Reads headers only; writes nothing.
    """
    outside = "it would be written outside HOME"
    links: dict[str, str] = {}
    files: set[str] = set()
    for member in tar.getmembers():
        if posixpath.isabs(member.name):
            raise _refuse(member, f"{outside} (absolute path)")
        parts = _components(member.name)
        if ".." in parts:
            raise _refuse(member, outside)
        is_link = member.issym() or member.islnk()
        if not (member.isreg() or member.isdir() or is_link):
            raise _refuse(member, "only regular files, folders and links are allowed")
        if not parts:
            if member.isdir():
                continue  # "./" itself: the destination folder
            raise _refuse(member, "it has no name")
        try:
            # Extraction follows links already on disk for the member's folder, and for the
            # member itself unless it is a symlink (those replace what is there).
            folder = _resolve([], "/".join(parts[:-1]), links)
            if member.issym():
                key = "/".join([*folder, parts[-1]])
            else:
                key = "/".join(_resolve(folder, parts[-1], links))
        except _Escape:
            raise _refuse(member, f"{outside} (through a link)") from None
        if is_link:
            target = member.linkname
            if posixpath.isabs(target):
                raise _refuse(member, f"its link target {target!r} is absolute")
            try:
                resolved = "/".join(_resolve(folder if member.issym() else [], target, links))
            except _Escape:
                raise _refuse(member, f"its link target {target!r} points outside HOME") from None
            if member.islnk() and resolved not in files:
                raise _refuse(member, f"its link target {target!r} is not a file of the archive")
        if member.issym():
            links[key] = member.linkname
        elif not member.isdir():
            files.add(key)


def _top_level_names(members: list[tarfile.TarInfo]) -> list[str]:
    names: list[str] = []
    for member in members:
        parts = _components(member.name)
        if parts and parts[0] not in names:
            names.append(parts[0])
    return names


def safe_extract(archive_path: Path, dest: Path) -> list[str]:
    """Check and extract a gzip tar into ``dest`` (a fresh folder the caller owns and cleans up).

    Returns the top-level names of the archive, in archive order. Raises ``UnsafeArchive`` before
    writing anything when ``check_members`` refuses a member, and ``UnreadableArchive`` for
    anything that is not a complete gzip tar, also when the damage only shows mid-extraction (then
    ``dest`` holds a partial tree).
    """
    with _open_gzip_tar(archive_path) as tar:
        try:
            members = tar.getmembers()
            # Read to the end of the gzip stream so that a cut or corrupt tail fails its CRC check
            # now, before extraction starts, instead of passing unnoticed.
            while tar.fileobj.read(1 << 20):
                pass
        except _READ_ERRORS as exc:
            raise _unreadable(archive_path, exc) from exc
        check_members(tar)
        try:
            tar.extractall(dest, filter="data")
        except tarfile.FilterError as exc:
            # check_members refuses all of these first; the filter is the second line of defence.
            logger.warning("tarfile's data filter refused %s: %s", archive_path, exc)
            raise UnsafeArchive(f"Refusing the archive: {exc}.") from exc
        except _READ_ERRORS as exc:
            raise _unreadable(archive_path, exc, extracting=True) from exc
    return _top_level_names(members)


def _open_gzip_tar(archive_path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(archive_path, "r:gz")
    except _READ_ERRORS as exc:
        raise _unreadable(archive_path, exc) from exc


def _unreadable(
    archive_path: Path, exc: BaseException, *, extracting: bool = False
) -> UnreadableArchive:
    logger.warning("Cannot read archive %s: %r", archive_path, exc)
    # A plain OSError while writing (disk full, ...) is not the archive's fault: say so.
    if extracting and isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile):
        return UnreadableArchive(f"The archive could not be extracted: {exc}.")
    return UnreadableArchive(
        f"The archive could not be read: it is not a complete gzip-compressed tar file ({exc})."
    )
