"""A tenant's devices: list with their status, rename, revoke, commands, inventory, plays.

Status is computed from ``last_seen_at`` (set by every push and pull) against the pull
interval (``INTERVAL_S``, 30 s): **online** when seen within two intervals (60 s), **stale**
within ``STALE_AFTER`` (10 minutes), **offline** when seen longer ago or never, and
**revoked** once unlinked, whenever it was last seen. The same bounds filter the list in SQL.

Commands (``next``, ``previous``, ``reload``, ``reboot``, ``show_asset``) wait as
``pending`` rows until the device pulls them; queueing one bumps the device's
``command_version``, which is part of its state ETag, so its next pull sees it. Each waits
until its ``expires_at`` (24 h unless the admin says otherwise, 1 minute to 7 days): the hub
hands out no command past it, and ``command_status`` calls such a command ``expired``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from peewee import fn

from anthias_edge.db import db, is_sqlite
from anthias_edge.errors import ValidationError
from anthias_edge.models import Device, DeviceAsset, DeviceCommand, DevicePlay
from anthias_edge.models.fleet import ACTIVE, COMMAND_LIFETIME, COMMANDS, REVOKED
from anthias_edge.services import audit
from anthias_edge.services.fleet.errors import (
    DeviceAssetNotFound,
    DeviceNotActive,
    DeviceNotFound,
)
from anthias_edge.services.fleet.linking import INTERVAL_S, clean_name
from anthias_edge.timeutil import utcnow

ONLINE_WITHIN = dt.timedelta(seconds=2 * INTERVAL_S)
STALE_AFTER = dt.timedelta(minutes=10)
STATUSES = ("online", "stale", "offline", "revoked")
MAX_LIMIT = 200
MAX_ASSET_ID = 64
MIN_COMMAND_LIFETIME = dt.timedelta(minutes=1)
MAX_COMMAND_LIFETIME = dt.timedelta(days=7)


def device_status(device: Device, now: dt.datetime) -> str:
    """``online``, ``stale``, ``offline`` or ``revoked`` (see the module docstring)."""
    if device.status == REVOKED:
        return "revoked"
    seen = device.last_seen_at
    if seen is None or seen < now - STALE_AFTER:
        return "offline"
    return "online" if seen >= now - ONLINE_WITHIN else "stale"


def command_status(command: DeviceCommand, now: dt.datetime) -> str:
    """The command's status, ``expired`` for one still pending past its ``expires_at``."""
    if (command.status == "pending" and command.expires_at is not None
            and command.expires_at <= now):
        return "expired"
    return command.status


@dataclass(frozen=True)
class Page:
    """One page of rows and the cursor of the next (None at the end)."""

    items: list[Any]
    next_cursor: str | None


