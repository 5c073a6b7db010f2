"""Flask side of authentication: Basic for scripts, a signed session plus CSRF for browsers.

The legacy answers of docs/legacy-api.md §6.2 (401 ``Access denied`` with ``WWW-Authenticate``, and
503) stay exactly as Anthias sends them to any client that is not our own web UI. A browser that
signed in at ``/login`` carries a session cookie instead; every state-changing request made with
that session must also carry the session's CSRF token (``X-CSRFToken`` header or ``csrf_token``
field).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Response, request, session

from anthias_edge.auth.throttling import check_throttled_basic_auth
from anthias_edge.runtime import current_runtime
from anthias_edge.settings import Settings, auth_enabled

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRFToken"
CSRF_FIELD = "csrf_token"
CSRF_REFUSAL = ("This request was refused because its security token is missing or out of "
                "date. Reload the page and try again.")
UI_SIGN_IN_AGAIN = "Access denied: sign in again."


def credentials_fingerprint(settings: Settings) -> str:
    """A digest of the user and password hash: changing either signs every session out."""
    material = f"{settings['user']}\0{settings['password']}".encode()
    return hashlib.sha256(material).hexdigest()


def csrf_token() -> str:
    """This session's CSRF token, created on first use."""
    token = session.get(CSRF_FIELD)
    if not token:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def sign_in(settings: Settings) -> None:
    """Start a fresh signed-in session (a new token, so a planted session is useless)."""
    session.clear()
    session["auth"] = credentials_fingerprint(settings)
    session[CSRF_FIELD] = secrets.token_urlsafe(32)


def has_session(settings: Settings) -> bool:
    """True when the request carries a session signed in with the current credentials."""
    fingerprint = session.get("auth")
    return bool(fingerprint) and hmac.compare_digest(
        str(fingerprint), credentials_fingerprint(settings))


def csrf_ok() -> bool:
    """True for safe methods, or when the request echoes the session's CSRF token."""
    if request.method in SAFE_METHODS:
        return True
    expected = session.get(CSRF_FIELD)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.mimetype in ("application/x-www-form-urlencoded",
                                             "multipart/form-data"):
        sent = request.form.get(CSRF_FIELD)
    return bool(expected) and bool(sent) and hmac.compare_digest(str(sent), str(expected))


def csrf_refusal() -> Response:
    """403 with a message a person can act on."""
    return Response(CSRF_REFUSAL, status=403, content_type="text/plain; charset=utf-8")


def from_web_ui() -> bool:
    """Our own pages mark their requests with the CSRF header; scripts never send it."""
    return CSRF_HEADER in request.headers


def basic_auth_challenge(settings: Settings) -> Response | None:
    """None when the request may go on; otherwise the refusal to send.

    A signed-in session is enough (writes need its CSRF token too); otherwise HTTP Basic
    decides, with Anthias's exact 401/503 answers for scripts, and a 429 with ``Retry-After``
    for an address that keeps sending wrong passwords (``auth/throttling.py``).
    """
    if not auth_enabled(settings):
        return None
    if has_session(settings):
        return None if csrf_ok() else csrf_refusal()
    result = check_throttled_basic_auth(request.headers.get("Authorization"),
                                        current_runtime(), request.remote_addr)
    if result.ok:
        return None
    headers = result.headers
    if from_web_ui() and result.status == 401:
        # No WWW-Authenticate: the page sends the person to /login instead of a browser prompt.
        return Response(UI_SIGN_IN_AGAIN, status=401, content_type="text/plain; charset=utf-8")
    return Response(result.body, status=result.status, headers=headers)
