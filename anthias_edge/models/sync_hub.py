"""The sync hub's own rows (migration 0014): replay store, push receipts, uploaded media.

``SyncNonce`` keeps a signed request's ``jti`` until its token expires. ``SyncReceipt`` is one
applied outbox entry (written with the entry's effect, so each applies once).
``MediaObject`` is a file a device uploads, content-addressed within its tenant.
"""

from __future__ import annotations

from peewee import BigIntegerField, BooleanField, CompositeKey, TextField

from anthias_edge.models.base import BaseModel, UtcDateTimeField
from anthias_edge.timeutil import utcnow


class SyncNonce(BaseModel):
    """One seen ``jti`` of one device, kept until ``expires_at``."""

    device_id = TextField()
    jti = TextField()
    expires_at = UtcDateTimeField()

    class Meta:
        table_name = "sync_nonces"
        primary_key = CompositeKey("device_id", "jti")


class SyncReceipt(BaseModel):
    """One outbox entry the hub applied (``error``: acknowledged without effect, and why)."""

    device_id = TextField()
    idem_key = TextField()
    tenant = TextField(column_name="tenant_id")
    seq = BigIntegerField()
    kind = TextField()
    received_at = UtcDateTimeField(default=utcnow)
    error = TextField(null=True)

    class Meta:
        table_name = "sync_receipts"
        primary_key = CompositeKey("device_id", "idem_key")


class MediaObject(BaseModel):
    """A file uploaded (or being uploaded) by a device, named by its sha256 in its tenant."""

    tenant = TextField(column_name="tenant_id")
    sha256 = TextField()
    size = BigIntegerField()
    received_bytes = BigIntegerField(default=0)
    complete = BooleanField(default=False)
    device_id = TextField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "media_objects"
        primary_key = CompositeKey("tenant", "sha256")
