"""Resumable, content-addressed uploads of a device's shared files (no Flask).

``PUT /media/<sha256>`` sends one chunk with ``Content-Range: bytes <start>-<end>/<total>``;
the hub accepts it only where the upload stands (the partial file's size), so chunks land in
order and a cut connection resumes from ``HEAD``'s ``Upload-Offset``. The last chunk makes the
store check the whole file's sha256: a match renames it final (201), a mismatch discards it
(409). The tenant's storage quota is checked before the first byte of a new file. The row in
``media_objects`` is locked for the chunk (PostgreSQL FOR UPDATE), so two uploads of one file
do not interleave.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from anthias_edge.db import db, is_postgresql
from anthias_edge.errors import ValidationError
from anthias_edge.models.sync_hub import MediaObject
from anthias_edge.services.billing.limits import check_storage_quota
from cloud_sync.hub.auth import DeviceRow
from cloud_sync.hub.errors import MediaHashMismatch, MediaNotFound, MediaOffsetMismatch
from cloud_sync.hub.storage import SHA256, MediaStore

MAX_CHUNK = 8 * 1024 * 1024
MAX_FILE = 8 * 1024 ** 3
_RANGE = re.compile(r"^bytes (\d{1,15})-(\d{1,15})/(\d{1,15})$")


@dataclass(frozen=True)
class UploadState:
    """Where an upload stands."""

    sha256: str
    size: int
    received: int
    complete: bool


def check_sha256(sha256: str) -> str:
    """The sha256 path part, lower-case hex, or ValidationError."""
    if not SHA256.match(sha256):
        raise ValidationError({"sha256": ["must be 64 lower-case hex characters"]})
    return sha256


def parse_range(header: str | None, length: int) -> tuple[int, int]:
    """(start, total) of a chunk's ``Content-Range``, checked against the body's length."""
    match = _RANGE.match((header or "").strip())
    if match is None:
        raise ValidationError({"Content-Range": ["send bytes <start>-<end>/<total>"]})
    start, end, total = (int(group) for group in match.groups())
    if end < start or end >= total or end - start + 1 != length:
        raise ValidationError({"Content-Range": ["does not match the body's length"]})
    if length > MAX_CHUNK:
        raise ValidationError({"Content-Range": [f"chunks are at most {MAX_CHUNK} bytes"]})
    if total > MAX_FILE:
        raise ValidationError({"Content-Range": [f"files are at most {MAX_FILE} bytes"]})
    return start, total


def upload_state(device: DeviceRow, sha256: str, store: MediaStore) -> UploadState:
    """Where the upload of ``sha256`` in the device's tenant stands (MediaNotFound if none)."""
    row = MediaObject.get_or_none((MediaObject.tenant == device.tenant_id)
                                  & (MediaObject.sha256 == check_sha256(sha256)))
    if row is None:
        raise MediaNotFound()
    received = row.size if row.complete else store.received(device.tenant_id, sha256)
    return UploadState(sha256, row.size, received, bool(row.complete))


def put_chunk(device: DeviceRow, sha256: str, content_range: str | None, chunk: bytes,
              store: MediaStore, media_dir: Path, now: dt.datetime) -> UploadState:
    """Store one chunk; the upload's new state (complete once the last chunk checked out)."""
    check_sha256(sha256)
    start, total = parse_range(content_range, len(chunk))
    tenant = device.tenant_id
    row = _locked(tenant, sha256)
    if row is None:
        check_storage_quota(tenant, media_dir, total)
        MediaObject.insert(tenant=tenant, sha256=sha256, size=total, received_bytes=0,
                           complete=False, device_id=device.device_id, created_at=now,
                           updated_at=now).on_conflict_ignore().execute()
        row = _locked(tenant, sha256)
    if row.complete and store.path(tenant, sha256) is not None:
        return UploadState(sha256, row.size, row.size, True)  # already here: nothing to do
    if row.size != total:
        raise ValidationError({"Content-Range": [f"this file's total is {row.size} bytes"]})
    received = store.received(tenant, sha256)
    if start != received:
        raise MediaOffsetMismatch(received)
    received = store.write(tenant, sha256, start, chunk)
    complete = False
    if received == total:
        if not store.finish(tenant, sha256):
            MediaObject.delete().where((MediaObject.tenant == tenant)
                                       & (MediaObject.sha256 == sha256)).execute()
            raise MediaHashMismatch()
        complete = True
    MediaObject.update(received_bytes=received, complete=complete, updated_at=now).where(
        (MediaObject.tenant == tenant) & (MediaObject.sha256 == sha256)).execute()
    return UploadState(sha256, total, received, complete)


def _locked(tenant_id: str, sha256: str) -> MediaObject | None:
    """The upload's row, locked for this transaction on PostgreSQL (a new query each time:
    peewee keeps a query's results)."""
    query = MediaObject.select().where((MediaObject.tenant == tenant_id)
                                       & (MediaObject.sha256 == sha256))
    if is_postgresql(db.obj):
        query = query.for_update()
    return query.first()
