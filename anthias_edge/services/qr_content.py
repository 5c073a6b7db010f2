"""A tenant's QR contents: shared codes of its assets, made, listed, changed and removed.

A QR content belongs to one asset of the same tenant and carries a QR code (``QR`` + 16
upper-case hex digits) and, when asked for, a Code 128 barcode (``BC`` + 12). Both come from
``secrets``, so a code cannot be guessed from another. Every change is audit-logged in its
own transaction when an actor is set (v3 and the CLI set one). An asset's ``is_shared`` is
the simple form: sharing it makes sure it has an active QR content, unsharing deactivates
its codes (``share_asset``/``unshare_asset``, called by ``AssetService``).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError, fn

from anthias_edge.db import db, is_sqlite
from anthias_edge.errors import (
    AnthiasError,
    AssetNotFound,
    QRContentNotFound,
    ValidationError,
)
from anthias_edge.models import Asset, DeviceAsset, QRContent
from anthias_edge.services import audit, sync_version
from anthias_edge.services.fleet.devices import FleetService
from anthias_edge.services.fleet.errors import DeviceAssetNotFound
from anthias_edge.timeutil import utcnow
from cloud_sync.device import outbox
from cloud_sync.device.payloads import qr_payload

QR_PREFIX, QR_HEX = "QR", 16
BARCODE_PREFIX, BARCODE_HEX = "BC", 12
QR_CODE = re.compile(r"^QR[0-9A-F]{16}$")
BARCODE = re.compile(r"^BC[0-9A-F]{12}$")
MAX_CODE_TRIES = 5
MAX_TITLE, MAX_DESCRIPTION = 200, 2000
MAX_LIMIT = 200
NO_SUCH_ASSET = "No asset of yours has that id."
EDITABLE = frozenset({"title", "description", "expires_at", "is_active"})


def new_qr_code() -> str:
    """``QR`` and 16 random upper-case hex digits (64 bits)."""
    return QR_PREFIX + secrets.token_hex(QR_HEX // 2).upper()


def new_barcode() -> str:
    """``BC`` and 12 random upper-case hex digits (48 bits), short enough to print as bars."""
    return BARCODE_PREFIX + secrets.token_hex(BARCODE_HEX // 2).upper()


def is_qr_code(text: str) -> bool:
    """Whether ``text`` has the form of a QR content's code."""
    return bool(QR_CODE.match(text))


def is_barcode(text: str) -> bool:
    """Whether ``text`` has the form of a QR content's barcode."""
    return bool(BARCODE.match(text))


@dataclass(frozen=True)
class QRPage:
    """One page of QR contents, newest first, and the cursor of the next (None at the end)."""

    items: list[QRContent]
    next_cursor: str | None


