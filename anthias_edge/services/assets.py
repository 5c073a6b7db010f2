"""The asset library of one tenant: create, update, delete, order, content.

Every rule the legacy API makes visible lives here once; the API versions
choose which rules apply (unique names, renumbering, file naming) and convert
their own field encodings before calling in.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import mimetypes
import os
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from peewee import IntegrityError, fn

from anthias_edge.db import db
from anthias_edge.errors import (
    AnthiasError,
    AssetNotFound,
    InvalidDuration,
    InvalidFilePath,
    UnreachableUri,
    VideoDurationNotZero,
)
from anthias_edge.models import Asset, QRContent
from anthias_edge.models.base import PreparedSelect
from anthias_edge.services import audit, media, youtube
from anthias_edge.services.asset_events import NO_ASSET_EVENTS, AssetEventSink, asset_snapshot
from anthias_edge.services.play_order import listed_positions, renumber, write_positions
from anthias_edge.services.qr_content import QRContentService
from anthias_edge.services.reachability import ReachabilityChecker
from anthias_edge.services.row_security import commit_request_write
from anthias_edge.services.tenant_writes import in_tenant_write
from anthias_edge.services.tenants import check_asset_limit
from anthias_edge.services.uri_rules import (
    is_local,
    is_stream,
    local_file_inside,
    validate_uri,
)
from anthias_edge.timeutil import utcnow
from cloud_sync.device import limits as cloud_limits
from cloud_sync.device import outbox
from cloud_sync.device.payloads import asset_payload, record_asset_codes, record_assets

logger = logging.getLogger(__name__)

YOUTUBE_MIMETYPE = "youtube_asset"
SHARE_CODE_BYTES = 9  # 72 random bits, 12 URL-safe characters
MAX_SHARE_CODE_TRIES = 5
OLD_ASSET_PATH = re.compile(r"^/(?:.*/)?screenly_assets/(?P<name>[^/]+)$")

# One asset by id, its SQL rendered once: every legacy write reads its asset before and after
# (renumbering may move it), as does GET of one asset; peewee took longer to render the
# thirty-column select than the database took to answer it.
_ASSET_FIELDS = Asset._meta.sorted_fields
_ASSET_NAMES = [field.name for field in _ASSET_FIELDS]
_ONE_ASSET = PreparedSelect(lambda asset_id, tenant_id: Asset.select(*_ASSET_FIELDS).where(
    Asset.asset_id == asset_id, Asset.tenant == tenant_id).limit(1))
_ONE_ASSET_OF_NO_TENANT = PreparedSelect(lambda asset_id: Asset.select(*_ASSET_FIELDS).where(
    Asset.asset_id == asset_id, Asset.tenant.is_null()).limit(1))


def to_duration(value: Any) -> int:
    """Anthias's ``int(duration)``; the error text is Python's, which clients have seen."""
    try:
        if isinstance(value, bool):
            raise ValueError(f"invalid literal for int() with base 10: {value!r}")
        return int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidDuration(str(exc)) from exc


def new_asset_id() -> str:
    """32 lowercase hex characters, as Anthias makes them."""
    return uuid.uuid4().hex


@dataclass
class AssetService:
    """Asset rules for one tenant; ``Runtime.assets`` builds it with the tenant's id and folder."""

    asset_dir: Path
    tenant_id: str | None = None
    # This tenant's own folder (media.tenant_media_dir); None: the asset folder itself, which
    # is the device's own tenant's folder. A local path is accepted only inside it.
    media_dir: Path | None = None
    checker: ReachabilityChecker = field(default_factory=ReachabilityChecker)
    # Anthias accepted any file on the device and /content then sent it back, so anyone on
    # the LAN could read the host's files; only the asset folder is accepted unless asked.
    allow_files_outside_asset_dir: bool = False
    on_change: Callable[[], None] = lambda: None
    run_in_background: Callable[[Callable[[], None]], None] | None = None
    notify_websocket: Callable[[str], None] = lambda _payload: None
    clock: Callable[[], dt.datetime] = utcnow
    # Who writes, for the audit log (v3 names its caller); None writes no entries (legacy).
    # Each entry is written in the transaction of its change, as TenantService does.
    actor: str | None = None
    ip: str | None = None
    # Told of each committed create, update and delete (the plugin host's sink, via the runtime).
    events: AssetEventSink = NO_ASSET_EVENTS

    # -- reading ---------------------------------------------------------
    def list_assets(self) -> list[Asset]:
        """Every asset in insertion order (Anthias's natural order, docs/legacy-api.md Q10)."""
        return list(Asset.for_tenant(self.tenant_id))

    def get(self, asset_id: str) -> Asset:
        """One asset of this tenant, or AssetNotFound."""
        if "\x00" in asset_id:  # no id holds one, and PostgreSQL refuses to compare it
            raise AssetNotFound()
        row = (_ONE_ASSET.first(asset_id, self.tenant_id) if self.tenant_id is not None
               else _ONE_ASSET_OF_NO_TENANT.first(asset_id))
        if row is None:
            raise AssetNotFound()
        asset = Asset(__no_default__=1, **dict(zip(_ASSET_NAMES, row, strict=True)))
        asset._dirty.clear()  # as peewee leaves a row it read
        return asset

    def content(self, asset_id: str) -> dict[str, Any]:
        """The file itself (base64) for local assets, else the URL (docs/legacy-api.md §3.9)."""
        asset = self.get(asset_id)
        uri = asset.uri or ""
        path = self._own_file(uri)
        if path is not None and path.is_file():
            data = base64.b64encode(path.read_bytes()).decode("ascii")
            guessed, _ = mimetypes.guess_type(asset.name or "")
            return {"type": "file", "filename": asset.name, "content": data,
                    "mimetype": guessed or "application/octet-stream"}
        return {"type": "url", "url": asset.uri}

    # -- writing ---------------------------------------------------------
    def create(
        self,
        values: Mapping[str, Any],
        *,
        ext: str | None = None,
        unique_name: bool = True,
        renumber: bool = True,
        name_file_after_id: bool = True,
        created_by: str | None = None,
        shared: bool = False,
    ) -> Asset:
        """Validate, place the file, measure, check and insert one asset.

        ``values`` are already typed by the caller; ``duration`` may still be
        raw text, converted here with Anthias's messages. ``created_by`` is the
        authenticated user's id, when there is one; ``shared`` gives the asset a share
        code. Every create counts against the tenant's plan limit (``max_assets``),
        whichever API it came through.
        """
        data = dict(values)
        if created_by is not None:
            data["created_by"] = created_by
        # Early, so a full library is told before any probing, measuring or fetching; exact
        # again under the lock (where alone it runs when there is nothing slow to do first).
        if self._works_before_writing(data):
            self._check_limit()
        asset_id = new_asset_id()
        uri = data["uri"]
        validate_uri(uri)
        if data.get("mimetype") == YOUTUBE_MIMETYPE:
            return self._create_youtube(asset_id, data, renumber)
        requested_name = data["name"]
        source = self._local_source(uri)
        is_video = "video" in (data.get("mimetype") or "")
        data["duration"] = self._create_duration(data.get("duration"), is_video, uri)
        if not data.get("skip_asset_check") and not is_stream(uri):
            self.checker.check_allowed(uri)
            if not self.checker.is_reachable(uri):
                raise UnreachableUri()
        target = None
        if source is not None:
            stem = asset_id if name_file_after_id else new_asset_id()
            target = self._file_in_own_dir(f"{stem}{ext or ''}")
            data["uri"] = str(target)

        def write() -> None:
            self._check_limit()
            if unique_name:  # under the lock: two clients creating "x" at once get x and x-1
                data["name"] = self.unique_name(requested_name)
            asset = self._insert(asset_id, data)
            if shared:
                self._write_columns(asset, {}, shared=True)
            if renumber:
                if "play_order" not in data:  # ``asset`` may predate another write's renumbering
                    asset.play_order = Asset.select(Asset.play_order).where(
                        Asset.asset_id == asset.asset_id).scalar()
                self._renumber(asset.asset_id, asset.play_order)
            record_assets([asset_id])  # as committed: renumbering may have moved it
            if shared:  # its code after it: the cloud takes codes of assets it knows
                record_asset_codes(asset_id)
            self._audit("asset.create", asset_id, asset.name)
            if target is not None:
                # Last, so that a retried transaction still finds the file to move.
                os.replace(source, target)

        in_tenant_write(self.tenant_id, write)
        self.on_change()
        created = self.get(asset_id)
        self.events.asset_created(self.tenant_id, asset_snapshot(created), self.actor)
        return created

    def update(self, asset_id: str, values: Mapping[str, Any], *, renumber: bool,
               current: Asset | None = None, shared: bool | None = None) -> Asset:
        """Apply the given fields and return the row; ``uri``, ``mimetype`` and the id never
        change (docs/legacy-api.md §3.6, §3.7).

        ``current`` is the row as the caller already read it (else it is read here). Every
        column sent is written, with ``updated_at``. ``shared`` (None: as it
        is) shares or unshares the asset. The row returned is ``current`` as written when the
        caller gave it and nothing was renumbered (no other column moved); else it is read
        again, as the legacy versions always answered.
        """
        asset = current if current is not None else self.get(asset_id)
        sent = sorted([*values, *(["is_shared"] if shared is not None else [])])
        data = {k: v for k, v in values.items() if k not in ("uri", "mimetype", "asset_id")}
        if "duration" in data:
            if asset.is_video:
                data.pop("duration")  # measured, not chosen (docs/legacy-api.md §3.6)
            elif data["duration"] is not None:
                data["duration"] = to_duration(data["duration"])

        def write() -> None:
            self._write_columns(asset, {**data, "updated_at": self.clock()}, shared)
            if renumber:
                if "play_order" not in data:  # ``asset`` may predate another write's renumbering
                    asset.play_order = Asset.select(Asset.play_order).where(
                        Asset.asset_id == asset.asset_id).scalar()
                self._renumber(asset.asset_id, asset.play_order)
                record_assets([asset_id])  # renumbering may have moved it: read it back
            else:
                outbox.record("asset.upsert", asset_payload(asset))  # ``asset`` is as written
            if shared is not None:  # (un)sharing made or deactivated its codes
                record_asset_codes(asset_id)
            self._audit("asset.update", asset_id,
                        f"{asset.name}: {', '.join(sent) or 'nothing'}")

        # Only a renumbering update waits for the tenant's other playlist writes.
        if renumber:
            in_tenant_write(self.tenant_id, write)
        else:
            with db.atomic():
                write()
            commit_request_write(db, self.tenant_id)  # plugins then hear of it committed
        self.on_change()
        updated = asset if current is not None and not renumber else self.get(asset_id)
        self.events.asset_updated(self.tenant_id, asset_snapshot(updated), sent, self.actor)
        return updated

    def delete(self, asset_id: str) -> None:
        """Remove the row, and the file when it lives in the asset folder
        (docs/legacy-api.md §3.8)."""
        asset = self.get(asset_id)
        with db.atomic():
            if outbox.is_linked():  # its codes go with it (ON DELETE CASCADE): tell the cloud
                codes = QRContent.select(QRContent.qr_id).where(QRContent.asset == asset_id)
                outbox.record_many("qr.delete", [{"qr_id": row.qr_id} for row in codes])
            asset.delete_instance()
            outbox.record("asset.delete", {"asset_id": asset_id})
            self._audit("asset.delete", asset_id, asset.name)
        commit_request_write(db, self.tenant_id)  # plugins then hear of it committed
        self._remove_owned_file(asset.uri)
        self.on_change()
        self.events.asset_deleted(self.tenant_id, asset_snapshot(asset), self.actor)

    def set_order(self, ids: Iterable[str]) -> None:
        """``play_order = position``; unknown ids are skipped but use their index
        (docs/legacy-api.md §3.11)."""
        positions = listed_positions(list(ids))
        in_tenant_write(self.tenant_id, lambda: write_positions(self.tenant_id, positions))
        self.on_change()

    def unique_name(self, name: str) -> str:
        """``name``, else the first free ``name-1``, ``name-2``... (docs/legacy-api.md §4.4)."""
        prefix = f"{name}-"
        # An exact prefix, not peewee's startswith: that is ILIKE on PostgreSQL, which folded
        # the case of every name of the tenant under the collation (half the cost of this
        # query, and it ran under the tenant's write lock).
        query = Asset.select(Asset.name).where(
            self._scope(), (Asset.name == name)
            | (fn.SUBSTR(Asset.name, 1, len(prefix)) == prefix))
        taken = {row[0] for row in db.execute_sql(*query.sql())}  # names need no conversion
        candidate, suffix = name, 0
        while candidate in taken:
            suffix += 1
            candidate = f"{name}-{suffix}"
        return candidate

    # -- helpers ---------------------------------------------------------
    def _audit(self, action: str, asset_id: str, summary: str) -> None:
        if self.actor is not None:
            audit.record(self.tenant_id, self.actor, action, "asset", asset_id, summary,
                         self.ip, clock=self.clock)

    def _write_columns(self, asset: Asset, columns: dict[str, Any],
                       shared: bool | None = None) -> None:
        """One UPDATE of the ``columns`` given and of the sharing asked for.

        ``asset`` is changed to match. Sharing draws a fresh unguessable code, kept while the
        asset stays shared; unsharing removes it.
        """
        if shared is False:
            columns.update(is_shared=False, share_code=None)
            if self.tenant_id is not None:
                self._qr_contents().unshare_asset(asset.asset_id)
        elif shared and asset.share_code:
            columns["is_shared"] = True
        elif shared:
            for _ in range(MAX_SHARE_CODE_TRIES):
                code = secrets.token_urlsafe(SHARE_CODE_BYTES)
                try:
                    with db.atomic():  # a savepoint: PostgreSQL survives the failed update
                        self._update_row(asset, {**columns, "is_shared": True,
                                                 "share_code": code})
                    break
                except IntegrityError:  # another asset has this code: draw again
                    continue
            else:
                raise AnthiasError("Could not make a unique share code.")
            columns = {}
        self._update_row(asset, columns)
        if shared and self.tenant_id is not None:  # and a QR content too (issue 13)
            self._qr_contents().share_asset(asset)

    def _qr_contents(self) -> QRContentService:
        assert self.tenant_id is not None
        return QRContentService(self.tenant_id, clock=self.clock, actor=self.actor, ip=self.ip)

    @staticmethod
    def _update_row(asset: Asset, columns: dict[str, Any]) -> None:
        # Every column sent is written, even one equal to ``asset``: that row may have been read
        # before another client's write, and skipping "unchanged" values would lose this one.
        fields = Asset._meta.fields
        written = {key: value for key, value in columns.items() if key in fields}
        if written:
            Asset.update(**written).where(Asset.asset_id == asset.asset_id).execute()
        for key, value in columns.items():  # a name that is no column stays on the object
            setattr(asset, key, value)

    def _scope(self):
        return Asset.tenant.is_null() if self.tenant_id is None else (
            Asset.tenant == self.tenant_id)

    @staticmethod
    def _works_before_writing(data: Mapping[str, Any]) -> bool:
        """Whether a create probes, measures, moves or downloads before it writes."""
        uri = data["uri"]
        mimetype = data.get("mimetype") or ""
        return (not data.get("skip_asset_check") and not is_stream(uri)) or is_local(uri) \
            or "video" in mimetype or mimetype == YOUTUBE_MIMETYPE

    def _check_limit(self) -> None:
        if self.tenant_id is not None:  # rows of no tenant count against no plan
            check_asset_limit(self.tenant_id)
        cloud_limits.check_asset_limit()  # a linked device's cloud plan, while valid

    def _insert(self, asset_id: str, data: Mapping[str, Any]) -> Asset:
        now = self.clock()
        columns = set(Asset._meta.fields)
        row = {k: v for k, v in data.items() if k in columns and k != "asset_id"}
        row.setdefault("play_order", 0)
        return Asset.create(asset_id=asset_id, tenant=self.tenant_id, created_at=now,
                            updated_at=now, **row)

    @property
    def own_dir(self) -> Path:
        """The folder this tenant's files live in."""
        return self.media_dir or self.asset_dir

    def _local_source(self, uri: str) -> Path | None:
        """The file to move into this tenant's folder, or None when it stays where it is.

        Only a file already in the tenant's own folder (an upload of its own) is taken, by
        its resolved path: another tenant's file, or a link or ``..`` leading to one, is
        refused exactly like a path that does not exist, so nobody can probe for files.
        """
        if not is_local(uri):
            return None
        own = local_file_inside(uri, self.own_dir)
        if own is not None:
            return own
        if (not self.allow_files_outside_asset_dir
                or local_file_inside(uri, self.asset_dir) is not None):
            raise InvalidFilePath()
        return None  # a file elsewhere on the device (a USB stick) is played in place

    def _file_in_own_dir(self, name: str) -> Path:
        """``own_dir / name``, made sure to be a plain file name in that folder."""
        if Path(name).name != name or name in (".", "..") or "\0" in name or len(name) > 255:
            raise InvalidFilePath()
        self.own_dir.mkdir(parents=True, exist_ok=True)
        return self.own_dir / name

    def _create_duration(self, raw: Any, is_video: bool, uri: str) -> int:
        duration = to_duration(raw)
        if not is_video:
            return duration
        if duration != 0:
            raise VideoDurationNotZero()
        return media.video_duration(uri)

    def _create_youtube(self, asset_id: str, data: dict[str, Any], renumber: bool) -> Asset:
        details = youtube.describe(data["uri"])
        target = self._file_in_own_dir(asset_id)
        source_url = data["uri"]
        data.update(name=self.unique_name(details.title), duration=details.duration,
                    mimetype="video", is_processing=True, uri=str(target))

        def write() -> None:
            self._check_limit()
            asset = self._insert(asset_id, data)
            if renumber:
                if "play_order" not in data:  # ``asset`` may predate another write's renumbering
                    asset.play_order = Asset.select(Asset.play_order).where(
                        Asset.asset_id == asset.asset_id).scalar()
                self._renumber(asset.asset_id, asset.play_order)
            record_assets([asset_id])

        in_tenant_write(self.tenant_id, write)
        self._start_download(asset_id, source_url, target)
        self.on_change()
        created = self.get(asset_id)
        self.events.asset_created(self.tenant_id, asset_snapshot(created), self.actor)
        return created

    def _start_download(self, asset_id: str, url: str, target: Path) -> None:
        def job() -> None:
            try:
                youtube.download(url, target)
            except Exception:
                logger.exception("YouTube download for %s failed", asset_id)
                Asset.update(metadata={"last_error": "download failed"}).where(
                    Asset.asset_id == asset_id).execute()
                return
            with db.atomic():  # the file is there now: the cloud learns its size
                Asset.update(is_processing=False).where(Asset.asset_id == asset_id).execute()
                record_assets([asset_id])
            self.notify_websocket(asset_id)
            self.on_change()

        if self.run_in_background is None:
            job()
        else:
            self.run_in_background(job)

    def _renumber(self, affected_id: str, play_order: int) -> None:
        """Anthias's play-order renumbering after a v1.2/v2 write (docs/legacy-api.md §3.7).

        Only rows whose position really changes are written, in one statement, so a write
        to a 1,000-asset library stays cheap.
        """
        renumber(self.tenant_id, affected_id, play_order, self.clock())

    def _own_file(self, uri: str | None) -> Path | None:
        """The resolved file of one of this tenant's rows, if this tenant may read or delete it.

        That is a file in its own folder; for a tenant with a folder of its own, also a file
        at the top of the asset folder, where its rows stored files before tenants had
        folders (no tenant may create a new asset from one). A row naming anything else
        (another tenant's folder, a host file) gets neither read nor deleted.
        """
        own = local_file_inside(uri, self.own_dir)
        if own is not None or self.own_dir == self.asset_dir:
            return own
        path = local_file_inside(uri, self.asset_dir)
        if path is not None and path.parent == self.asset_dir.resolve():
            return path
        return None

    def _remove_owned_file(self, uri: str | None) -> None:
        path = self._own_file(uri)
        if path is None:
            return
        try:
            path.unlink()
        except OSError as exc:
            logger.info("could not remove %s: %s", path, exc)


def relocate_asset_uris(asset_dir: Path) -> int:
    """Point URIs into another device's ``screenly_assets`` at our asset folder
    (docs/legacy-api.md §3.19)."""
    moved = 0
    prefix = str(asset_dir).rstrip("/") + "/"
    query = Asset.select(Asset.asset_id, Asset.uri).where(Asset.uri.contains("screenly_assets/"))
    with db.atomic():
        for asset in query:
            match = OLD_ASSET_PATH.match(asset.uri or "")
            if match is None or asset.uri.startswith(prefix):
                continue
            new_uri = prefix + match["name"]
            Asset.update(uri=new_uri).where(Asset.asset_id == asset.asset_id).execute()
            record_assets([asset.asset_id])
            moved += 1
    if moved:
        logger.info("relocated %d asset file paths into %s", moved, asset_dir)
    return moved
