"""The default asset set that the ``default_assets`` setting adds and removes
(docs/legacy-api.md §4.9)."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import uuid
from pathlib import Path

from anthias_edge.db import db
from anthias_edge.models import Asset
from anthias_edge.services import media
from anthias_edge.timeutil import utcnow
from cloud_sync.device import outbox
from cloud_sync.device.payloads import record_assets

logger = logging.getLogger(__name__)

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "default_assets.yml"
PREFIX = "default_"
LIFETIME = dt.timedelta(days=6 * 365)
KINDS = ("image", "video", "webpage")


def ensure_definitions(path: Path) -> None:
    """Put the shipped ``default_assets.yml`` in place when the device has none."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SHIPPED, path)


def load_definitions(path: Path) -> list[dict]:
    """The entries of ``default_assets.yml`` whose mimetype Anthias would add."""
    ensure_definitions(path)
    import yaml  # read only when the setting is switched on

    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [entry for entry in document.get("assets") or []
            if isinstance(entry, dict) and entry.get("mimetype") in KINDS]


def add_default_assets(
    path: Path, default_duration: int, tenant_id: str | None, now: dt.datetime | None = None
) -> int:
    """Create every default asset of a tenant, enabled for six years from now; return how many."""
    now = now or utcnow()
    entries = load_definitions(path)
    created: list[str] = []
    with db.atomic():
        for entry in entries:
            duration = default_duration
            if entry["mimetype"] == "video":
                duration = media.video_duration(entry["uri"])
            asset_id = Asset.create(
                asset_id=PREFIX + uuid.uuid4().hex, name=entry.get("name"), uri=entry["uri"],
                mimetype=entry["mimetype"], start_date=now, end_date=now + LIFETIME,
                duration=duration, is_enabled=True, play_order=0, created_at=now, updated_at=now,
                tenant=tenant_id,
            ).asset_id
            created.append(asset_id)
        record_assets(created)  # a linked device tells the cloud, in the same transaction
    return len(entries)


def remove_default_assets(tenant_id: str | None) -> int:
    """Delete every asset of a tenant whose id starts with ``default_``; return how many."""
    scope = Asset.tenant.is_null() if tenant_id is None else (Asset.tenant == tenant_id)
    chosen = (Asset.asset_id.startswith(PREFIX), scope)
    with db.atomic():
        if outbox.is_linked():
            outbox.record_many("asset.delete", [
                {"asset_id": row.asset_id} for row in Asset.select(Asset.asset_id).where(*chosen)])
        return Asset.delete().where(*chosen).execute()