@dataclass
class QRContentService:
    """QR contents of one tenant (``tenant_id``); the tenant's rows only, always."""

    tenant_id: str
    clock: Callable[[], dt.datetime] = utcnow
    # Who writes, for the audit log and ``created_by``; None writes no audit entries.
    actor: str | None = None
    ip: str | None = None

    # -- reading ---------------------------------------------------------
    def get(self, qr_code: str) -> QRContent:
        """The QR content with this code, or QRContentNotFound (also for a malformed code)."""
        if not is_qr_code(qr_code):
            raise QRContentNotFound()
        row = self._mine().where(QRContent.qr_code == qr_code).first()
        if row is None:
            raise QRContentNotFound()
        return row

    def page(self, *, limit: int = 50, cursor: str | None = None, asset_id: str | None = None,
             active: bool | None = None, expired: bool | None = None,
             q: str | None = None, device_id: str | None = None) -> QRPage:
        """The tenant's QR contents newest first, filtered, ``limit`` at a time.

        ``active`` matches ``is_active``; ``expired`` whether ``expires_at`` has passed;
        ``q`` is part of the title, description, code or barcode, any case; ``device_id``
        keeps the codes of that device's assets.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError({"limit": [f"Must be between 1 and {MAX_LIMIT}."]})
        query = self._mine()
        if asset_id is not None:
            query = query.where(QRContent.asset == asset_id)
        if device_id is not None:
            query = query.where(QRContent.device_id == device_id)
        if active is not None:
            query = query.where(QRContent.is_active == active)
        if expired is not None:
            now = self.clock()
            passed = QRContent.expires_at.is_null(False) & (QRContent.expires_at <= now)
            query = query.where(passed if expired else ~passed)
        if q:
            needle = q.lower()
            query = query.where(
                _contains(fn.LOWER(QRContent.title), needle)
                | _contains(fn.LOWER(QRContent.description), needle)
                | _contains(fn.LOWER(QRContent.qr_code), needle)
                | _contains(fn.LOWER(fn.COALESCE(QRContent.barcode, "")), needle))
        if cursor:
            created, qr_id = _decode_cursor(cursor)
            query = query.where((QRContent.created_at < created)
                                | ((QRContent.created_at == created) & (QRContent.qr_id < qr_id)))
        rows = list(query.order_by(QRContent.created_at.desc(), QRContent.qr_id.desc())
                    .limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return QRPage(rows, _encode_cursor(rows[-1]) if more else None)

    def active_for_asset(self, asset_id: str) -> QRContent | None:
        """The asset's newest active, unexpired QR content (what a screen shows), or None."""
        now = self.clock()
        return (self._mine()
                .where(QRContent.asset == asset_id, QRContent.is_active == True,  # noqa: E712
                       QRContent.expires_at.is_null() | (QRContent.expires_at > now))
                .order_by(QRContent.created_at.desc(), QRContent.qr_id.desc())
                .first())

    # -- writing ---------------------------------------------------------
    def create(self, asset_id: str, title: str | None = None, description: str = "",
               expires_at: dt.datetime | None = None,
               include_barcode: bool = False, device_id: str | None = None) -> QRContent:
        """A new QR content of one of the tenant's assets; ``title`` defaults to its name.

        With ``device_id`` (the cloud), the asset is one in that linked device's inventory:
        the device pulls the code and shows it. An unknown asset or another tenant's asset
        is AssetNotFound (404) (DeviceNotFound, DeviceAssetNotFound for a device's), an
        expiry not in the future a ValidationError (400); either way nothing is written.
        """
        if device_id is not None:
            asset_id, name = self._device_asset(device_id, asset_id)
        else:
            asset = self._asset(asset_id)
            asset_id, name = asset.asset_id, asset.name or ""
        self._check_expiry(expires_at)
        with db.atomic():
            row = self._insert(asset_id, title if title is not None else name,
                               description, expires_at, include_barcode, device_id=device_id)
            outbox.record("qr.upsert", qr_payload(row))
            self._changed_for_device(row)
            self._audit("qr.create", row, f"{row.title} -> asset {asset_id}"
                        + (f" of device {device_id}" if device_id else ""))
        return row

    def update(self, qr_code: str, values: Mapping[str, Any]) -> QRContent:
        """Change ``title``, ``description``, ``expires_at`` (None: never) or ``is_active``."""
        unknown = set(values) - EDITABLE
        if unknown:
            raise ValidationError({key: ["Cannot be changed."] for key in sorted(unknown)})
        row = self.get(qr_code)
        if values.get("expires_at") is not None and values["expires_at"] != row.expires_at:
            self._check_expiry(values["expires_at"])
        changed = {k: v for k, v in values.items() if getattr(row, k) != v}
        if "title" in changed:
            changed["title"] = _text("title", changed["title"], MAX_TITLE)
        if "description" in changed:
            changed["description"] = _text("description", changed["description"],
                                           MAX_DESCRIPTION)
        if changed:
            changed["updated_at"] = self.clock()
            with db.atomic():
                (QRContent.update(**changed)
                 .where(QRContent.qr_id == row.qr_id, QRContent.tenant == self.tenant_id)
                 .execute())
                self._audit("qr.update", row, f"{row.title}: "
                            + ", ".join(sorted(k for k in changed if k != "updated_at")))
                for key, value in changed.items():
                    setattr(row, key, value)
                outbox.record("qr.upsert", qr_payload(row))
                self._changed_for_device(row)
        return row

    def deactivate(self, qr_code: str) -> QRContent:
        """Stop a code from opening its content (scans answer 410); the row and count stay."""
        return self.update(qr_code, {"is_active": False})

    def delete(self, qr_code: str) -> None:
        """Remove a QR content for good (scans then answer 404)."""
        row = self.get(qr_code)
        with db.atomic():
            QRContent.delete().where(QRContent.qr_id == row.qr_id,
                                     QRContent.tenant == self.tenant_id).execute()
            outbox.record("qr.delete", {"qr_id": row.qr_id})
            self._changed_for_device(row)
            self._audit("qr.delete", row, row.title)

    # -- the asset's own sharing (is_shared) -------------------------------
    def share_asset(self, asset: Asset) -> QRContent:
        """Make sure a shared asset has an active QR content; answer it (made if none).

        Runs inside the caller's transaction (AssetService's update or create).
        """
        existing = self.active_for_asset(asset.asset_id)
        if existing is not None:
            return existing
        row = self._insert(asset.asset_id, asset.name or "", "", None, False)
        self._audit("qr.create", row, f"{row.title} -> asset {asset.asset_id} (shared)")
        return row

    def unshare_asset(self, asset_id: str) -> int:
        """Deactivate every active QR content of an asset no longer shared; answer how many."""
        now = self.clock()
        changed = (QRContent.update(is_active=False, updated_at=now)
                   .where(QRContent.tenant == self.tenant_id, QRContent.asset == asset_id,
                          QRContent.is_active == True)  # noqa: E712
                   .execute())
        if changed and self.actor is not None:
            audit.record(self.tenant_id, self.actor, "qr.update", "asset", asset_id,
                         f"asset unshared: {changed} QR content(s) deactivated", self.ip,
                         clock=self.clock)
        return changed

    # -- helpers ---------------------------------------------------------
    def _mine(self):
        return QRContent.select().where(QRContent.tenant == self.tenant_id)

    def _asset(self, asset_id: Any) -> Asset:
        # Another tenant's asset is no different from none: 404 either way.
        if not isinstance(asset_id, str) or "\x00" in asset_id:
            raise AssetNotFound(NO_SUCH_ASSET)
        asset = (Asset.select().where(Asset.asset_id == asset_id,
                                      Asset.tenant == self.tenant_id).first())
        if asset is None:
            raise AssetNotFound(NO_SUCH_ASSET)
        return asset

    def _check_expiry(self, expires_at: dt.datetime | None) -> None:
        if expires_at is not None and expires_at <= self.clock():
            raise ValidationError({"expires_at": ["Must be in the future."]})

    def _device_asset(self, device_id: Any, asset_id: Any) -> tuple[str, str]:
        """The id and name of an asset in one of the tenant's devices' inventory."""
        if is_sqlite(db):  # SQLite keeps the foreign key to the tenant's own assets (0013)
            raise ValidationError({"device_id": ["Codes of a device's assets need the "
                                                 "cloud's PostgreSQL database."]})
        device = FleetService(self.tenant_id).get(device_id)
        if not isinstance(asset_id, str) or "\x00" in asset_id:
            raise DeviceAssetNotFound()
        held = DeviceAsset.get_or_none(DeviceAsset.device_id == device.device_id,
                                       DeviceAsset.asset_id == asset_id,
                                       DeviceAsset.tenant == self.tenant_id)
        if held is None:
            raise DeviceAssetNotFound()
        return held.asset_id, held.name or ""

    def _changed_for_device(self, row: QRContent) -> None:
        # A device's code is part of the state its device pulls: the ETag must change.
        if row.device_id is not None:
            sync_version.bump(self.tenant_id)

    def _insert(self, asset_id: str, title: str, description: str,
                expires_at: dt.datetime | None, include_barcode: bool,
                device_id: str | None = None) -> QRContent:
        title = _text("title", title, MAX_TITLE)
        description = _text("description", description, MAX_DESCRIPTION)
        now = self.clock()
        for _ in range(MAX_CODE_TRIES):
            try:
                with db.atomic():  # a savepoint: PostgreSQL survives the failed insert
                    return QRContent.create(
                        tenant=self.tenant_id, asset=asset_id, device_id=device_id,
                        qr_code=new_qr_code(),
                        barcode=new_barcode() if include_barcode else None, title=title,
                        description=description, expires_at=expires_at, is_active=True,
                        created_by=self.actor, created_at=now, updated_at=now)
            except IntegrityError:  # a code clash (2^-64): draw again
                continue
        raise AnthiasError("Could not make a unique QR code.")

    def _audit(self, action: str, row: QRContent, summary: str) -> None:
        if self.actor is not None:
            audit.record(self.tenant_id, self.actor, action, "qr_content", row.qr_code,
                         summary, self.ip, clock=self.clock)


def _text(name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise ValidationError({name: ["Must be text."]})
    if len(value) > limit or "\x00" in value:
        raise ValidationError({name: [f"At most {limit} characters, no NUL."]})
    return value


def _contains(haystack: Any, needle: str) -> Any:
    # Plain substring search: LIKE would treat % and _ in the needle as wildcards.
    if is_sqlite(QRContent._meta.database):
        return fn.instr(haystack, needle) > 0
    return fn.strpos(haystack, needle) > 0


def _encode_cursor(row: QRContent) -> str:
    text = f"q:{row.created_at.isoformat()}|{row.qr_id}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[dt.datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, rest = text.partition(":")
        stamp, _, qr_id = rest.partition("|")
        if kind != "q" or not re.fullmatch(r"[0-9a-f-]{36}", qr_id):
            raise ValueError(text)
        return dt.datetime.fromisoformat(stamp), qr_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
