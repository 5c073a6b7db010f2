"""A shared code of one asset: a QR code (and optionally a Code 128 barcode) leading to it."""

from __future__ import annotations

import datetime as dt
import uuid

from peewee import BooleanField, ForeignKeyField, IntegerField, TextField

from anthias_edge.models.asset import Asset
from anthias_edge.models.base import BaseModel, UtcDateTimeField
from anthias_edge.timeutil import utcnow


def _new_id() -> str:
    return str(uuid.uuid4())


class QRContent(BaseModel):
    """One code a passer-by scans to take an asset with them (table ``qr_contents``, 0010)."""

    qr_id = TextField(primary_key=True, default=_new_id)
    tenant = TextField(column_name="tenant_id")
    asset = ForeignKeyField(Asset, column_name="asset_id", on_delete="CASCADE",
                            backref="qr_contents", index=True)
    # Set for a code of a linked device's asset (migration 0013): ``asset`` is then the id
    # of an asset in that device's inventory (``device_assets``), not of a cloud asset.
    device_id = TextField(null=True)
    qr_code = TextField(unique=True)
    barcode = TextField(null=True, unique=True)
    title = TextField(default="")
    description = TextField(default="")
    access_count = IntegerField(default=0)
    last_accessed = UtcDateTimeField(null=True)
    expires_at = UtcDateTimeField(null=True)
    is_active = BooleanField(default=True)
    created_by = TextField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "qr_contents"
        indexes = ((("tenant", "is_active"), False),)

    def is_expired(self, now: dt.datetime | None = None) -> bool:
        """Whether the code's expiry has passed (naive UTC, like every stored time)."""
        return self.expires_at is not None and self.expires_at <= (now or utcnow())

    def is_live(self, now: dt.datetime | None = None) -> bool:
        """Active and not expired: what a scan of it may show."""
        return bool(self.is_active) and not self.is_expired(now)
