"""Receiving uploaded files for ``file_asset``, whole or in ``Content-Range`` chunks
(docs/legacy-api.md §3.10).

Anthias names the temporary file after the upload's file name alone, so two
uploads of the same name corrupt each other and chunks are blindly appended.
Here a chunked upload is keyed by file name, total size and an upload key
(the client's ``X-Upload-Id`` when given, else its address), each chunk is
written at its own offset under a per-file lock, and a whole-file upload gets
a fresh name. Files stay ``*.tmp`` until an asset is created from them.

API v3 names an upload to its client by ``upload:<id>`` (``upload_reference``), not by the
file's path: a client has no business knowing where the server keeps files, and the
reference is only ever resolved inside the caller's own folder (``uploaded_file``).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from anthias_edge.errors import InvalidContentRange, MissingUpload, UnknownUpload
from anthias_edge.services.media import upload_type

logger = logging.getLogger(__name__)

UPLOAD_SCHEME = "upload:"
UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
CONTENT_RANGE = re.compile(r"^bytes (?P<start>\d+)-(?P<end>\d+)/(?P<total>\d+|\*)$")
COPY_BUFFER = 1024 * 1024

_locks_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def _lock_for(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(str(path), threading.Lock())


@dataclass(frozen=True)
class UploadResult:
    """Where the upload now lies and the extension to give the asset file."""

    path: Path
    ext: str
    complete: bool


@dataclass(frozen=True)
class ChunkRange:
    """A parsed ``Content-Range: bytes START-END/TOTAL`` header."""

    start: int
    end: int
    total: int | None

    @classmethod
    def parse(cls, header: str) -> ChunkRange:
        """Parse the header or raise InvalidContentRange."""
        match = CONTENT_RANGE.match(header.strip())
        if match is None:
            raise InvalidContentRange(f"Content-Range {header!r} is not 'bytes START-END/TOTAL'.")
        total = None if match["total"] == "*" else int(match["total"])
        start, end = int(match["start"]), int(match["end"])
        if end < start or (total is not None and end >= total):
            raise InvalidContentRange(f"Content-Range {header!r} is out of order.")
        return cls(start, end, total)


def receive_upload(
    asset_dir: Path,
    filename: str | None,
    stream: BinaryIO | None,
    *,
    content_range: str | None = None,
    upload_key: str = "",
) -> UploadResult:
    """Store an uploaded file (or one chunk of it) as ``<asset_dir>/<hex>.tmp``.

    ``asset_dir`` is the uploader's own folder (media.tenant_media_dir): only there may
    it create an asset from the file.
    """
    if stream is None or filename is None:
        raise MissingUpload()
    _kind, ext = upload_type(filename)
    asset_dir.mkdir(parents=True, exist_ok=True)
    if not content_range:
        target = asset_dir / f"{uuid.uuid4().hex}.tmp"
        partial = target.with_name(target.name + ".part")
        with open(partial, "wb") as out:
            shutil.copyfileobj(stream, out, COPY_BUFFER)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
        return UploadResult(target, ext, complete=True)
    chunk = ChunkRange.parse(content_range)
    key = f"{filename}\0{chunk.total}\0{upload_key}"
    target = asset_dir / f"{uuid.uuid5(uuid.NAMESPACE_URL, key).hex}.tmp"
    with _lock_for(target):
        if chunk.start == 0:
            target.unlink(missing_ok=True)
        size = target.stat().st_size if target.exists() else 0
        if chunk.start > size:
            raise InvalidContentRange(
                f"Chunk starts at byte {chunk.start} but only {size} bytes were received.")
        with open(target, "r+b" if target.exists() else "wb") as out:
            out.seek(chunk.start)
            expected = chunk.end - chunk.start + 1
            received = _copy_at_most(stream, out, expected + 1)
            if received != expected:
                # A chunk that does not fill its range exactly would shift every later byte.
                out.truncate(chunk.start)
                raise InvalidContentRange(
                    f"Content-Range {content_range!r} announces {expected} bytes but the "
                    f"chunk holds {'more' if received > expected else received}.")
            out.truncate()
            out.flush()
            os.fsync(out.fileno())
            written = out.tell()
    complete = chunk.total is not None and written >= chunk.total
    return UploadResult(target, ext, complete=complete)


def upload_reference(result: UploadResult) -> str:
    """What a client calls this upload by: ``upload:<id>`` (the file is ``<id>.tmp``)."""
    return f"{UPLOAD_SCHEME}{result.path.name.removesuffix('.tmp')}"


def is_upload_reference(uri: str) -> bool:
    """True for an ``upload:`` reference (well formed or not)."""
    return uri.startswith(UPLOAD_SCHEME)


def uploaded_file(reference: str, folder: Path) -> Path:
    """The file an ``upload:<id>`` reference names in ``folder`` (the caller's own).

    Raises UnknownUpload when the id is malformed or no such upload is there (never
    received, or already made into an asset).
    """
    upload_id = reference.removeprefix(UPLOAD_SCHEME)
    if not is_upload_reference(reference) or not UPLOAD_ID.fullmatch(upload_id):
        raise UnknownUpload()
    path = folder / f"{upload_id}.tmp"
    if not path.is_file():
        raise UnknownUpload()
    return path


def _copy_at_most(stream: BinaryIO, out: BinaryIO, limit: int) -> int:
    """Copy up to ``limit`` bytes; return how many were copied."""
    copied = 0
    while copied < limit:
        block = stream.read(min(COPY_BUFFER, limit - copied))
        if not block:
            break
        out.write(block)
        copied += len(block)
    return copied


def remove_stale_uploads(asset_dir: Path, older_than_s: float = 3600.0) -> int:
    """Delete ``*.tmp`` uploads untouched for ``older_than_s`` (docs/legacy-api.md §10).

    Anthias deletes every ``*.tmp`` at once, which can cut an upload in progress;
    files still being written are younger than the limit and are kept. Tenants with a
    folder of their own (media.tenant_media_dir) upload one level down.
    """
    removed = 0
    deadline = time.time() - older_than_s
    patterns = ("*.tmp", "*.tmp.part", "*/*.tmp", "*/*.tmp.part")
    for path in [found for pattern in patterns for found in asset_dir.glob(pattern)]:
        try:
            if path.stat().st_mtime <= deadline:
                path.unlink()
                removed += 1
        except OSError as exc:
            logger.info("could not remove %s: %s", path, exc)
    return removed
