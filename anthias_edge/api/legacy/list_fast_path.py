"""Answer the polled asset list straight from the render cache, in front of Flask.

``GET /api/<v>/assets`` is what scripts and dashboards poll, and on a Pi the
request machinery costs more than the answer. When the list is already
rendered and current, this WSGI middleware sends the very bytes the Flask view
would send (same body, Content-Type and ETag), after the same Basic-auth check.
Anything else — another URL, a query string, HTML, a session cookie, a
conditional request, a failed or missing credential, an address with failed
logins on record (the throttle's business), cloud mode, a stale cache — goes
to Flask unchanged, which renders, refuses, throttles or builds the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from anthias_edge.auth.throttling import clean_and_correct
from anthias_edge.compression import REUSED_BODY
from anthias_edge.runtime import Runtime
from anthias_edge.settings import auth_enabled

# path -> (the version's suffix in ``asset_list_key``, route label used by the metrics)
LIST_PATHS = {
    "/api/v1/assets": ("V1", "/api/v1/assets"),
    "/api/v1.1/assets": ("V1_1", "/api/v1.1/assets"),
    "/api/v1.2/assets": ("V1_2", "/api/v1.2/assets"),
    "/api/v2/assets": ("V2", "/api/v2/assets"),
}
JSON_ACCEPTS = ("", "*/*", "application/json")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def asset_list_key(suffix: str, tenant_id: str, zone_file: str) -> tuple[str, str, str]:
    """The render-cache key of one version's asset list: the Flask view fills it, we read it.

    The zone file is part of it because the list shows dates in the device's time zone.
    """
    return (suffix, tenant_id, zone_file)


class ListFastPath:
    """WSGI middleware serving current cached asset lists without entering Flask."""

    def __init__(self, app: WSGIApp, runtime: Runtime, session_cookie: str) -> None:
        self._app = app
        self._runtime = runtime
        self._session_cookie = session_cookie

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        started = time.perf_counter()
        route = LIST_PATHS.get(environ.get("PATH_INFO", ""))
        # The cloud has no device tenant to serve: its lists go through tenant auth in Flask.
        if route is None or self._runtime.is_cloud or not self._plain_request(environ):
            return self._app(environ, start_response)
        runtime = self._runtime
        settings = runtime.settings
        protected = auth_enabled(settings)
        suffix, label = route
        database = runtime.database
        cached = None
        try:
            if not protected or clean_and_correct(environ.get("HTTP_AUTHORIZATION"), runtime,
                                                  environ.get("REMOTE_ADDR")):
                key = asset_list_key(suffix, runtime.local_tenant_id, runtime.zone_file)
                cached = runtime.render_cache.peek(key, runtime.clock())
        finally:
            if not database.is_closed():
                database.close()  # back to the pool, as Flask's teardown would
        if cached is None:
            return self._app(environ, start_response)
        body, etag = cached
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if suffix == "V2":
            headers.append(("ETag", f'"{etag}"'))
        if protected:  # Flask consulted the session cookie for this answer, and says so
            headers.append(("Vary", "Cookie"))
        environ[REUSED_BODY] = True  # the same bytes object each time: gzip it once
        start_response("200 OK", headers)
        if runtime.metrics is not None:
            runtime.metrics.observe_request("GET", label, 200, time.perf_counter() - started)
        return [body]

    def _plain_request(self, environ: dict[str, Any]) -> bool:
        return (environ.get("REQUEST_METHOD") == "GET"
                and not environ.get("QUERY_STRING")
                and environ.get("HTTP_ACCEPT", "") in JSON_ACCEPTS
                and "HTTP_IF_NONE_MATCH" not in environ
                and self._session_cookie not in environ.get("HTTP_COOKIE", "")
                and not self._runtime.is_cloud)