@dataclass
class FleetService:
    """The devices of one tenant (``tenant_id``): its rows only, always."""

    tenant_id: str
    actor: str | None = None
    ip: str | None = None
    clock: Callable[[], dt.datetime] = utcnow

    # -- reading ----------------------------------------------------------
    def get(self, device_id: Any) -> Device:
        """One of the tenant's devices, or DeviceNotFound (another tenant's is no different)."""
        if not isinstance(device_id, str) or not device_id or len(device_id) > 64:
            raise DeviceNotFound()
        device = Device.get_or_none(Device.device_id == device_id,
                                    Device.tenant == self.tenant_id)
        if device is None:
            raise DeviceNotFound()
        return device

    def page(self, *, status: str | None = None, q: str | None = None, limit: int = 50,
             cursor: str | None = None) -> Page:
        """The tenant's devices by name, filtered by status and a part of the name."""
        _check_limit(limit)
        query = Device.select().where(Device.tenant == self.tenant_id)
        if status is not None:
            query = query.where(self._status_condition(status))
        if q:
            query = query.where(_contains(fn.LOWER(Device.name), q.lower()))
        if cursor:
            name, device_id = _decode(cursor, "d")
            query = query.where((Device.name > name)
                                | ((Device.name == name) & (Device.device_id > device_id)))
        rows = list(query.order_by(Device.name, Device.device_id).limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, _encode("d", rows[-1].name, rows[-1].device_id) if more else None)

    def _status_condition(self, status: str) -> Any:
        now = self.clock()
        if status == "revoked":
            return Device.status == REVOKED
        active = Device.status == ACTIVE
        if status == "online":
            return active & (Device.last_seen_at >= now - ONLINE_WITHIN)
        if status == "stale":
            return (active & (Device.last_seen_at < now - ONLINE_WITHIN)
                    & (Device.last_seen_at >= now - STALE_AFTER))
        if status == "offline":
            return active & (Device.last_seen_at.is_null()
                             | (Device.last_seen_at < now - STALE_AFTER))
        raise ValidationError({"status": [f"One of {', '.join(STATUSES)}."]})

    def inventory(self, device_id: str) -> list[DeviceAsset]:
        """The assets the device last reported, in its play order."""
        device = self.get(device_id)
        return list(DeviceAsset.select()
                    .where(DeviceAsset.device_id == device.device_id,
                           DeviceAsset.tenant == self.tenant_id)
                    .order_by(DeviceAsset.play_order, DeviceAsset.name, DeviceAsset.asset_id))

    def plays(self, device_id: str, *, since: dt.datetime | None = None,
              until: dt.datetime | None = None, limit: int = 50,
              cursor: str | None = None) -> Page:
        """The device's reported plays, newest first, ``limit`` at a time."""
        _check_limit(limit)
        device = self.get(device_id)
        query = DevicePlay.select().where(DevicePlay.device_id == device.device_id,
                                          DevicePlay.tenant == self.tenant_id)
        if since is not None:
            query = query.where(DevicePlay.started_at >= since)
        if until is not None:
            query = query.where(DevicePlay.started_at < until)
        if cursor:
            stamp, play_id = _decode(cursor, "p")
            started = _parse_stamp(stamp)
            query = query.where((DevicePlay.started_at < started)
                                | ((DevicePlay.started_at == started)
                                   & (DevicePlay.play_id < play_id)))
        rows = list(query.order_by(DevicePlay.started_at.desc(), DevicePlay.play_id.desc())
                    .limit(limit + 1))
        more = len(rows) > limit
        rows = rows[:limit]
        last = rows[-1] if rows else None
        return Page(rows, _encode("p", last.started_at.isoformat(), last.play_id)
                    if more and last else None)

    def commands(self, device_id: str, *, limit: int = 50) -> list[DeviceCommand]:
        """The device's latest commands, newest first."""
        _check_limit(limit)
        device = self.get(device_id)
        return list(DeviceCommand.select()
                    .where(DeviceCommand.device_id == device.device_id,
                           DeviceCommand.tenant == self.tenant_id)
                    .order_by(DeviceCommand.created_at.desc(), DeviceCommand.command_id.desc())
                    .limit(limit))

    # -- writing ----------------------------------------------------------
    def rename(self, device_id: str, name: Any) -> Device:
        """Give the device a new name (1-100 characters)."""
        device = self.get(device_id)
        new_name = clean_name(name)
        if new_name != device.name:
            with db.atomic():
                (Device.update(name=new_name)
                 .where(Device.device_id == device.device_id,
                        Device.tenant == self.tenant_id).execute())
                self._audit("device.rename", device.device_id, f"{device.name} -> {new_name}")
            device.name = new_name
        return device

    def revoke(self, device_id: str) -> Device:
        """Unlink the device: its next request is refused; its pending commands expire.

        Its inventory, plays and codes stay for the record; revoking twice changes nothing.
        """
        device = self.get(device_id)
        if device.status == REVOKED:
            return device
        now = self.clock()
        with db.atomic():
            (Device.update(status=REVOKED, revoked_at=now,
                           command_version=Device.command_version + 1)
             .where(Device.device_id == device.device_id, Device.tenant == self.tenant_id)
             .execute())
            (DeviceCommand.update(status="expired", done_at=now)
             .where(DeviceCommand.device_id == device.device_id,
                    DeviceCommand.tenant == self.tenant_id,
                    DeviceCommand.status == "pending").execute())
            self._audit("device.revoke", device.device_id, device.name)
        device.status, device.revoked_at = REVOKED, now
        return device

    def queue_command(self, device_id: str, command: Any,
                      args: Mapping[str, Any] | None = None,
                      expires_in: dt.timedelta = COMMAND_LIFETIME) -> DeviceCommand:
        """Queue ``command`` for the device; ``show_asset`` needs an ``asset_id`` it has.

        :param expires_in: how long the command waits for the device (1 minute to 7 days).
        """
        device = self.get(device_id)
        clean = _command_args(command, args)
        if not MIN_COMMAND_LIFETIME <= expires_in <= MAX_COMMAND_LIFETIME:
            raise ValidationError({"expires_in_s": [
                f"From {int(MIN_COMMAND_LIFETIME.total_seconds())} to "
                f"{int(MAX_COMMAND_LIFETIME.total_seconds())} seconds."]})
        if device.status != ACTIVE:
            raise DeviceNotActive()
        if command == "show_asset":
            held = (DeviceAsset.select(DeviceAsset.asset_id)
                    .where(DeviceAsset.device_id == device.device_id,
                           DeviceAsset.tenant == self.tenant_id,
                           DeviceAsset.asset_id == clean["asset_id"]).exists())
            if not held:
                raise DeviceAssetNotFound()
        now = self.clock()
        with db.atomic():
            row = DeviceCommand.create(tenant=self.tenant_id, device_id=device.device_id,
                                       command=command, args=clean, status="pending",
                                       created_by=self.actor, created_at=now,
                                       expires_at=now + expires_in)
            (Device.update(command_version=Device.command_version + 1)
             .where(Device.device_id == device.device_id, Device.tenant == self.tenant_id)
             .execute())
            summary = f"{command} {json.dumps(clean)}" if clean else command
            self._audit("device.command", device.device_id,
                        f"{summary} (expires {(now + expires_in).isoformat()}Z)")
        return row

    def _audit(self, action: str, device_id: str, summary: str) -> None:
        if self.actor is not None:
            audit.record(self.tenant_id, self.actor, action, "device", device_id, summary,
                         self.ip, clock=self.clock)


