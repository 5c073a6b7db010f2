"""The device's link to a tenant: the one ``sync_link`` row, made, read, updated, dropped.

Linking is the moment the outbox starts: ``save_link`` writes the row and, in the same
transaction, an ``asset.upsert`` of every asset and a ``qr.upsert`` of every QR content the
device has, so the cloud starts from the whole library and every later change follows it in
the outbox. On PostgreSQL (a device test run on it) that transaction first locks the tables
against writers, so a change committing meanwhile is either in the snapshot or, seeing the
row, in the outbox (SQLite has one writer at a time already).

``clear_link`` (unlink) drops the row, the outbox and the applied commands; the device's own
assets, codes and plays stay as they are.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from anthias_edge.db import db, is_postgresql
from anthias_edge.models import Asset, QRContent
from anthias_edge.models.sync_device import (
    LINK_ROW_ID,
    SyncAppliedCommand,
    SyncLink,
    SyncOutbox,
)
from anthias_edge.timeutil import utcnow
from cloud_sync.device import outbox
from cloud_sync.device.payloads import asset_payload, qr_payload

DEFAULT_KEY_FILE = Path(".screenly") / "sync" / "device_key.pem"  # under HOME
DEFAULT_INTERVAL_S = 30
# What the agent may update after linking (``update``); the identity columns never change.
UPDATABLE = frozenset({"state_etag", "limits_json", "limits_valid_until", "last_push_at",
                       "last_pull_at", "last_success_at", "last_error", "last_error_at",
                       "interval_s", "tenant_name", "device_name"})


@dataclass(frozen=True)
class LinkState:
    """The ``sync_link`` row as plain values."""

    cloud_url: str
    device_id: str
    tenant_id: str
    tenant_name: str
    device_name: str
    linked_at: dt.datetime
    key_path: str
    state_etag: str | None = None
    limits_json: dict[str, Any] | None = None
    limits_valid_until: dt.datetime | None = None
    last_push_at: dt.datetime | None = None
    last_pull_at: dt.datetime | None = None
    last_success_at: dt.datetime | None = None
    last_error: str | None = None
    last_error_at: dt.datetime | None = None
    interval_s: int = DEFAULT_INTERVAL_S


_NAMES = [f.name for f in fields(LinkState)]


def default_key_path(home: Path) -> Path:
    """Where a device keeps its private key unless told otherwise."""
    return home / DEFAULT_KEY_FILE


def load() -> LinkState | None:
    """The link, or None when the device is not linked."""
    row = SyncLink.get_or_none(SyncLink.id == LINK_ROW_ID)
    if row is None:
        return None
    return LinkState(**{name: getattr(row, name) for name in _NAMES})


def save_link(*, cloud_url: str, device_id: str, tenant_id: str, key_path: str | Path,
              tenant_name: str = "", device_name: str = "",
              interval_s: int = DEFAULT_INTERVAL_S, now: dt.datetime | None = None) -> LinkState:
    """Link the device: replace any link, start a fresh outbox with the whole library."""
    state = LinkState(cloud_url=cloud_url, device_id=device_id, tenant_id=tenant_id,
                      tenant_name=tenant_name, device_name=device_name,
                      linked_at=now or utcnow(), key_path=str(key_path), interval_s=interval_s)
    with db.atomic():
        if is_postgresql(db.obj):
            db.execute_sql('LOCK TABLE "assets", "qr_contents" IN SHARE MODE')
        _forget()
        SyncLink.insert(id=LINK_ROW_ID, **asdict(state)).execute()
        outbox.record_many("asset.upsert",
                           [asset_payload(a) for a in Asset.select().order_by(Asset.play_order)])
        outbox.record_many("qr.upsert", [qr_payload(q) for q in QRContent.select()])
    return state


def clear_link() -> bool:
    """Unlink locally: drop the link, the outbox and the applied commands; keep local data.

    Return whether the device was linked.
    """
    with db.atomic():
        return _forget() > 0


def update(**values: Any) -> bool:
    """Set some of the link's changing columns (``UPDATABLE``); False when not linked."""
    unknown = set(values) - UPDATABLE
    if unknown:
        raise ValueError(f"Not updatable: {', '.join(sorted(unknown))}")
    if not values:
        return load() is not None
    with db.atomic():
        return SyncLink.update(**values).where(SyncLink.id == LINK_ROW_ID).execute() == 1


def record_success(kind: str, now: dt.datetime | None = None) -> bool:
    """A push (``kind`` "push") or pull ("pull") succeeded: stamp it and clear the error."""
    moment = now or utcnow()
    column = {"push": "last_push_at", "pull": "last_pull_at"}[kind]
    return update(**{column: moment, "last_success_at": moment, "last_error": None,
                     "last_error_at": None})


def record_error(message: str, now: dt.datetime | None = None) -> bool:
    """The agent's last failure, in plain words, for the device's Cloud page."""
    return update(last_error=message[:500], last_error_at=now or utcnow())


def _forget() -> int:
    SyncOutbox.delete().execute()
    SyncAppliedCommand.delete().execute()
    return SyncLink.delete().execute()
