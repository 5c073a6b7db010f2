"""``/api/v3/devices``: the tenant's fleet of linked screens.

Screens link to the cloud (its hub, ``cloud_sync/hub``, is mounted in cloud mode only); a
device's own server answers these routes too, like billing's, with an empty fleet.

List (with status online / stale / offline / revoked), show, rename (PATCH), revoke
(DELETE: the device is unlinked and its next request refused; answered with the revoked
device), claim a code a screen shows, queue commands, read a screen's inventory and plays.
Reading needs ``devices.view``, changing ``devices.manage``. Another tenant's device is 404.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app

from anthias_edge.api.v3.fields import DateTime, Int, Obj, Spec, Str
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.errors import TooManyAttempts
from anthias_edge.models import Device, DeviceAsset, DeviceCommand, DevicePlay
from anthias_edge.models.fleet import COMMAND_LIFETIME, COMMANDS
from anthias_edge.services.fleet.devices import (
    MAX_COMMAND_LIFETIME,
    MAX_LIMIT,
    MIN_COMMAND_LIFETIME,
    STATUSES,
    FleetService,
    command_status,
    device_status,
)
from anthias_edge.services.fleet.linking import MAX_NAME, claim_device_code
from anthias_edge.services.rate_limit import RateLimiter
from anthias_edge.timeutil import format_datetime

CLAIMS_PER_MINUTE = 30  # per tenant: 2^40 codes cannot be walked at this pace
_CLAIM_LIMIT = "anthias_fleet_claim_limit"

MIN_EXPIRES_IN_S = int(MIN_COMMAND_LIFETIME.total_seconds())
MAX_EXPIRES_IN_S = int(MAX_COMMAND_LIFETIME.total_seconds())
DEFAULT_EXPIRES_IN_S = int(COMMAND_LIFETIME.total_seconds())

TEXT_OR_NULL = {"type": ["string", "null"]}
WHEN = {"type": ["string", "null"], "format": "date-time"}
INT_OR_NULL = {"type": ["integer", "null"]}

DEVICE = {"type": "object", "required": [
    "device_id", "name", "status", "linked_via", "created_at", "revoked_at", "last_seen_at",
    "last_push_at", "last_play_at", "software_version", "address", "free_disk_bytes",
    "on_screen", "health_at"], "properties": {
    "device_id": {"type": "string"}, "name": {"type": "string"},
    "status": {"type": "string", "enum": list(STATUSES),
               "description": "online: seen within 60 s (two pull intervals); stale: within "
                              "10 minutes; offline: longer ago or never; revoked: unlinked."},
    "linked_via": {"type": ["string", "null"], "enum": ["code", "fleet_token", "device_code",
                                                        None]},
    "fleet_token_id": TEXT_OR_NULL, "created_at": {"type": "string", "format": "date-time"},
    "revoked_at": WHEN, "last_seen_at": WHEN, "last_push_at": WHEN, "last_play_at": WHEN,
    "software_version": TEXT_OR_NULL, "address": TEXT_OR_NULL,
    "free_disk_bytes": INT_OR_NULL, "health_at": WHEN,
    "on_screen": {"type": ["object", "null"], "properties": {
        "asset_id": {"type": "string"}, "name": TEXT_OR_NULL}}}}
DEVICE_PAGE = {"type": "object", "required": ["items", "next_cursor"], "properties": {
    "items": {"type": "array", "items": DEVICE}, "next_cursor": TEXT_OR_NULL}}
COMMAND = {"type": "object", "required": ["command_id", "command", "args", "status"],
           "properties": {
               "command_id": {"type": "string"},
               "command": {"type": "string", "enum": list(COMMANDS)},
               "args": {"type": "object"},
               "status": {"type": "string",
                          "enum": ["pending", "done", "failed", "expired"]},
               "created_by": TEXT_OR_NULL,
               "created_at": {"type": "string", "format": "date-time"},
               "expires_at": {"type": "string", "format": "date-time",
                              "description": "Not handed to the screen after this; still "
                                             "pending then, it shows as expired."},
               "done_at": WHEN, "error": TEXT_OR_NULL}}
COMMAND_LIST = {"type": "object", "required": ["items"],
                "properties": {"items": {"type": "array", "items": COMMAND}}}
INVENTORY_ITEM = {"type": "object", "properties": {
    "asset_id": {"type": "string"}, "name": {"type": "string"}, "uri": {"type": "string"},
    "mimetype": {"type": "string"}, "duration": INT_OR_NULL, "start_date": WHEN,
    "end_date": WHEN, "is_enabled": {"type": "boolean"}, "play_order": {"type": "integer"},
    "is_shared": {"type": "boolean"}, "media_sha256": TEXT_OR_NULL,
    "media_size": INT_OR_NULL, "updated_at": WHEN}}
INVENTORY = {"type": "object", "required": ["items"],
             "properties": {"items": {"type": "array", "items": INVENTORY_ITEM}}}
PLAY = {"type": "object", "properties": {
    "play_id": {"type": "string"}, "asset_id": {"type": "string"},
    "asset_name": {"type": "string"}, "started_at": {"type": "string", "format": "date-time"},
    "duration_s": {"type": ["number", "null"]}}}
PLAY_PAGE = {"type": "object", "required": ["items", "next_cursor"], "properties": {
    "items": {"type": "array", "items": PLAY}, "next_cursor": TEXT_OR_NULL}}

LIST_QUERY: dict[str, Spec] = {
    "status": Str(choices=STATUSES),
    "q": Str(min_length=1, max_length=MAX_NAME, description="Part of the name, any case."),
    "limit": Int(minimum=1, maximum=MAX_LIMIT, default=50),
    "cursor": Str(min_length=1, max_length=400, description="next_cursor of the last page."),
}
RENAME: dict[str, Spec] = {"name": Str(required=True, min_length=1, max_length=MAX_NAME)}
CLAIM: dict[str, Spec] = {
    "code": Str(required=True, min_length=1, max_length=64,
                description="The 8 characters the screen shows (case, spaces, dashes ignored)."),
    "name": Str(min_length=1, max_length=MAX_NAME, nullable=True, default=None,
                description="Default: the name the screen asked for."),
}
QUEUE: dict[str, Spec] = {
    "command": Str(required=True, choices=COMMANDS),
    "args": Obj(max_properties=4, default={},
                description="show_asset: {asset_id} of an asset in the device's inventory; "
                            "the others take none."),
    "expires_in_s": Int(minimum=MIN_EXPIRES_IN_S, maximum=MAX_EXPIRES_IN_S,
                        default=DEFAULT_EXPIRES_IN_S,
                        description="How long the command waits for the screen, in seconds "
                                    "(default a day): a screen offline longer never runs it."),
}
LIMIT_QUERY: dict[str, Spec] = {"limit": Int(minimum=1, maximum=MAX_LIMIT, default=50)}
PLAYS_QUERY: dict[str, Spec] = {
    "from": DateTime(description="Plays that started at or after this."),
    "to": DateTime(description="Plays that started before this."),
    "limit": Int(minimum=1, maximum=MAX_LIMIT, default=50),
    "cursor": Str(min_length=1, max_length=400),
}


def fleet(call: Call) -> FleetService:
    """The caller's tenant's fleet, writing audit entries as the caller."""
    return FleetService(call.tenant_id, actor=call.actor, ip=call.ip, clock=call.runtime.clock)


def show_device(device: Device, now: Any) -> dict[str, Any]:
    """A device as v3 shows it."""
    on_screen = ({"asset_id": device.on_screen_asset_id, "name": device.on_screen_name}
                 if device.on_screen_asset_id else None)
    return {
        "device_id": device.device_id, "name": device.name,
        "status": device_status(device, now), "linked_via": device.linked_via,
        "fleet_token_id": device.fleet_token_id,
        "created_at": format_datetime(device.created_at),
        "revoked_at": format_datetime(device.revoked_at),
        "last_seen_at": format_datetime(device.last_seen_at),
        "last_push_at": format_datetime(device.last_push_at),
        "last_play_at": format_datetime(device.last_play_at),
        "software_version": device.software_version, "address": device.address,
        "free_disk_bytes": device.free_disk_bytes, "on_screen": on_screen,
        "health_at": format_datetime(device.health_at),
    }


def show_command(row: DeviceCommand, now: Any) -> dict[str, Any]:
    """A queued command as v3 shows it (``expired`` once pending past its expiry)."""
    return {"command_id": row.command_id, "command": row.command, "args": row.args or {},
            "status": command_status(row, now), "created_by": row.created_by,
            "created_at": format_datetime(row.created_at),
            "expires_at": format_datetime(row.expires_at),
            "done_at": format_datetime(row.done_at), "error": row.error}


def _show_asset(row: DeviceAsset) -> dict[str, Any]:
    return {"asset_id": row.asset_id, "name": row.name, "uri": row.uri,
            "mimetype": row.mimetype, "duration": row.duration,
            "start_date": format_datetime(row.start_date),
            "end_date": format_datetime(row.end_date), "is_enabled": bool(row.is_enabled),
            "play_order": row.play_order, "is_shared": bool(row.is_shared),
            "media_sha256": row.media_sha256, "media_size": row.media_size,
            "updated_at": format_datetime(row.updated_at)}


def _show_play(row: DevicePlay) -> dict[str, Any]:
    return {"play_id": row.play_id, "asset_id": row.asset_id, "asset_name": row.asset_name,
            "started_at": format_datetime(row.started_at), "duration_s": row.duration_s}


@route("/devices", "GET", permission="devices.view", query=LIST_QUERY, returns=DEVICE_PAGE,
       tag="devices")
def devices_list(call: Call) -> Any:
    """List the tenant's devices by name, with their status; filter by status or name."""
    page = fleet(call).page(status=call.query.get("status"), q=call.query.get("q"),
                            limit=call.query["limit"], cursor=call.query.get("cursor"))
    now = call.runtime.clock()
    return {"items": [show_device(device, now) for device in page.items],
            "next_cursor": page.next_cursor}


