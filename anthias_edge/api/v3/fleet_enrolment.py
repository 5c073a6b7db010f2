"""``/api/v3/pairing-codes`` and ``/api/v3/fleet-tokens``: what screens link with.

A pairing code (8 characters, 10 minutes, one screen) and a fleet token's secret (``aft_`` +
43 characters; up to ``max_devices`` screens until ``expires_at``) are in the answer that
made them and nowhere else: only their hashes are stored. An unused pairing code can be
revoked (DELETE, by the ``id`` the list shows). All of it needs ``devices.manage``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from anthias_edge.api.v3.fields import DateTime, Int, Spec, Str
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.models import FleetToken, PairingCode
from anthias_edge.services.fleet.enrolment import (
    MAX_TOKEN_DEVICES,
    MAX_TOKEN_NAME,
    EnrolmentService,
    pairing_code_id,
    token_state,
)
from anthias_edge.services.fleet.linking import MAX_NAME
from anthias_edge.timeutil import format_datetime

WHEN = {"type": "string", "format": "date-time"}
WHEN_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
TEXT_OR_NULL = {"type": ["string", "null"]}

PAIRING_CODE = {"type": "object", "required": ["id", "name", "created_at", "expires_at"],
                "properties": {
                    "id": {"type": "string", "description": "Tells codes apart; not the code."},
                    "code": {"type": "string", "description": "Only in the answer that made "
                                                              "it: type it on the screen."},
                    "name": TEXT_OR_NULL, "created_by": TEXT_OR_NULL, "created_at": WHEN,
                    "expires_at": WHEN, "used_at": WHEN_OR_NULL,
                    "device_id": TEXT_OR_NULL}}
PAIRING_CODE_LIST = {"type": "object", "required": ["items"],
                     "properties": {"items": {"type": "array", "items": PAIRING_CODE}}}
FLEET_TOKEN = {"type": "object", "required": [
    "token_id", "name", "prefix", "max_devices", "used_count", "expires_at", "revoked_at",
    "state"], "properties": {
    "token_id": {"type": "string"}, "name": {"type": "string"},
    "token": {"type": "string", "description": "The secret (aft_...), only in the answer "
                                               "that made it: put it in the device's "
                                               "anthias-fleet.token file."},
    "prefix": {"type": "string", "description": "The secret's first characters."},
    "max_devices": {"type": "integer"}, "used_count": {"type": "integer"},
    "expires_at": WHEN, "revoked_at": WHEN_OR_NULL, "created_by": TEXT_OR_NULL,
    "created_at": WHEN,
    "state": {"type": "string", "enum": ["active", "revoked", "expired", "used_up"]}}}
FLEET_TOKEN_LIST = {"type": "object", "required": ["items"],
                    "properties": {"items": {"type": "array", "items": FLEET_TOKEN}}}

NEW_CODE: dict[str, Spec] = {
    "name": Str(min_length=1, max_length=MAX_NAME, nullable=True, default=None,
                description="The name the linked screen gets (default: the one it sends)."),
}
NEW_TOKEN: dict[str, Spec] = {
    "name": Str(required=True, min_length=1, max_length=MAX_TOKEN_NAME),
    "max_devices": Int(required=True, minimum=1, maximum=MAX_TOKEN_DEVICES),
    "expires_at": DateTime(required=True, description="In the future, at most a year ahead."),
}


def _service(call: Call) -> EnrolmentService:
    return EnrolmentService(call.tenant_id, actor=call.actor, ip=call.ip,
                            clock=call.runtime.clock)


def _show_code(row: PairingCode) -> dict[str, Any]:
    return {"id": pairing_code_id(row), "name": row.name, "created_by": row.created_by,
            "created_at": format_datetime(row.created_at),
            "expires_at": format_datetime(row.expires_at),
            "used_at": format_datetime(row.used_at), "device_id": row.device_id}


def _show_token(row: FleetToken, now: dt.datetime) -> dict[str, Any]:
    return {"token_id": row.token_id, "name": row.name, "prefix": row.prefix,
            "max_devices": row.max_devices, "used_count": row.used_count,
            "expires_at": format_datetime(row.expires_at),
            "revoked_at": format_datetime(row.revoked_at), "created_by": row.created_by,
            "created_at": format_datetime(row.created_at), "state": token_state(row, now)}


@route("/pairing-codes", "POST", permission="devices.manage", body=NEW_CODE, status=201,
       returns=PAIRING_CODE, tag="devices")
def pairing_codes_create(call: Call) -> Any:
    """Make a one-time code (10 minutes) to type on a screen; the code is shown only here."""
    made = _service(call).create_pairing_code(call.data["name"])
    return {**_show_code(made.row), "code": made.code}


@route("/pairing-codes", "GET", permission="devices.manage", returns=PAIRING_CODE_LIST,
       tag="devices")
def pairing_codes_list(call: Call) -> Any:
    """The tenant's codes still waiting for a screen (without the codes themselves)."""
    return {"items": [_show_code(row) for row in _service(call).pairing_codes()]}


@route("/pairing-codes/<code_id>", "DELETE", permission="devices.manage", status=204,
       errors=(404,), tag="devices")
def pairing_codes_revoke(call: Call, code_id: str) -> Any:
    """Revoke an unused pairing code (its ``id``): no screen can link with it any more."""
    _service(call).revoke_pairing_code(code_id)


@route("/fleet-tokens", "POST", permission="devices.manage", body=NEW_TOKEN, status=201,
       returns=FLEET_TOKEN, tag="devices")
def fleet_tokens_create(call: Call) -> Any:
    """Make a fleet enrolment token; its secret is shown only here."""
    data = call.data
    made = _service(call).create_fleet_token(data["name"], data["max_devices"],
                                             data["expires_at"])
    return {**_show_token(made.row, call.runtime.clock()), "token": made.secret}


@route("/fleet-tokens", "GET", permission="devices.manage", returns=FLEET_TOKEN_LIST,
       tag="devices")
def fleet_tokens_list(call: Call) -> Any:
    """The tenant's fleet tokens, newest first (without their secrets)."""
    now = call.runtime.clock()
    return {"items": [_show_token(row, now) for row in _service(call).fleet_tokens()]}


@route("/fleet-tokens/<token_id>", "DELETE", permission="devices.manage", returns=FLEET_TOKEN,
       errors=(404,), tag="devices")
def fleet_tokens_revoke(call: Call, token_id: str) -> Any:
    """Revoke a fleet token: it enrols no more screens (linked ones stay linked)."""
    row = _service(call).revoke_fleet_token(token_id)
    return _show_token(row, call.runtime.clock())
