"""Refuse state changes that a page on another site made a browser send (cross-site requests).

A browser attaches whatever credentials it holds for this server (the session cookie on a
top-level GET, cached Basic credentials on anything) even when another site's page sent the
request; on a device without a password it needs none at all. Browsers also say where the
request came from, and scripts say nothing, so the rule below stops the first without
touching the second. It is the rule of Go's ``net/http.CrossOriginProtection``:

1. Only state-changing requests are checked: every method but GET, HEAD, OPTIONS and TRACE,
   and any method on the player-control URLs (``/api/v1/assets/control/<cmd>``, v2, and the
   same through ``/api/v3/legacy/``), which act on the screen although they are GETs.
2. ``Sec-Fetch-Site`` (sent by every current browser) decides when present: ``same-origin``
   and ``none`` (the person typed the URL or used a bookmark) pass; ``same-site`` and
   ``cross-site`` are refused. ``same-site`` is not enough: in the cloud every tenant's
   subdomain of the base domain is the same site as every other tenant's.
3. Otherwise an ``Origin`` header must name this very host (scheme aside, so a TLS-ending
   proxy does not matter): the request's ``Host``, as the client sent it or as a trusted
   proxy forwarded it. Another host, another tenant's subdomain, the bare base domain, or
   ``null`` is refused.
4. Neither header: a script, or a browser too old to send either. It passes.

The refusal is a 403 in the error shape of the URL's API version.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from flask import Flask, Request, Response, request

from anthias_edge.api.error_handling import is_legacy_path
from anthias_edge.api.legacy.http import error_body
from anthias_edge.api.v3 import errors as v3_errors
from anthias_edge.auth.guard import SAFE_METHODS
from anthias_edge.errors import CrossSiteRequest

logger = logging.getLogger(__name__)

# GETs that change what the screen shows: the only ones. Every other GET only reads (checked
# route by route, docs/security.md); viewer_current_asset asks the player, changing nothing.
STATE_CHANGING_PATHS = re.compile(r"^/api/(v[0-9.]+|v3/legacy)/assets/control/")
TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})
DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def changes_state(method: str, path: str) -> bool:
    """True for requests that may change something: unsafe methods and the control URLs."""
    return method not in SAFE_METHODS or bool(STATE_CHANGING_PATHS.match(path))


def _host(netloc: str, scheme: str) -> str:
    netloc = netloc.strip().lower().rstrip(".")
    default = DEFAULT_PORTS.get(scheme, "")
    return netloc.removesuffix(default) if default else netloc


def is_cross_site(req: Request) -> bool:
    """Whether the browser says this request was sent by a page of another origin."""
    fetch_site = req.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site.strip().lower() not in TRUSTED_FETCH_SITES
    origin = req.headers.get("Origin")
    if origin is None:
        return False
    parts = urlsplit(origin.strip())
    if not parts.scheme or not parts.netloc:
        return True  # "null" (sandboxed frames, some redirects) or garbage
    return _host(parts.netloc, parts.scheme) != _host(req.host, req.scheme)


def refusal(path: str) -> Response:
    """The 403 for ``path``, in its API version's error shape."""
    exc = CrossSiteRequest()
    if v3_errors.is_v3_path(path):
        return v3_errors.domain_error(exc)
    if is_legacy_path(path):
        return error_body(exc.status, exc.message)
    # The web UI shows a plain-text 403 as it is (web_ui/static/js/api.js).
    return Response(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")


def check_origin() -> Response | None:
    """``before_request``: None to go on, or the refusal of a cross-site state change."""
    if request.routing_exception is not None:
        return None  # an unknown URL or method answers 404/405 as before
    if not changes_state(request.method, request.path) or not is_cross_site(request):
        return None
    logger.info("refused a cross-site %s %s (Origin %r, Sec-Fetch-Site %r)", request.method,
                request.path, request.headers.get("Origin"),
                request.headers.get("Sec-Fetch-Site"))
    return refusal(request.path)


def init_origin_check(app: Flask) -> None:
    """Run the check before every view of every blueprint (app-level hooks run first)."""
    app.before_request(check_origin)
