"""``/api/v3/audit-log``: who did what in the tenant, newest first, a page at a time."""

from __future__ import annotations

from typing import Any

from anthias_edge.api.v3.fields import DateTime, Int, Str
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.services import audit
from anthias_edge.timeutil import format_datetime

QUERY = {
    "limit": Int(minimum=1, maximum=audit.MAX_LIMIT, default=50),
    "cursor": Str(min_length=1, max_length=20, pattern=r"^\d+$",
                  description="next_cursor of the last page."),
    "actor": Str(min_length=1, max_length=64,
                 description="Only entries of this actor (a user id, an API token id or "
                             "system)."),
    "action": Str(min_length=1, max_length=64, pattern=r"^[a-z_]+\.[a-z_.]+$",
                  description="Only entries of this action, e.g. user.create."),
    "since": DateTime(description="Only entries at or after this time."),
    "until": DateTime(description="Only entries before this time."),
}
_TEXT = {"type": "string"}
ENTRY = {"type": "object", "required": ["id", "actor", "action", "at"], "properties": {
    "id": {"type": "integer"}, "actor": _TEXT, "action": _TEXT, "object_type": _TEXT,
    "object_id": _TEXT, "summary": _TEXT, "ip": {"type": ["string", "null"]},
    "at": {"type": ["string", "null"], "format": "date-time"}}}
PAGE = {"type": "object", "required": ["items", "next_cursor"], "properties": {
    "items": {"type": "array", "items": ENTRY}, "next_cursor": {"type": ["string", "null"]}}}


@route("/audit-log", "GET", permission="audit.view", query=QUERY, returns=PAGE, tag="audit")
def audit_log(call: Call) -> Any:
    """The tenant's audit log, newest first, optionally filtered by actor, action and time."""
    query = call.query
    page = audit.list_entries(call.tenant_id, query["limit"], query.get("cursor"),
                              actor=query.get("actor"), action=query.get("action"),
                              since=query.get("since"), until=query.get("until"))
    return {"items": [{"id": e.id, "actor": e.actor, "action": e.action,
                       "object_type": e.object_type, "object_id": e.object_id,
                       "summary": e.summary, "ip": e.ip, "at": format_datetime(e.at)}
                      for e in page.items],
            "next_cursor": page.next_cursor}
