"""What a device pulls (``GET /api/v3/sync/state``) and the ETag that lets it skip the body.

The ETag is made of what the state is made of: the tenant's ``sync_version`` (bumped with
every change to its QR content, plan or pushed settings), the device's ``command_version``
(bumped when a command is queued or acknowledged), the device id, and the half-day: the body's
``limits.valid_until`` is 24 h ahead, so a device that only ever hears "not modified" still
gets fresh limits twice a day and its cached limits never lapse while it is online. So a
conditional pull that has not changed costs the one device lookup the signature check makes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from peewee import Database

from anthias_edge.services.billing.limits import effective_limits
from cloud_sync.hub.auth import DeviceRow, sql
from cloud_sync.protocol.messages import format_time

INTERVAL_S = 30
LIMITS_VALID_S = 24 * 3600
ETAG_PERIOD_S = 12 * 3600

_QR = ("SELECT qr_id, qr_code, barcode, asset_id, title, description, expires_at, is_active, "
       "updated_at FROM qr_contents WHERE device_id = {p} ORDER BY qr_id")
# A command past its expires_at is never handed out (a screen back after a month's absence
# must not restart because someone once asked it to).
_COMMANDS = ("SELECT command_id, command, args, created_at FROM device_commands "
             "WHERE device_id = {p} AND status = 'pending' AND expires_at > {p} "
             "ORDER BY created_at, command_id")


def state_etag(device_id: str, sync_version: int, command_version: int, now: float) -> str:
    """The strong ETag (quoted) of a device's state at ``now`` (seconds since the epoch)."""
    period = int(now) // ETAG_PERIOD_S
    tag = hashlib.sha256(f"{device_id}:{sync_version}:{command_version}:{period}".encode())
    return f'"{sync_version}.{command_version}.{tag.hexdigest()[:16]}"'


def claimed_versions(header: str | None, device_id: str, now: float) -> tuple[int, int] | None:
    """The (sync_version, command_version) an If-None-Match names, if it holds an ETag this
    hub made for ``device_id`` in the current half-day; else None."""
    for candidate in (header or "").split(",")[:8]:
        candidate = candidate.strip().removeprefix("W/")
        parts = candidate.strip('"').split(".")
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit() \
                or len(parts[0]) > 12 or len(parts[1]) > 12:
            continue
        versions = int(parts[0]), int(parts[1])
        if state_etag(device_id, *versions, now) == candidate:
            return versions
    return None


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match names ``etag`` (a list, ``*``, or a weak form of it)."""
    if not header:
        return False
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False


def build_state(database: Database, device: DeviceRow, now: dt.datetime,
                landing_base: str) -> dict[str, Any]:
    """The state body (the transaction is already inside the device's tenant)."""
    limits = effective_limits(device.tenant_id)
    codes = []
    for row in database.execute_sql(sql(database, _QR), (device.device_id,)).fetchall():
        qr_id, code, barcode, asset_id, title, description, expires, active, updated = row
        codes.append({
            "qr_id": qr_id, "qr_code": code, "barcode": barcode, "asset_id": asset_id,
            "title": title or "", "description": description or "",
            "expires_at": format_time(_as_time(expires)), "is_active": bool(active),
            "updated_at": format_time(_as_time(updated)),
            "landing_url": f"{landing_base.rstrip('/')}/q/{code}",
        })
    commands = []
    for command_id, command, args, created in database.execute_sql(
            sql(database, _COMMANDS), (device.device_id, now)).fetchall():
        try:
            parsed = json.loads(args) if isinstance(args, str) else (args or {})
        except ValueError:
            parsed = {}
        commands.append({"command_id": command_id, "command": command,
                         "args": parsed if isinstance(parsed, dict) else {},
                         "created_at": format_time(_as_time(created))})
    return {
        "qr_contents": codes,
        "limits": {"plan": limits.plan, "max_assets": limits.max_assets,
                   "max_devices": limits.max_devices,
                   "storage_quota_gb": limits.storage_quota_gb,
                   "valid_until": format_time(now + dt.timedelta(seconds=LIMITS_VALID_S))},
        "settings": {},
        "commands": commands,
        "interval_s": INTERVAL_S,
    }


def _as_time(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    from anthias_edge.timeutil import parse_stored

    return parse_stored(value)