def _command_args(command: Any, args: Mapping[str, Any] | None) -> dict[str, Any]:
    if command not in COMMANDS:
        raise ValidationError({"command": [f"One of {', '.join(COMMANDS)}."]})
    args = dict(args or {})
    if command != "show_asset":
        if args:
            raise ValidationError({"args": [f"'{command}' takes no arguments."]})
        return {}
    asset_id = args.pop("asset_id", None)
    if args:
        raise ValidationError({"args": ["'show_asset' takes only asset_id."]})
    if (not isinstance(asset_id, str) or not 1 <= len(asset_id) <= MAX_ASSET_ID
            or "\x00" in asset_id):
        raise ValidationError({"args.asset_id": ["Required: the id of an asset the device "
                                                 "has."]})
    return {"asset_id": asset_id}


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": [f"Must be between 1 and {MAX_LIMIT}."]})


def _contains(haystack: Any, needle: str) -> Any:
    # Plain substring search: LIKE would treat % and _ in the needle as wildcards.
    if is_sqlite(db):
        return fn.instr(haystack, needle) > 0
    return fn.strpos(haystack, needle) > 0


def _encode(kind: str, first: str, second: str) -> str:
    text = json.dumps([kind, first, second], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, kind: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw.decode())
        if (not isinstance(value, list) or len(value) != 3 or value[0] != kind
                or not all(isinstance(v, str) and "\x00" not in v for v in value[1:])):
            raise ValueError(value)
        return value[1], value[2]
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc


def _parse_stamp(text: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc
