"""gzip for clients that ask for it, as WSGI middleware around the whole server.

A response is compressed when the request's ``Accept-Encoding`` allows gzip (q-values
honoured), it is text, JSON, JavaScript, XML or SVG, it states its length and that length
is at least ``MIN_BYTES``. A client that does not ask gets exactly the bytes it got before.
Never compressed: HEAD (answered as for a client that did not ask), ``Range`` requests and
206 answers (so video seeking keeps working), media and archives (by type), answers that
stream without a length, 204 and 304.

The compressed variant is a different representation, so its ETag gets a ``-gzip`` suffix;
a conditional request naming that tag is passed in with the suffix removed, so the app's own
304 logic keeps working. Both variants say ``Vary: Accept-Encoding``.

Compressing the 1,000-asset list (500 kB) costs about 2.5 ms, so the compressed bytes of
bodies the app hands out again and again are kept: by path and strong ETag (static files, the
v2 list, whose ETag is its body's hash), or a body object the app marked as one it sends
again (``REUSED_BODY`` in the WSGI environ: the cached v1 lists, which have no ETag).
"""

from __future__ import annotations

import gzip
import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

MIN_BYTES = 1024
MAX_BYTES = 8 * 1024 * 1024  # larger answers go out as they are rather than be held in memory
LEVEL = 6
SUFFIX = "-gzip"
KEEP_BYTES = 4 * 1024 * 1024  # what the kept compressed bodies (and their sources) may hold
# Set in the WSGI environ by code that answers with a body object it keeps and sends again.
REUSED_BODY = "anthias_edge.reused_body"
COMPRESSIBLE_PREFIXES = ("text/", "application/json", "application/javascript",
                         "application/xml", "application/manifest+json", "image/svg+xml",
                         "application/problem+json", "application/schema+json")
NEVER = ("text/event-stream",)
SKIPPED_STATUSES = ("204", "206", "304")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
Headers = list[tuple[str, str]]


def accepts_gzip(header: str | None) -> bool:
    """Whether an ``Accept-Encoding`` value allows gzip (RFC 9110 §12.5.3)."""
    if not header:
        return False
    explicit: float | None = None
    wildcard: float | None = None
    for item in header.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        quality = _quality(params)
        if coding in ("gzip", "x-gzip"):
            explicit = quality if explicit is None else max(explicit, quality)
        elif coding == "*":
            wildcard = quality
    if explicit is not None:
        return explicit > 0
    return wildcard is not None and wildcard > 0


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0 <= quality <= 1 else 0.0
    return 1.0


def gzip_etag(etag: str) -> str:
    """The compressed variant's entity tag: ``"x"`` -> ``"x-gzip"``, weak ones stay weak."""
    if etag.endswith('"'):
        return etag[:-1] + SUFFIX + '"'
    return etag + SUFFIX


def identity_tags(header: str) -> str:
    """``If-None-Match`` with the gzip suffix taken off each tag, for the app to compare."""
    return header.replace(SUFFIX + '"', '"')


def _without(headers: Headers, *names: str) -> Headers:
    lowered = {name.lower() for name in names}
    return [(key, value) for key, value in headers if key.lower() not in lowered]


def _with_vary(headers: Headers, named: dict[str, str]) -> Headers:
    vary = named.get("vary")
    if vary is None:
        return [*headers, ("Vary", "Accept-Encoding")]
    if "accept-encoding" in vary.lower() or vary.strip() == "*":
        return headers
    return [*_without(headers, "Vary"), ("Vary", f"{vary}, Accept-Encoding")]


def _eligible(status: str, named: dict[str, str]) -> bool:
    """Whether this answer would be compressed for a client that asks.

    ``named``: the answer's headers by lower-case name.
    """
    if status[:3] in SKIPPED_STATUSES or status[:1] == "1":
        return False
    if "content-encoding" in named or "content-range" in named:
        return False
    kind = named.get("content-type", "").lower()
    if not kind.startswith(COMPRESSIBLE_PREFIXES) or kind.startswith(NEVER):
        return False
    if "no-transform" in named.get("cache-control", "").lower():
        return False
    length = named.get("content-length", "")
    return length.isdigit() and MIN_BYTES <= int(length) <= MAX_BYTES


