"""``/api/v3/auth``: log in for a token pair, rotate it, log out."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from anthias_edge.api.v3.fields import Str
from anthias_edge.api.v3.routing import Call, json_response, route
from anthias_edge.api.v3.tenancy import login_tenant
from anthias_edge.errors import TenantMismatch
from anthias_edge.models.tenant import LOCAL_SUBDOMAIN
from anthias_edge.services.auth.tokens import TokenPair
from anthias_edge.services.device.owner import sync_device_owner

LOGIN = {
    "username": Str(required=True, min_length=1, max_length=150),
    "password": Str(required=True, min_length=1, max_length=1024),
    "tenant": Str(max_length=63, description="Subdomain or id; on a device it defaults "
                  "to the local tenant, in the cloud to the one the host names."),
}
REFRESH = {"refresh_token": Str(required=True, min_length=1, max_length=200)}

TOKEN_PAIR = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "refresh_token", "tenant_id",
                 "role"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "const": "Bearer"},
        "expires_in": {"type": "integer", "minimum": 1},
        "refresh_token": {"type": "string"},
        "tenant_id": {"type": "string"},
        "role": {"type": "string", "enum": ["owner", "admin", "editor", "viewer"]},
    },
}


def _pair(pair: TokenPair) -> Response:
    response = json_response({"access_token": pair.access_token, "token_type": "Bearer",
                              "expires_in": pair.expires_in,
                              "refresh_token": pair.refresh_token,
                              "tenant_id": pair.tenant_id, "role": pair.role})
    response.headers["Cache-Control"] = "no-store"
    return response


@route("/auth/token", "POST", public=True, body=LOGIN, returns=TOKEN_PAIR,
       errors=(400, 401, 403, 429), tag="auth")
def auth_token(call: Call) -> Any:
    """Log in to one tenant; answer an access token and a refresh token."""
    return _pair(log_in(call))


def log_in(call: Call) -> TokenPair:
    """The login of a ``LOGIN`` body, for the tenant it, the host or the header names."""
    rt = call.runtime
    default = None if rt.is_cloud else LOCAL_SUBDOMAIN
    tenant = login_tenant(request, call.data.get("tenant"), default)
    if not rt.is_cloud:
        # The screenly.conf user may have changed its password through device_settings.
        sync_device_owner(rt)
    return rt.auth.authenticate(call.data["username"], call.data["password"], tenant or "",
                                call.ip)


@route("/auth/refresh", "POST", public=True, body=REFRESH, returns=TOKEN_PAIR,
       errors=(400, 401, 403), tag="auth")
def auth_refresh(call: Call) -> Any:
    """Trade a refresh token for a new pair; a reused one ends the whole session."""
    pair = call.runtime.auth.refresh(call.data["refresh_token"], call.ip)
    named = login_tenant(request, None, None)
    if named is not None and named != pair.tenant_id:
        call.runtime.auth.logout(pair.refresh_token, call.ip)
        raise TenantMismatch()
    return _pair(pair)


@route("/auth/logout", "POST", public=True, body=REFRESH, status=204, errors=(400, 401),
       tag="auth")
def auth_logout(call: Call) -> Any:
    """End the session the refresh token belongs to, its access tokens included."""
    call.runtime.auth.logout(call.data["refresh_token"], call.ip)
    return None
