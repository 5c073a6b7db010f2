"""The device's side of cloud sync (migration 0015): its outbox, its link, commands it ran."""

from __future__ import annotations

from peewee import AutoField, BooleanField, IntegerField, TextField

from anthias_edge.models.base import BaseModel, JSONTextField, UtcDateTimeField
from anthias_edge.timeutil import utcnow

LINK_ROW_ID = 1  # sync_link holds at most this one row


class SyncOutbox(BaseModel):
    """One local change still to be pushed to the cloud, oldest ``seq`` first."""

    seq = AutoField()
    idem_key = TextField(unique=True)
    kind = TextField()
    payload = JSONTextField()
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "sync_outbox"


class SyncLink(BaseModel):
    """The tenant this device is linked to (no row: not linked)."""

    id = IntegerField(primary_key=True, default=LINK_ROW_ID)
    cloud_url = TextField()
    device_id = TextField()
    tenant_id = TextField()
    tenant_name = TextField(default="")
    device_name = TextField(default="")
    linked_at = UtcDateTimeField(default=utcnow)
    key_path = TextField()
    state_etag = TextField(null=True)
    limits_json = JSONTextField(null=True)
    limits_valid_until = UtcDateTimeField(null=True)
    last_push_at = UtcDateTimeField(null=True)
    last_pull_at = UtcDateTimeField(null=True)
    last_success_at = UtcDateTimeField(null=True)
    last_error = TextField(null=True)
    last_error_at = UtcDateTimeField(null=True)
    interval_s = IntegerField(default=30)

    class Meta:
        table_name = "sync_link"


class SyncAppliedCommand(BaseModel):
    """A cloud command this device already ran, and how it went."""

    command_id = TextField(primary_key=True)
    applied_at = UtcDateTimeField(default=utcnow)
    ok = BooleanField(default=True)
    error = TextField(null=True)

    class Meta:
        table_name = "sync_applied_commands"
