"""JSON Schemas of the hub's bodies, for the OpenAPI document (the checks are in protocol)."""

from __future__ import annotations

from typing import Any

from cloud_sync.protocol.messages import KINDS, MAX_ENTRIES

TIME = {"type": "string", "format": "date-time"}
LINKED = {"type": "object", "required": ["device_id", "tenant_id", "tenant_name", "name",
                                         "interval_s"],
          "properties": {"device_id": {"type": "string"}, "tenant_id": {"type": "string"},
                         "tenant_name": {"type": "string"}, "name": {"type": "string"},
                         "interval_s": {"type": "integer"}}}
DEVICE_CODE = {"type": "object", "required": ["code", "expires_at", "poll_token", "claim_url"],
               "properties": {"code": {"type": "string"}, "expires_at": TIME,
                              "poll_token": {"type": "string"},
                              "claim_url": {"type": "string"}}}
POLL = {"type": "object", "required": ["status"], "properties": {
    "status": {"enum": ["pending", "claimed"]}, **LINKED["properties"]}}
ENTRY = {"type": "object", "required": ["seq", "key", "kind", "at", "payload"],
         "additionalProperties": True,
         "properties": {"seq": {"type": "integer", "minimum": 1},
                        "key": {"type": "string", "minLength": 1, "maxLength": 64},
                        "kind": {"enum": sorted(KINDS)}, "at": TIME,
                        "payload": {"type": "object"}}}
HEALTH = {"type": "object", "properties": {
    "software_version": {"type": ["string", "null"]}, "address": {"type": ["string", "null"]},
    "free_disk_bytes": {"type": ["integer", "null"]}, "uptime_s": {"type": ["number", "null"]},
    "on_screen": {"type": ["object", "null"], "properties": {
        "asset_id": {"type": "string"}, "name": {"type": "string"}}}}}
PUSH = {"type": "object", "required": ["entries"], "properties": {
    "entries": {"type": "array", "maxItems": MAX_ENTRIES, "items": ENTRY,
                "description": "Outbox entries, seq strictly ascending."},
    "health": HEALTH}}
PUSHED = {"type": "object", "required": ["acked_through", "applied", "duplicates"],
          "properties": {"acked_through": {"type": "integer"}, "applied": {"type": "integer"},
                         "duplicates": {"type": "integer"}}}
QR = {"type": "object", "properties": {
    name: {"type": ["string", "null"]} for name in (
        "qr_id", "qr_code", "barcode", "asset_id", "title", "description", "expires_at",
        "updated_at", "landing_url")} | {"is_active": {"type": "boolean"}}}
STATE = {"type": "object",
         "required": ["qr_contents", "limits", "settings", "commands", "interval_s"],
         "properties": {
             "qr_contents": {"type": "array", "items": QR},
             "limits": {"type": "object", "properties": {
                 "plan": {"type": "string"}, "max_assets": {"type": "integer"},
                 "max_devices": {"type": "integer"}, "storage_quota_gb": {"type": "integer"},
                 "valid_until": TIME}},
             "settings": {"type": "object"},
             "commands": {"type": "array", "items": {"type": "object", "properties": {
                 "command_id": {"type": "string"},
                 "command": {"enum": ["next", "previous", "reload", "reboot", "show_asset"]},
                 "args": {"type": "object"}, "created_at": TIME}}},
             "interval_s": {"type": "integer"}}}
UPLOADED = {"type": "object", "required": ["received", "complete"],
            "properties": {"received": {"type": "integer"}, "complete": {"type": "boolean"}}}


def schemas() -> dict[str, Any]:
    """Named components the hub's operations refer to."""
    return {"SyncPush": PUSH, "SyncPushResult": PUSHED, "SyncState": STATE}