class _Kept:
    """Compressed bodies kept by source identity or by (path, ETag), least recent out first."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._used = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[Any, tuple[Any, bytes, int]] = OrderedDict()

    def get(self, key: Any, source: Any) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or (source is not None and found[0] is not source):
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: Any, source: Any, compressed: bytes, size: int) -> None:
        cost = len(compressed) + (size if source is not None else 0)
        if cost > self._budget:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._used -= old[2]
            self._entries[key] = (source, compressed, cost)
            self._used += cost
            while self._used > self._budget:
                _, (_, _, freed) = self._entries.popitem(last=False)
                self._used -= freed


class GzipMiddleware:
    """Compress eligible answers for clients that accept gzip (see the module docstring)."""

    def __init__(self, app: WSGIApp, keep_bytes: int = KEEP_BYTES) -> None:
        self.app = app  # the wrapped application, public as in ProxyFix
        self._kept = _Kept(keep_bytes)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        method = environ.get("REQUEST_METHOD", "GET")
        wanted = (accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING"))
                  and "HTTP_RANGE" not in environ)
        asked_for_variant = False
        if wanted and method != "HEAD":
            conditional = environ.get("HTTP_IF_NONE_MATCH")
            if conditional and SUFFIX + '"' in conditional:
                environ["HTTP_IF_NONE_MATCH"] = identity_tags(conditional)
                asked_for_variant = True
        captured: dict[str, Any] = {}
        written: list[bytes] = []

        def capture(status: str, headers: Headers, exc_info: Any = None) -> Callable[[bytes],
                                                                                     None]:
            if exc_info is not None and captured:
                raise exc_info[1].with_traceback(exc_info[2])
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return written.append

        body = self.app(environ, capture)
        if not captured:  # an app may call start_response when its body is first iterated
            body = _Started(body)
        status, headers = captured["status"], list(captured["headers"])
        exc_info = captured["exc_info"]
        named = {name.lower(): value for name, value in headers}
        if status.startswith("304"):
            etag = named.get("etag")
            if asked_for_variant and etag is not None:
                headers = _with_vary([*_without(headers, "ETag"), ("ETag", gzip_etag(etag))],
                                     named)
            start_response(status, headers, exc_info)
            return self._replay(written, body)
        if not _eligible(status, named):
            start_response(status, headers, exc_info)
            return self._replay(written, body)
        if not wanted or method == "HEAD":
            start_response(status, _with_vary(headers, named), exc_info)
            return self._replay(written, body)
        compressed = self._compress(environ, named.get("etag"), written, body)
        headers = _without(headers, "Content-Length", "Accept-Ranges", "ETag")
        if "etag" in named:
            headers.append(("ETag", gzip_etag(named["etag"])))
        headers = _with_vary([*headers, ("Content-Encoding", "gzip"),
                              ("Content-Length", str(len(compressed)))], named)
        start_response(status, headers, exc_info)
        return [compressed]

    def _compress(self, environ: dict[str, Any], etag: str | None, written: list[bytes],
                  body: Iterable[bytes]) -> bytes:
        chunks = list(written)
        try:
            chunks.extend(body)
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
        if etag is not None and not etag.startswith("W/"):
            # A strong ETag names these very bytes (a static file, a list's body hash).
            key, source = ("tag", environ.get("SCRIPT_NAME", ""),
                           environ.get("PATH_INFO", ""), etag), None
        elif len(chunks) == 1 and environ.get(REUSED_BODY):
            key, source = ("body", id(chunks[0])), chunks[0]  # held, so its id stays its own
        else:
            key = source = None
        if key is not None:
            found = self._kept.get(key, source)
            if found is not None:
                return found
        data = b"".join(chunks)
        compressed = gzip.compress(data, compresslevel=LEVEL, mtime=0)
        if key is not None:
            self._kept.put(key, source, compressed, len(data))
        return compressed

    @staticmethod
    def _replay(written: list[bytes], body: Iterable[bytes]) -> Iterable[bytes]:
        if not written:
            return body
        return _Prepended(written, body)


class _Started:
    """A body whose first item was taken to make its app call start_response."""

    def __init__(self, body: Iterable[bytes]) -> None:
        self._body = body
        self._iterator = iter(body)
        self._first = list(itertools.islice(self._iterator, 1))

    def __iter__(self):
        yield from self._first
        yield from self._iterator

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


class _Prepended:
    """What the app wrote through ``write()`` and then its iterable, closed as WSGI asks."""

    def __init__(self, first: list[bytes], rest: Iterable[bytes]) -> None:
        self._first = first
        self._rest = rest

    def __iter__(self):
        yield from self._first
        yield from self._rest

    def close(self) -> None:
        close = getattr(self._rest, "close", None)
        if close is not None:
            close()
