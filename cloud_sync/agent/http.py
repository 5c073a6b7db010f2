"""The agent's HTTP client for the hub: signed requests, timeouts, and failures in plain words.

Every answer is classified here once: 2xx/304 come back as ``Answer``; 429 and 5xx, a refused
or reset connection, a timeout and an answer cut short raise ``CloudUnreachable`` (retry later);
any other 4xx raises ``CloudRefused`` with the hub's v3 error code. A whole answer must arrive
within ``Timeouts.total_s``, so a hub that trickles bytes cannot hold the agent forever.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anthias_edge import __version__
from cloud_sync.agent.backoff import parse_retry_after
from cloud_sync.agent.errors import CloudRefused, CloudUnreachable
from cloud_sync.protocol import sign_request

USER_AGENT = f"anthias-edge-sync/{__version__}"
MAX_ANSWER_BYTES = 16 * 1024 * 1024
READ_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Timeouts:
    """How long to wait to connect, between two reads, and for a whole answer, in seconds."""

    connect_s: float = 10.0
    read_s: float = 30.0
    total_s: float = 120.0


@dataclass(frozen=True)
class Signer:
    """What signs this device's requests: its id and private key."""

    device_id: str
    private_key: Ed25519PrivateKey

    def header(self, method: str, path_with_query: str, body: bytes) -> str:
        """The ``Authorization`` value for one request."""
        return sign_request(self.private_key, self.device_id, method, path_with_query, body)


@dataclass
class Answer:
    """A successful (2xx or 304) answer of the hub."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def json(self) -> Any:
        """The body as JSON; an unreadable body counts as a failed request (retried)."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise CloudUnreachable("its answer could not be read") from None


def encode_json(value: Any) -> bytes:
    """The exact bytes sent (and hashed into the signature) for a JSON body."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class HubClient:
    """One cloud's hub, over one keep-alive session; ``signer`` is None before linking."""

    def __init__(self, cloud_url: str, signer: Signer | None = None,
                 timeouts: Timeouts | None = None) -> None:
        """``cloud_url`` is the cloud's base address, e.g. ``https://cloud.example.com``."""
        self.cloud_url = cloud_url.rstrip("/")
        self.signer = signer
        self.timeouts = timeouts or Timeouts()
        self._base_path = urlsplit(self.cloud_url).path
        self._session = requests.Session()
        self._session.headers["User-Agent"] = USER_AGENT

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, *, json_body: Any = None, data: bytes | None = None,
             headers: Mapping[str, str] | None = None, signed: bool = True) -> Answer:
        """Send one request to ``path`` (below the cloud URL, starting with ``/``)."""
        body = encode_json(json_body) if json_body is not None else (data or b"")
        sent = dict(headers or {})
        if json_body is not None:
            sent["Content-Type"] = "application/json"
        if signed:
            if self.signer is None:
                raise RuntimeError("a signed request needs the device's key")
            sent["Authorization"] = self.signer.header(method, self._base_path + path, body)
        deadline = time.monotonic() + self.timeouts.total_s
        try:
            response = self._session.request(
                method, self.cloud_url + path, data=body if body or method != "GET" else None,
                headers=sent, stream=True, allow_redirects=False,
                timeout=(self.timeouts.connect_s, self.timeouts.read_s))
            with response:
                content = b"".join(self._read(response, deadline))
        except requests.RequestException as exc:
            raise CloudUnreachable(reason_of(exc, self.timeouts)) from exc
        return self._classify(response, content)

    def _read(self, response: requests.Response, deadline: float) -> Iterator[bytes]:
        size = 0
        for chunk in response.iter_content(READ_CHUNK):
            size += len(chunk)
            if size > MAX_ANSWER_BYTES:
                raise CloudUnreachable("its answer was far larger than expected")
            if time.monotonic() > deadline:
                raise CloudUnreachable(
                    f"its answer took longer than {self.timeouts.total_s:g} s")
            yield chunk

    @staticmethod
    def _classify(response: requests.Response, content: bytes) -> Answer:
        status = response.status_code
        if status == 429 or status >= 500:
            what = "it asked to slow down" if status == 429 else "it answered with a server error"
            raise CloudUnreachable(f"{what}, HTTP {status}",
                                   retry_after_s=parse_retry_after(
                                       response.headers.get("Retry-After")))
        if 200 <= status < 300 or status == 304:
            return Answer(status, response.headers, content)
        raise refusal(status, content)


def refusal(status: int, content: bytes) -> CloudRefused:
    """A 3xx/4xx answer as ``CloudRefused``, with the v3 error body's code when there is one."""
    try:
        error = json.loads(content)["error"]
        code, message = str(error["code"]), str(error["message"])
        return CloudRefused(status, code, message, error.get("details"))
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        pass
    if 300 <= status < 400:
        return CloudRefused(status, f"http_{status}",
                            f"The cloud address redirects elsewhere (HTTP {status}); "
                            "give the address it redirects to.")
    return CloudRefused(status, f"http_{status}",
                        f"The cloud answered HTTP {status}; check the cloud address.")


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every exception it wraps (requests and urllib3 nest them deeply)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        nested = [current.__cause__, current.__context__, getattr(current, "reason", None),
                  *current.args]
        stack.extend(item for item in nested if isinstance(item, BaseException))


def reason_of(exc: BaseException, timeouts: Timeouts) -> str:
    """Why a request failed, in plain words: ``connection refused``, ``no answer within 30 s``."""
    causes = list(_causes(exc))
    if isinstance(exc, CloudUnreachable):
        return exc.reason
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {timeouts.connect_s:g} s"
    if isinstance(exc, requests.ReadTimeout) or any(
            type(c).__name__ == "ReadTimeoutError" for c in causes):
        return f"no answer within {timeouts.read_s:g} s"
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "its address could not be found"
        if isinstance(cause, ssl.SSLError):
            return "its certificate could not be verified"
        if isinstance(cause, http.client.RemoteDisconnected):
            return "it closed the connection without answering"
        if type(cause).__name__ == "IncompleteRead":  # http.client's and urllib3's
            return "the answer was cut off"
        if isinstance(cause, ConnectionResetError | BrokenPipeError):
            return "the connection was reset"
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "the answer was cut off"
    return "the connection failed"
