"""The fleet (migration 0013): devices linked to a tenant and what they report.

``Device`` is one linked screen. It links with a one-time ``PairingCode`` an admin made, a
multi-use ``FleetToken``, or a ``DeviceCode`` the device asked for and an admin claimed; only
hashes of those secrets are stored. ``DeviceCommand`` is a command queued for a device
(until it expires, migration 0017), ``DeviceAsset`` one asset of its inventory,
``DevicePlay`` one play it reported.
"""

from __future__ import annotations

import datetime as dt
import uuid

from peewee import (
    BigIntegerField,
    BooleanField,
    CompositeKey,
    FloatField,
    IntegerField,
    TextField,
)

from anthias_edge.models.base import BaseModel, JSONTextField, UtcDateTimeField
from anthias_edge.timeutil import utcnow

ACTIVE, REVOKED = "active", "revoked"
DEVICE_STATUSES = (ACTIVE, REVOKED)
LINKED_VIA = ("code", "fleet_token", "device_code")
COMMANDS = ("next", "previous", "reload", "reboot", "show_asset")
COMMAND_STATUSES = ("pending", "done", "failed", "expired")
COMMAND_LIFETIME = dt.timedelta(hours=24)  # how long a queued command waits, unless told


def _new_id() -> str:
    return str(uuid.uuid4())


def _command_expiry() -> dt.datetime:
    return utcnow() + COMMAND_LIFETIME


class Device(BaseModel):
    """One screen linked to a tenant, identified by its Ed25519 public key."""

    device_id = TextField(primary_key=True, default=_new_id)
    tenant = TextField(column_name="tenant_id")
    name = TextField()
    # base64url of the raw 32-byte Ed25519 public key; unique among active devices (0017)
    public_key = TextField()
    status = TextField(default=ACTIVE)
    linked_via = TextField(null=True)
    fleet_token_id = TextField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    revoked_at = UtcDateTimeField(null=True)
    last_seen_at = UtcDateTimeField(null=True)
    last_push_at = UtcDateTimeField(null=True)
    last_play_at = UtcDateTimeField(null=True)
    software_version = TextField(null=True)
    hardware = JSONTextField(null=True)
    address = TextField(null=True)
    free_disk_bytes = BigIntegerField(null=True)
    on_screen_asset_id = TextField(null=True)
    on_screen_name = TextField(null=True)
    health_at = UtcDateTimeField(null=True)
    command_version = IntegerField(default=0)

    class Meta:
        table_name = "devices"
        indexes = ((("tenant", "name"), False),)


class PairingCode(BaseModel):
    """A one-time code an admin made for a device to type in (only its sha256 is kept)."""

    code_hash = TextField(primary_key=True)
    tenant = TextField(column_name="tenant_id")
    created_by = TextField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    expires_at = UtcDateTimeField()
    used_at = UtcDateTimeField(null=True)
    device_id = TextField(null=True)
    name = TextField(null=True)

    class Meta:
        table_name = "device_pairing_codes"


class DeviceCode(BaseModel):
    """A code a device asked for and shows; an admin claims it into a tenant."""

    code_hash = TextField(primary_key=True)
    poll_token_hash = TextField(unique=True)
    public_key = TextField()
    name = TextField()
    software_version = TextField(null=True)
    hardware = JSONTextField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    expires_at = UtcDateTimeField()
    claimed_at = UtcDateTimeField(null=True)
    tenant = TextField(column_name="tenant_id", null=True)
    device_id = TextField(null=True)

    class Meta:
        table_name = "device_codes"


class FleetToken(BaseModel):
    """A multi-use enrolment token: up to ``max_devices`` devices before ``expires_at``."""

    token_id = TextField(primary_key=True, default=_new_id)
    tenant = TextField(column_name="tenant_id")
    name = TextField()
    token_hash = TextField(unique=True)
    prefix = TextField()  # the secret's first characters, to tell tokens apart in lists
    max_devices = IntegerField()
    used_count = IntegerField(default=0)
    expires_at = UtcDateTimeField()
    revoked_at = UtcDateTimeField(null=True)
    created_by = TextField(null=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "fleet_tokens"


class DeviceCommand(BaseModel):
    """A command queued for a device; the device reports it done or failed.

    One still pending at ``expires_at`` is expired: the hub no longer hands it out.
    """

    command_id = TextField(primary_key=True, default=_new_id)
    tenant = TextField(column_name="tenant_id")
    device_id = TextField()
    command = TextField()
    args = JSONTextField(default=dict)
    status = TextField(default="pending")
    created_by = TextField(null=True)
    created_at = UtcDateTimeField(default=utcnow)
    done_at = UtcDateTimeField(null=True)
    error = TextField(null=True)
    expires_at = UtcDateTimeField(null=True, default=_command_expiry)

    class Meta:
        table_name = "device_commands"


class DeviceAsset(BaseModel):
    """One asset a device has, as it last pushed it (the device's inventory)."""

    device_id = TextField()
    asset_id = TextField()
    tenant = TextField(column_name="tenant_id")
    name = TextField(default="")
    uri = TextField(default="")
    mimetype = TextField(default="")
    duration = BigIntegerField(null=True)
    start_date = UtcDateTimeField(null=True)
    end_date = UtcDateTimeField(null=True)
    is_enabled = BooleanField(default=False)
    play_order = IntegerField(default=0)
    is_shared = BooleanField(default=False)
    media_sha256 = TextField(null=True)
    media_size = BigIntegerField(null=True)
    updated_at = UtcDateTimeField(null=True)
    seq = BigIntegerField(default=0)

    class Meta:
        table_name = "device_assets"
        primary_key = CompositeKey("device_id", "asset_id")


class DevicePlay(BaseModel):
    """One play a device reported (``play_id`` is the outbox entry's idempotency key)."""

    play_id = TextField(primary_key=True)
    tenant = TextField(column_name="tenant_id")
    device_id = TextField()
    asset_id = TextField()
    asset_name = TextField(default="")
    started_at = UtcDateTimeField()
    duration_s = FloatField(null=True)

    class Meta:
        table_name = "device_plays"
