"""The public landing page ``/q/<code>``: what a passer-by sees after scanning a code.

No sign-in, on a device (any host) and in the cloud (a tenant's host, or the base domain).
``GET /q/<code>`` shows the shared asset's title, description and content (an image inline,
a video with controls, a web page or stream as a link, or a redirect to the web page when
its asset asks for one) and counts the visit once; ``HEAD`` and prefetches (``Purpose`` or
``Sec-Purpose: prefetch``) show the same but count nothing. ``GET /q/<code>/media`` serves
the asset's file, with Range and cache headers, only from the tenant's asset folder.
Unknown codes answer 404 and deactivated or expired ones 410, each with a friendly page;
too many pages from one address in a minute answer 429 with ``Retry-After``.

It is a WSGI handler in front of Flask, not a blueprint: a scan is one of the busiest
requests a server gets, and Flask's request machinery (plus the cloud's request
transaction) cost more than the page itself. The rules live in ``services/qr_public.py``;
this module reads the request, applies the rate limit and renders the answer.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import os
import re
import time
from collections.abc import Callable, Iterable
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from anthias_edge.compression import REUSED_BODY
from anthias_edge.errors import SharedCodeGone, SharedCodeNotFound
from anthias_edge.runtime import Runtime
from anthias_edge.services.qr_public import HostScope, Landing, PublicCodes, media_file
from anthias_edge.services.rate_limit import RateLimiter, share_of
from anthias_edge.services.tenant_hosts import DOMAIN, host_name

logger = logging.getLogger(__name__)

PREFIX = "/q/"
TEMPLATES = Path(__file__).resolve().parents[2] / "web_ui" / "templates"
STYLESHEET = TEMPLATES / "landing" / "landing.css"
# Media may be asked for in many ranges while a video seeks: its limit is this many pages'.
MEDIA_ALLOWANCE = 10
MEDIA_MAX_AGE_S = 3600
RENDERED_PAGES = 1024
HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")
# gunicorn's conventional variable; cloud_server.py sets it to the worker count.
WORKERS_ENV = "WEB_CONCURRENCY"
MESSAGES = {
    404: ("Nothing here", "This code does not lead to anything shared. Check that the whole "
          "code was scanned, or ask whoever put it up."),
    405: ("Not possible", "This page can only be opened, not changed."),
    410: ("No longer available", "Whoever shared this has stopped sharing it, or it has "
          "expired."),
    429: ("Please wait a moment", "Too many pages were opened from your network in the last "
          "minute. Try again in {retry_after} seconds."),
    # A linked screen's code whose file the screen has not uploaded to the cloud yet.
    "not_yet": ("Not available yet", "The screen sharing this has not sent it to the cloud "
                "yet. Try again in a few minutes."),
    500: ("Something went wrong", "This page could not be shown just now. Try again in a "
          "moment."),
}
REASONS = {200: "OK", 302: "Found", 404: "Not Found", 405: "Method Not Allowed",
           410: "Gone", 429: "Too Many Requests", 500: "Internal Server Error"}

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def content_security_policy(style_hash: str, remote: str | None = None) -> str:
    """Nothing runs; the one inline style block, this origin's media (and the remote
    content's own origin when the asset is an image or video on another site); ``data:``
    pictures for the page's icon, which spares every visit a ``/favicon.ico`` request."""
    extra = f" {remote}" if remote else ""
    return "; ".join((
        "default-src 'none'",
        f"style-src '{style_hash}'",
        f"img-src 'self' data:{extra}",
        f"media-src 'self'{extra}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ))


SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    # The code is the key to the content: no site a visitor goes on to may learn it.
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ("X-Robots-Tag", "noindex, nofollow"),
]


class LandingPages:
    """WSGI middleware answering every request under ``/q/``; the rest goes to ``app``."""

    def __init__(self, app: WSGIApp, runtime: Runtime, base_domain: Callable[[], str]) -> None:
        self._app = app
        self._runtime = runtime
        self._base_domain = base_domain
        self._codes = PublicCodes(runtime.database)
        workers = int(os.environ.get(WORKERS_ENV, "1") or 1) if runtime.is_cloud else 1
        per_minute = share_of(int(runtime.settings["qr_rate_limit"]), workers)
        self.pages_limit = RateLimiter(per_minute)
        self.media_limit = RateLimiter(per_minute * MEDIA_ALLOWANCE)
        # A code's page is the same bytes until its row changes (the Landing is the key):
        # a poster scanned all day is rendered once.
        self._render_page = lru_cache(maxsize=RENDERED_PAGES)(self._render_page_uncached)
        self._render_message = lru_cache(maxsize=16)(self._render_message_uncached)

    @cached_property
    def _templates(self) -> Environment:
        return Environment(loader=FileSystemLoader(str(TEMPLATES)),
                           autoescape=select_autoescape(default=True), auto_reload=False)

    @cached_property
    def _style(self) -> tuple[Markup, str]:
        css = STYLESHEET.read_text(encoding="utf-8")
        digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
        return Markup(css), f"sha256-{digest}"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self._app(environ, start_response)
        started = time.perf_counter()
        code, _, rest = path[len(PREFIX):].partition("/")
        media = rest == "media"
        label = "/q/<code>/media" if media else "/q/<code>"
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            if method not in ("GET", "HEAD"):
                status, headers, body = self._message(405, extra=[("Allow", "GET, HEAD")])
            elif rest and not media:
                status, headers, body = self._message(404)
            else:
                status, headers, body = self._answer(environ, code, media, method)
        except Exception:
            logger.exception("landing page %s failed", path)
            status, headers, body = self._message(500)
        finally:
            database = self._runtime.database
            if not database.is_closed():
                database.close()  # back to the pool, as Flask's teardown would
        if self._runtime.metrics is not None:
            self._runtime.metrics.observe_request(method, label, status,
                                                  time.perf_counter() - started)
        if callable(body):  # a file response: werkzeug sends it (Range, 304, HEAD)
            return body(environ, start_response)
        # ``headers`` may be a cached answer's: a new list, never a changed one.
        start_response(f"{status} {REASONS[status]}",
                       [*headers, ("Content-Length", str(len(body)))])
        if status == 200:  # a kept page: gzip may keep its compressed bytes too
            environ[REUSED_BODY] = True
        return [b""] if method == "HEAD" else [body]

    # -- answers --------------------------------------------------------------
    def _answer(self, environ: dict[str, Any], code: str, media: bool,
                method: str) -> tuple[int, list[tuple[str, str]], Any]:
        address = environ.get("REMOTE_ADDR") or ""
        limiter = self.media_limit if media else self.pages_limit
        retry_after = limiter.hit(address)
        if retry_after is not None:
            return self._message(429, retry_after=retry_after,
                                 extra=[("Retry-After", str(retry_after))])
        scope = self._scope(environ)
        if scope is None:
            return self._message(404)
        count = not media and method == "GET" and not is_prefetch(environ)
        try:
            landing = self._codes.visit(code, scope, self._runtime.clock(), count=count)
        except SharedCodeNotFound:
            return self._message(404)
        except SharedCodeGone:
            return self._message(410)
        if landing.device_id is not None and landing.is_file and media_file(
                landing, self._runtime.media_dir(landing.tenant_id)) is None:
            return self._message(404, key="not_yet")
        if media:
            return self._media(landing)
        if landing.redirect and landing.link:
            return 302, [("Location", landing.link), ("Cache-Control", "no-store"),
                         *SECURITY_HEADERS], b""
        return self._page(landing)

    def _page(self, landing: Landing) -> tuple[int, list[tuple[str, str]], bytes]:
        return self._render_page(landing)

    def _render_page_uncached(self, landing: Landing
                              ) -> tuple[int, list[tuple[str, str]], bytes]:
        css, style_hash = self._style
        kind = landing.kind
        remote = None
        if kind in ("image", "video") and not landing.is_file and landing.link:
            remote = policy_origin(landing.link)
        html = self._templates.get_template("landing/page.html").render(
            landing=landing, kind=kind, css=css, title=landing.title or "Shared content",
            media_url=f"{PREFIX}{landing.code}/media" if landing.is_file else landing.link,
            link_host=urlsplit(landing.link).hostname if landing.link else None)
        return 200, self._headers(style_hash, remote), html.encode()

    def _message(self, status: int, *, retry_after: int = 0,
                 extra: list[tuple[str, str]] | None = None, key: str | int | None = None
                 ) -> tuple[int, list[tuple[str, str]], bytes]:
        status, headers, body = self._render_message(status, retry_after, key)
        return status, [*headers, *(extra or [])], body

    def _render_message_uncached(self, status: int, retry_after: int,
                                 key: str | int | None = None
                                 ) -> tuple[int, list[tuple[str, str]], bytes]:
        css, style_hash = self._style
        heading, text = MESSAGES[status if key is None else key]
        html = self._templates.get_template("landing/message.html").render(
            css=css, heading=heading, text=text.format(retry_after=retry_after))
        return status, self._headers(style_hash), html.encode()

    def _media(self, landing: Landing) -> tuple[int, list[tuple[str, str]], Any]:
        from werkzeug.exceptions import RequestedRangeNotSatisfiable
        from werkzeug.utils import send_file

        path = media_file(landing, self._runtime.media_dir(landing.tenant_id))
        if path is None:
            return self._message(404)
        max_age = MEDIA_MAX_AGE_S
        if landing.expires_at is not None:  # no cache may keep it past the code's expiry
            left = (landing.expires_at - self._runtime.clock()).total_seconds()
            max_age = max(0, min(max_age, int(left)))
        # A device's upload is named by its hash: its type comes from the device's file name.
        mimetype = mimetypes.guess_type(path.name)[0] or mimetypes.guess_type(landing.uri)[0] or (
            "video/mp4" if landing.kind == "video" else "application/octet-stream")

        def respond(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            response = send_file(path, environ, mimetype=mimetype, conditional=False,
                                 etag=True, max_age=max_age)
            size = response.content_length
            try:
                response = response.make_conditional(environ, accept_ranges=True,
                                                      complete_length=size)
            except RequestedRangeNotSatisfiable as exc:
                response.close()  # the file it opened
                response = exc.get_response(environ)
                response.headers["Content-Range"] = f"bytes */{size}"
            response.headers["Accept-Ranges"] = "bytes"
            response.headers.pop("Content-Disposition", None)  # the stored file's name is ours
            for name, value in SECURITY_HEADERS:
                response.headers[name] = value
            response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
            return response(environ, start_response)

        return 200, [], respond

    def _headers(self, style_hash: str, remote: str | None = None) -> list[tuple[str, str]]:
        return [("Content-Type", "text/html; charset=utf-8"),
                ("Cache-Control", "no-store"),
                ("Content-Security-Policy", content_security_policy(style_hash, remote)),
                *SECURITY_HEADERS]

    def _scope(self, environ: dict[str, Any]) -> HostScope | None:
        """Whose codes this host answers for; None when it names no tenant that exists."""
        cloud = self._runtime.is_cloud
        named = host_name(request_host(environ), self._base_domain())
        if named is None:
            return HostScope(cloud=cloud)
        kind, name = named
        if kind == DOMAIN:
            return HostScope(domain=name, cloud=cloud)
        if "." in name or not name:
            return None
        return HostScope(subdomain=name, cloud=cloud)


def policy_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, for the policy; None unless the host is a
    plain name or address (no credentials, no character that could end the directive)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not HOST_NAME.fullmatch(host):
        return None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def request_host(environ: dict[str, Any]) -> str:
    """The host the request names, lower-case, without port or trailing dot (auth/hosts.py)."""
    host = (environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "").lower()
    if host.startswith("[") or "\x00" in host:  # an IPv6 literal names no tenant
        return ""
    return host.rsplit(":", 1)[0].rstrip(".")


def is_prefetch(environ: dict[str, Any]) -> bool:
    """A browser or link preview fetching ahead of a click: no person has seen the page yet."""
    for header in ("HTTP_PURPOSE", "HTTP_SEC_PURPOSE", "HTTP_X_PURPOSE", "HTTP_X_MOZ"):
        value = environ.get(header, "").lower()
        if "prefetch" in value or "preview" in value:
            return True
    return False


def init_landing(app: Any, runtime: Runtime) -> None:
    """Put the landing pages in front of ``app``'s WSGI callable."""
    from anthias_edge.auth.hosts import BASE_DOMAIN_ENV

    def base_domain() -> str:
        value = app.config.get(BASE_DOMAIN_ENV) or runtime.settings.base_domain
        return value.strip().lower().strip(".")

    app.wsgi_app = LandingPages(app.wsgi_app, runtime, base_domain)
