"""``/api/v3/roles``: the role table, so a client can show what each role holds.

Public: it is the same for every tenant and says nothing about anyone.
"""

from __future__ import annotations

from typing import Any

from anthias_edge.api.v3.routing import Call, route
from anthias_edge.permissions import ALL_PERMISSIONS, ROLE_PERMISSIONS, ROLES

_NAMES = {"type": "array", "items": {"type": "string"}}
ROLE_TABLE = {"type": "object", "required": ["roles", "permissions"], "properties": {
    "roles": {"type": "array", "items": {
        "type": "object", "required": ["name", "permissions"],
        "properties": {"name": {"type": "string", "enum": list(ROLES)},
                       "permissions": _NAMES}}},
    "permissions": _NAMES}}


@route("/roles", "GET", public=True, returns=ROLE_TABLE, tag="users")
def role_list(call: Call) -> Any:
    """Every role with its permissions, least to most, and every permission name."""
    return {"roles": [{"name": role, "permissions": sorted(ROLE_PERMISSIONS[role])}
                      for role in ROLES],
            "permissions": sorted(ALL_PERMISSIONS)}
