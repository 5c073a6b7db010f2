"""What each outbox kind carries (docs/sync-protocol.md), built from the device's rows.

``asset.upsert`` carries the columns the hub keeps per device (``device_assets``); the media
hash is left for the agent, which hashes a shared asset's file when it uploads it (hashing a
large video inside the write transaction would hold every other writer up).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from typing import Any

from anthias_edge.models import Asset, QRContent
from cloud_sync.device import outbox

ASSET_FIELDS = ("name", "uri", "mimetype", "duration", "start_date", "end_date", "is_enabled",
                "play_order", "is_shared", "updated_at")


_COLUMNS = [Asset.asset_id, *(getattr(Asset, name) for name in ASSET_FIELDS)]


def asset_payload(asset: Asset) -> dict[str, Any]:
    """``asset.upsert``: the asset's inventory columns, its id and its file's size if local."""
    return _asset_payload({"asset_id": asset.asset_id,
                           **{name: getattr(asset, name, None) for name in ASSET_FIELDS}})


def _asset_payload(payload: dict[str, Any]) -> dict[str, Any]:
    payload["is_enabled"] = bool(payload["is_enabled"])
    payload["is_shared"] = bool(payload["is_shared"])
    payload["media_sha256"] = None
    payload["media_size"] = _file_size(payload["uri"])
    return payload


def qr_payload(row: QRContent) -> dict[str, Any]:
    """``qr.upsert``: the code as the device made it."""
    return {"qr_id": row.qr_id, "qr_code": row.qr_code, "barcode": row.barcode,
            "asset_id": row.asset_id, "title": row.title, "description": row.description,
            "expires_at": row.expires_at, "is_active": bool(row.is_active),
            "updated_at": row.updated_at}


def play_payload(asset_id: str, asset_name: str | None, started_at: dt.datetime,
                 ended_at: dt.datetime | None) -> dict[str, Any]:
    """``play``: one play shown on screen (``duration_s`` None when its end is unknown)."""
    duration = None if ended_at is None else max((ended_at - started_at).total_seconds(), 0.0)
    return {"asset_id": asset_id, "asset_name": asset_name, "started_at": started_at,
            "duration_s": duration}


def record_assets(asset_ids: Iterable[str]) -> int:
    """``asset.upsert`` of these assets as they are now in this transaction (one SELECT)."""
    ids = list(dict.fromkeys(asset_ids))
    if not ids or not outbox.is_linked():
        return 0
    # Only the payload's columns, as tuples: building 1,000 models (JSON columns and all) for
    # a reordered library cost more than everything else the reorder does.
    names = ["asset_id", *ASSET_FIELDS]
    query = Asset.select(*_COLUMNS).where(Asset.asset_id.in_(ids)).tuples()
    rows = {row[0]: row for row in query}
    return outbox.record_many("asset.upsert", (
        _asset_payload(dict(zip(names, rows[i], strict=True))) for i in ids if i in rows))


def record_qr_contents(qr_ids: Iterable[str]) -> int:
    """``qr.upsert`` of these QR contents as they are now in this transaction (one SELECT)."""
    ids = list(dict.fromkeys(qr_ids))
    if not ids or not outbox.is_linked():
        return 0
    rows = {q.qr_id: q for q in QRContent.select().where(QRContent.qr_id.in_(ids))}
    return outbox.record_many("qr.upsert", (qr_payload(rows[i]) for i in ids if i in rows))


def _file_size(uri: str | None) -> int | None:
    if not uri or not uri.startswith("/"):
        return None
    try:
        return os.stat(uri).st_size
    except OSError:
        return None


def record_asset_codes(asset_id: str) -> int:
    """``qr.upsert`` of every QR content of one asset (after its sharing changed)."""
    if not outbox.is_linked():
        return 0
    rows = QRContent.select().where(QRContent.asset == asset_id).order_by(QRContent.qr_id)
    return outbox.record_many("qr.upsert", [qr_payload(row) for row in rows])
