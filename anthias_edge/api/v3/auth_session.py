"""``/api/v3/auth/session``: browser sign-in with the refresh token in a cookie (the console).

The JSON token endpoints (``auth_routes.py``) stay as they are for scripts. Here the refresh
token never reaches JavaScript: it lives in an ``HttpOnly``, ``SameSite=Strict`` cookie scoped
to this path (``Secure`` whenever the request came over HTTPS, a trusted proxy's included),
and the access token is answered in the body for the page to keep in memory.

Every call that the cookie authenticates (refresh, sign-out) must also carry the CSRF token
in ``X-CSRF-Token``: a keyed digest of the refresh token that a second, script-readable cookie
holds. A page of another site can make the browser send the cookies, but cannot read them
nor add the header; the app-wide Origin check (api/origin_check.py) refuses it as well.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Response, request

from anthias_edge.api.v3.auth_routes import LOGIN, log_in
from anthias_edge.api.v3.routing import Call, json_response, no_content, route
from anthias_edge.api.v3.tenancy import login_tenant
from anthias_edge.errors import CsrfTokenInvalid, TenantMismatch, TokenInvalid
from anthias_edge.services.auth.tokens import TokenPair
from anthias_edge.services.tenants import TenantService

SESSION_PATH = "/api/v3/auth/session"
REFRESH_COOKIE = "ae_refresh"
CSRF_COOKIE = "ae_csrf"
CSRF_HEADER = "X-CSRF-Token"

SESSION = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in", "tenant_id", "role"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string", "const": "Bearer"},
        "expires_in": {"type": "integer", "minimum": 1},
        "tenant_id": {"type": "string"},
        "role": {"type": "string", "enum": ["owner", "admin", "editor", "viewer"]},
    },
}


def csrf_for(refresh_token: str) -> str:
    """The CSRF token that goes with a refresh token (nobody can derive it without one)."""
    return hmac.new(refresh_token.encode(), b"anthias-console-csrf", hashlib.sha256).hexdigest()


def _session_response(call: Call, pair: TokenPair) -> Response:
    response = json_response({"access_token": pair.access_token, "token_type": "Bearer",
                              "expires_in": pair.expires_in, "tenant_id": pair.tenant_id,
                              "role": pair.role})
    response.headers["Cache-Control"] = "no-store"
    max_age = int(call.runtime.auth.refresh_ttl.total_seconds())
    secure = request.is_secure
    response.set_cookie(REFRESH_COOKIE, pair.refresh_token, max_age=max_age, path=SESSION_PATH,
                        secure=secure, httponly=True, samesite="Strict")
    response.set_cookie(CSRF_COOKIE, csrf_for(pair.refresh_token), max_age=max_age, path="/",
                        secure=secure, httponly=False, samesite="Strict")
    return response


def _clear_cookies(response: Response) -> Response:
    response.delete_cookie(REFRESH_COOKIE, path=SESSION_PATH, httponly=True, samesite="Strict")
    response.delete_cookie(CSRF_COOKIE, path="/", samesite="Strict")
    return response


def _cookie_refresh_token() -> str:
    """The refresh cookie, once the CSRF header proves the page itself sent the call."""
    token = request.cookies.get(REFRESH_COOKIE, "")
    if not token or "\x00" in token:
        raise TokenInvalid()
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent or not hmac.compare_digest(sent.encode(), csrf_for(token).encode()):
        raise CsrfTokenInvalid()
    return token


@route("/auth/session", "POST", public=True, body=LOGIN, returns=SESSION,
       errors=(400, 401, 403, 429), tag="auth")
def session_create(call: Call) -> Any:
    """Sign in from a browser: the access token in the body, the refresh token in a cookie.

    Sets the refresh token in an HttpOnly cookie scoped to this path and a CSRF cookie whose
    value later calls send as X-CSRF-Token.
    """
    return _session_response(call, log_in(call))  # the login, throttle and audit of /auth/token


@route("/auth/session/refresh", "POST", public=True, returns=SESSION, errors=(401, 403),
       tag="auth")
def session_refresh(call: Call) -> Any:
    """Rotate the cookie's refresh token; answer a new access token (needs X-CSRF-Token)."""
    auth = call.runtime.auth
    pair = auth.refresh(_cookie_refresh_token(), call.ip)
    named = login_tenant(request, None, None)
    if named is not None and named != pair.tenant_id:
        auth.logout(pair.refresh_token, call.ip)
        raise TenantMismatch()
    return _session_response(call, pair)


@route("/auth/session/logout", "POST", public=True, status=204, errors=(401, 403),
       tag="auth")
def session_logout(call: Call) -> Any:
    """Sign out everywhere: end every session of the cookie's user (needs X-CSRF-Token)."""
    response = _clear_cookies(no_content())
    call.runtime.auth.logout_everywhere(_cookie_refresh_token(), call.ip)
    return response


ME = {"type": "object", "required": ["user", "tenant"], "properties": {
    "user": {"type": "object", "required": ["id", "username", "role", "permissions"],
             "properties": {"id": {"type": "string"}, "username": {"type": "string"},
                            "role": {"type": "string"},
                            "permissions": {"type": "array", "items": {"type": "string"}}}},
    "tenant": {"type": "object", "required": ["id", "name", "subdomain"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "subdomain": {"type": "string"}, "custom_domain": {"type": ["string", "null"]}}}}}


@route("/auth/me", "GET", returns=ME, tag="auth")
def auth_me(call: Call) -> Any:
    """Who the token speaks for: the user, the permissions it holds now, and the tenant."""
    service = TenantService(call.tenant_id)
    member = service.get_user(call.principal.user_id)
    tenant = service.tenant()
    return {"user": {"id": member.user_id, "username": member.user.username,
                     "role": call.principal.role,
                     "permissions": sorted(call.principal.permissions)},
            "tenant": {"id": tenant.id, "name": tenant.name, "subdomain": tenant.subdomain,
                       "custom_domain": tenant.custom_domain}}
