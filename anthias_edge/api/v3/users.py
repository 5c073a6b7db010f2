"""``/api/v3/users``: the tenant's members, their roles, grants, revokes and activity."""

from __future__ import annotations

from typing import Any

from anthias_edge.api.v3.fields import Bool, Str, StrList
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.models import TenantUser
from anthias_edge.permissions import ALL_PERMISSIONS, ROLES, effective_permissions
from anthias_edge.services.tenants import TenantService
from anthias_edge.timeutil import format_datetime

PERMISSION_NAMES = tuple(sorted(ALL_PERMISSIONS))
CREATE = {
    "username": Str(required=True, min_length=1, max_length=150),
    "password": Str(required=True, min_length=8, max_length=1024),
    "role": Str(required=True, choices=ROLES),
    "email": Str(max_length=254, default=""),
}
PATCH = {
    "role": Str(choices=ROLES),
    "grants": StrList(choices=PERMISSION_NAMES, max_items=len(PERMISSION_NAMES)),
    "revokes": StrList(choices=PERMISSION_NAMES, max_items=len(PERMISSION_NAMES)),
    "is_active": Bool(),
    "email": Str(max_length=254),
}
_NAMES = {"type": "array", "items": {"type": "string"}}
USER = {"type": "object", "required": ["id", "username", "role", "permissions", "is_active"],
        "properties": {
            "id": {"type": "string"}, "username": {"type": "string"},
            "email": {"type": "string"}, "role": {"type": "string", "enum": list(ROLES)},
            "grants": _NAMES, "revokes": _NAMES, "permissions": _NAMES,
            "is_active": {"type": "boolean"},
            "created_at": {"type": ["string", "null"], "format": "date-time"}}}
USER_LIST = {"type": "object", "required": ["items"],
             "properties": {"items": {"type": "array", "items": USER}}}


def _service(call: Call) -> TenantService:
    return TenantService(call.tenant_id, principal=call.principal, ip=call.ip,
                         passwords=call.runtime.passwords, clock=call.runtime.clock)


def show_user(member: TenantUser) -> dict[str, Any]:
    """A membership as v3 shows it (never the password hash)."""
    return {
        "id": member.user_id, "username": member.user.username, "email": member.user.email,
        "role": member.role, "grants": member.grants, "revokes": member.revokes,
        "permissions": sorted(effective_permissions(member.role, member.grants,
                                                    member.revokes)),
        "is_active": bool(member.is_active and member.user.is_active),
        "created_at": format_datetime(member.created_at),
    }


@route("/users", "GET", permission="users.view", returns=USER_LIST, tag="users")
def user_list(call: Call) -> Any:
    """Every member of the tenant, oldest first."""
    return {"items": [show_user(m) for m in _service(call).list_users()]}


@route("/users", "POST", permission="users.manage", body=CREATE, status=201, returns=USER,
       errors=(400, 409), tag="users")
def user_create(call: Call) -> Any:
    """Add a user to the tenant (never with more permissions than the caller holds)."""
    data = call.data
    return show_user(_service(call).create_user(data["username"], data["password"],
                                                data["role"], data.get("email", "")))


@route("/users/<user_id>", "GET", permission="users.view", returns=USER, tag="users")
def user_detail(call: Call, user_id: str) -> Any:
    """One member of the tenant."""
    return show_user(_service(call).get_user(user_id))


@route("/users/<user_id>", "PATCH", permission="users.manage", body=PATCH, partial=True,
       returns=USER, errors=(400, 409), tag="users")
def user_update(call: Call, user_id: str) -> Any:
    """Change a member's role, grants, revokes, activity or email."""
    return show_user(_service(call).update_user(user_id, **call.data))


@route("/users/<user_id>", "DELETE", permission="users.manage", status=204, errors=(409,),
       tag="users")
def user_delete(call: Call, user_id: str) -> Any:
    """Remove a member from the tenant, ending their sessions and tokens here."""
    _service(call).remove_user(user_id)
    return None
