"""Uploading the files of shared assets, once each, so the cloud's ``/q/<code>`` can serve them.

An asset is shared when ``is_shared`` is on or a live QR content points at it; only files in
the device's asset folder are sent. Uploads are content-addressed by sha256 and resumable:
``HEAD /media/<sha256>`` says how much the hub holds, ``PUT`` sends the rest in chunks with a
``Content-Range``, and the hub checks the whole file's hash at the end. Hashes already uploaded
to this link, and each file's hash by (size, mtime), are kept in ``media.json`` so that no file
is hashed or sent twice. After an upload an ``asset.upsert`` carrying the hash tells the hub
which inventory row the file belongs to; entries pushed later get the hash filled in too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anthias_edge.db import db
from anthias_edge.models import Asset, QRContent
from anthias_edge.settings import Settings
from anthias_edge.timeutil import utcnow
from cloud_sync.agent import local_state
from cloud_sync.agent.database import connected
from cloud_sync.agent.errors import CloudRefused
from cloud_sync.agent.http import HubClient
from cloud_sync.device import outbox
from cloud_sync.device.payloads import asset_payload

logger = logging.getLogger(__name__)

MEDIA = "/api/v3/sync/media/"
CHUNK_BYTES = 4 * 1024 * 1024  # the hub takes up to 8 MiB per PUT
HASH_BLOCK = 1024 * 1024
# A file the cloud refused (over quota, say) is offered again after this long.
REFUSED_RETRY_S = 3600.0
MAX_RESUMES = 3


@dataclass
class MediaOutcome:
    """What one pass uploaded, and the refusals in plain words."""

    uploaded: int = 0
    problems: list[str] = field(default_factory=list)


class MediaState:
    """``media.json``: uploaded hashes of the current link, file hashes by (size, mtime)."""

    def __init__(self, settings: Settings, device_id: str) -> None:
        """Load the file; its contents count only for the same linked device."""
        self._path = local_state.sync_dir(settings) / local_state.MEDIA_FILE
        data = local_state.read_json(self._path)
        same = data.get("device_id") == device_id
        self.device_id = device_id
        self.uploaded: set[str] = set(data.get("uploaded", [])) if same else set()
        self.refused: dict[str, float] = dict(data.get("refused", {})) if same else {}
        self.hashes: dict[str, list[Any]] = dict(data.get("hashes", {}))

    def save(self) -> None:
        """Write the file."""
        local_state.write_json(self._path, {
            "device_id": self.device_id, "uploaded": sorted(self.uploaded),
            "refused": self.refused, "hashes": self.hashes})

    def known_hash(self, path: str) -> tuple[str, int] | None:
        """(sha256, size) of ``path`` if it was hashed and has not changed since."""
        try:
            stat = os.stat(path)
        except OSError:
            return None
        cached = self.hashes.get(path)
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            return str(cached[2]), int(cached[0])
        return None

    def hash_file(self, path: str, should_stop: Callable[[], bool]) -> tuple[str, int] | None:
        """(sha256, size) of ``path``, from the cache or read now; None if stopped or gone."""
        known = self.known_hash(path)
        if known:
            return known
        digest = hashlib.sha256()
        try:
            before = os.stat(path)
            with open(path, "rb") as handle:
                while block := handle.read(HASH_BLOCK):
                    if should_stop():
                        return None
                    digest.update(block)
            after = os.stat(path)
        except OSError:
            return None
        if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            return None  # written to meanwhile: hash it on a later pass
        self.hashes[path] = [after.st_size, after.st_mtime_ns, digest.hexdigest()]
        return digest.hexdigest(), after.st_size


def shared_files(settings: Settings) -> list[tuple[str, str]]:
    """(asset_id, path) of each shared asset whose file is in the asset folder."""
    now = utcnow()
    coded = (QRContent.select(QRContent.asset)
             .where(QRContent.is_active
                    & (QRContent.expires_at.is_null() | (QRContent.expires_at > now))))
    with connected():
        rows = list(Asset.select(Asset.asset_id, Asset.uri)
                    .where(Asset.is_shared | Asset.asset_id.in_(coded)).tuples())
    folder = settings.asset_dir.resolve()
    found = []
    for asset_id, uri in rows:
        if not uri or not uri.startswith("/"):
            continue
        path = Path(uri)
        try:
            inside = path.resolve().is_relative_to(folder)
        except OSError:
            continue
        if inside and path.is_file():
            found.append((asset_id, uri))
    return found


def upload_shared(client: HubClient, settings: Settings, device_id: str,
                  should_stop: Callable[[], bool] = lambda: False) -> MediaOutcome:
    """Upload each shared file the hub lacks; CloudUnreachable stops the pass (retry later)."""
    state = MediaState(settings, device_id)
    outcome = MediaOutcome()
    try:
        for asset_id, path in shared_files(settings):
            if should_stop():
                break
            hashed = state.hash_file(path, should_stop)
            if hashed is None:
                continue
            sha, size = hashed
            if sha in state.uploaded or size == 0:
                continue
            if time.time() < state.refused.get(sha, 0):
                continue
            try:
                upload_file(client, path, sha, size, should_stop)
            except CloudRefused as exc:
                if exc.code == "media_hash_mismatch":
                    state.hashes.pop(path, None)  # the file changed under us: hash it again
                else:
                    state.refused[sha] = time.time() + REFUSED_RETRY_S
                outcome.problems.append(
                    f"The shared file {Path(path).name} was not uploaded: {exc.message}")
                continue
            if should_stop():
                break
            state.uploaded.add(sha)
            state.refused.pop(sha, None)
            outcome.uploaded += 1
            _record_hash(asset_id, path, sha, size)
            logger.info("Uploaded the shared file %s (%d bytes, sha256 %s)", path, size, sha)
    finally:
        state.save()
    return outcome


def upload_file(client: HubClient, path: str, sha: str, size: int,
                should_stop: Callable[[], bool] = lambda: False) -> bool:
    """Send ``path`` to the hub from where it left off; True once the hub holds it whole."""
    offset = _hub_offset(client, sha)
    resumes = 0
    with open(path, "rb") as handle:
        while offset is not None and offset < size:
            if should_stop():
                return False
            handle.seek(offset)
            chunk = handle.read(min(CHUNK_BYTES, size - offset))
            if not chunk:
                raise CloudRefused(409, "media_hash_mismatch", "the file shrank while uploading")
            end = offset + len(chunk) - 1
            try:
                answer = client.call("PUT", MEDIA + sha, data=chunk, headers={
                    "Content-Range": f"bytes {offset}-{end}/{size}",
                    "Content-Type": "application/octet-stream"})
            except CloudRefused as exc:
                if exc.code != "media_offset_mismatch" or resumes >= MAX_RESUMES:
                    raise
                resumes += 1
                offset = _hub_offset(client, sha)  # someone (an earlier run) sent more
                continue
            if answer.status == 201:
                return True
            received = answer.json().get("received") if answer.body else None
            offset = received if isinstance(received, int) and received > offset else end + 1
    return True


def _hub_offset(client: HubClient, sha: str) -> int | None:
    """Bytes the hub holds of ``sha`` (0 when none); None when it holds the whole file."""
    try:
        answer = client.call("HEAD", MEDIA + sha)
    except CloudRefused as exc:
        if exc.http_status == 404:
            return 0
        raise
    if answer.headers.get("Upload-Complete", "").strip() == "?1":
        return None
    try:
        return int(answer.headers.get("Upload-Offset", "0"))
    except ValueError:
        return 0


def _record_hash(asset_id: str, path: str, sha: str, size: int) -> None:
    """Tell the hub which asset the file belongs to: an ``asset.upsert`` with its hash."""
    with connected(), db.atomic():
        asset = Asset.get_or_none(Asset.asset_id == asset_id)
        if asset is None or asset.uri != path:
            return
        payload = asset_payload(asset)
        payload.update(media_sha256=sha, media_size=size)
        outbox.record("asset.upsert", payload)


def filler(state: MediaState) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Complete ``asset.upsert`` wire entries with the hash of a file already uploaded."""

    def fill(wire: dict[str, Any]) -> dict[str, Any]:
        payload = wire.get("payload")
        if wire.get("kind") != "asset.upsert" or not isinstance(payload, dict):
            return wire
        uri = payload.get("uri")
        if payload.get("media_sha256") or not isinstance(uri, str) or not uri.startswith("/"):
            return wire
        known = state.known_hash(uri)
        if known and known[0] in state.uploaded:
            wire = {**wire, "payload": {**payload, "media_sha256": known[0],
                                        "media_size": known[1]}}
        return wire

    return fill
