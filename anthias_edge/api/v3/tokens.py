"""``/api/v3/tokens``: API tokens for scripts; the secret is shown once, at creation."""

from __future__ import annotations

from typing import Any

from anthias_edge.api.v3.fields import DateTime, Str, StrList
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.errors import PermissionDenied
from anthias_edge.models import ApiToken
from anthias_edge.permissions import ALL_PERMISSIONS
from anthias_edge.timeutil import format_datetime

PERMISSION_NAMES = tuple(sorted(ALL_PERMISSIONS))
CREATE = {
    "name": Str(required=True, min_length=1, max_length=100, pattern=r"\S"),
    "permissions": StrList(required=True, choices=PERMISSION_NAMES,
                           max_items=len(PERMISSION_NAMES)),
    "expires_at": DateTime(nullable=True, default=None),
}
_WHEN = {"type": ["string", "null"], "format": "date-time"}
TOKEN = {"type": "object", "required": ["id", "name", "permissions"], "properties": {
    "id": {"type": "string"}, "name": {"type": "string"}, "user_id": {"type": "string"},
    "prefix": {"type": "string"},
    "permissions": {"type": "array", "items": {"type": "string"}},
    "expires_at": _WHEN, "last_used_at": _WHEN, "revoked_at": _WHEN,
    "created_at": _WHEN}}
CREATED = {**TOKEN, "required": [*TOKEN["required"], "token"],
           "properties": {**TOKEN["properties"], "token": {
               "type": "string", "description": "The secret; it is not shown again."}}}
TOKEN_LIST = {"type": "object", "required": ["items"],
              "properties": {"items": {"type": "array", "items": TOKEN}}}


def show_token(token: ApiToken) -> dict[str, Any]:
    """An API token without its secret."""
    return {"id": token.id, "name": token.name, "user_id": token.user_id,
            "prefix": token.prefix, "permissions": list(token.permissions or []),
            "expires_at": format_datetime(token.expires_at),
            "last_used_at": format_datetime(token.last_used_at),
            "revoked_at": format_datetime(token.revoked_at),
            "created_at": format_datetime(token.created_at)}


@route("/tokens", "POST", permission="tokens.manage", body=CREATE, status=201,
       returns=CREATED, errors=(400,), tag="tokens")
def token_create(call: Call) -> Any:
    """Make an API token; it never holds a permission its creator (or calling token) lacks."""
    wanted = call.data["permissions"]
    beyond = sorted(set(wanted) - call.principal.permissions)
    if beyond:
        raise PermissionDenied("A token cannot have permissions you do not hold.",
                               details={"permissions": beyond})
    token, secret = call.runtime.auth.create_api_token(
        call.tenant_id, call.principal.user_id, call.data["name"], wanted,
        call.data.get("expires_at"), call.ip)
    return {**show_token(token), "token": secret}


@route("/tokens", "GET", permission="tokens.manage", returns=TOKEN_LIST, tag="tokens")
def token_list(call: Call) -> Any:
    """The tenant's API tokens, newest first (revoked ones included)."""
    return {"items": [show_token(t) for t in call.runtime.auth.list_api_tokens(call.tenant_id)]}


@route("/tokens/<token_id>", "DELETE", permission="tokens.manage", status=204, tag="tokens")
def token_delete(call: Call, token_id: str) -> Any:
    """Revoke an API token."""
    call.runtime.auth.revoke_api_token(call.tenant_id, token_id, call.actor, call.ip)
    return None