@route("/devices/claim", "POST", permission="devices.manage", body=CLAIM, status=201,
       returns=DEVICE, errors=(404, 409, 429), tag="devices")
def devices_claim(call: Call) -> Any:
    """Link the screen that shows this code to the tenant (the code lives 10 minutes)."""
    limiter = current_app.extensions.setdefault(_CLAIM_LIMIT, RateLimiter(CLAIMS_PER_MINUTE))
    wait = limiter.hit(call.tenant_id)
    if wait is not None:
        raise TooManyAttempts(wait, "Too many claims; wait a moment and try again.")
    device = claim_device_code(call.tenant_id, call.data["code"], call.data["name"],
                               call.actor, ip=call.ip, clock=call.runtime.clock)
    return show_device(device, call.runtime.clock())


@route("/devices/<device_id>", "GET", permission="devices.view", returns=DEVICE,
       errors=(404,), tag="devices")
def devices_detail(call: Call, device_id: str) -> Any:
    """Show one device."""
    return show_device(fleet(call).get(device_id), call.runtime.clock())


@route("/devices/<device_id>", "PATCH", permission="devices.manage", body=RENAME,
       returns=DEVICE, errors=(404,), tag="devices")
def devices_rename(call: Call, device_id: str) -> Any:
    """Rename a device."""
    device = fleet(call).rename(device_id, call.data["name"])
    return show_device(device, call.runtime.clock())


