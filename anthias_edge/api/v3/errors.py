"""The v3 error body, ``{"error": {"code", "message", "details"}}``, with honest statuses.

``api/error_handling.py`` calls these for every URL under ``/api/v3/``, matched or not.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from anthias_edge.errors import AnthiasError, TooManyAttempts

PREFIX = "/api/v3/"
BEARER_CHALLENGE = 'Bearer realm="anthias-edge"'

# Werkzeug's routing and protocol errors, as v3 codes.
HTTP_CODES = {
    400: ("bad_request", "The request could not be understood."),
    404: ("not_found", "No such URL in API v3."),
    405: ("method_not_allowed", "That method is not allowed on this URL."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the body as application/json."),
}


def is_v3_path(path: str) -> bool:
    """True for URLs that answer with the v3 error body."""
    return path.startswith(PREFIX) or path == PREFIX.rstrip("/")


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The one v3 error shape."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> Response:
    """A JSON error response; every 401 carries a Bearer challenge."""
    response = Response(json.dumps(error_body(code, message, details), separators=(",", ":")),
                        status=status, content_type="application/json")
    if status == 401:
        response.headers["WWW-Authenticate"] = BEARER_CHALLENGE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def domain_error(exc: AnthiasError) -> Response:
    """A domain error as v3 answers it (429 tells the client when to retry)."""
    headers = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after)
    return error_response(exc.status, exc.code, exc.message, exc.details, headers)


def http_error(status: int, valid_methods: list[str] | None = None) -> Response:
    """A routing or protocol error (unknown URL, wrong method, ...) in the v3 shape."""
    code, message = HTTP_CODES.get(status, ("http_error", "The request failed."))
    headers = {"Allow": ", ".join(sorted(valid_methods))} if valid_methods else None
    return error_response(status, code, message, None, headers)


def unexpected_error() -> Response:
    """A generic 500; the traceback goes to the log, never to the client."""
    return error_response(500, "internal_error", "Internal error.")