@route("/devices/<device_id>", "DELETE", permission="devices.manage", returns=DEVICE,
       errors=(404,), tag="devices")
def devices_revoke(call: Call, device_id: str) -> Any:
    """Unlink (revoke) a device: its next request is refused; its records stay."""
    device = fleet(call).revoke(device_id)
    return show_device(device, call.runtime.clock())


@route("/devices/<device_id>/commands", "POST", permission="devices.manage", body=QUEUE,
       status=201, returns=COMMAND, errors=(404, 409), tag="devices")
def devices_command(call: Call, device_id: str) -> Any:
    """Queue a command; the device runs it within one pull interval of coming online, unless
    it stays offline until the command expires (``expires_in_s``, default a day)."""
    data = call.data
    row = fleet(call).queue_command(device_id, data["command"], data["args"],
                                    dt.timedelta(seconds=data["expires_in_s"]))
    return show_command(row, call.runtime.clock())


@route("/devices/<device_id>/commands", "GET", permission="devices.view", query=LIMIT_QUERY,
       returns=COMMAND_LIST, errors=(404,), tag="devices")
def devices_commands(call: Call, device_id: str) -> Any:
    """The device's latest commands and what became of them, newest first."""
    rows = fleet(call).commands(device_id, limit=call.query["limit"])
    now = call.runtime.clock()
    return {"items": [show_command(row, now) for row in rows]}


@route("/devices/<device_id>/inventory", "GET", permission="devices.view",
       returns=INVENTORY, errors=(404,), tag="devices")
def devices_inventory(call: Call, device_id: str) -> Any:
    """The assets the device has, as it last reported them, in play order."""
    return {"items": [_show_asset(row) for row in fleet(call).inventory(device_id)]}


@route("/devices/<device_id>/plays", "GET", permission="devices.view", query=PLAYS_QUERY,
       returns=PLAY_PAGE, errors=(404,), tag="devices")
def devices_plays(call: Call, device_id: str) -> Any:
    """The device's play log, newest first."""
    query = call.query
    page = fleet(call).plays(device_id, since=query.get("from"), until=query.get("to"),
                             limit=query["limit"], cursor=query.get("cursor"))
    return {"items": [_show_play(row) for row in page.items], "next_cursor": page.next_cursor}
