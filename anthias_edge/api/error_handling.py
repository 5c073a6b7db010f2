"""Turn every failure into the error body of the API version its URL belongs to.

Blueprint error handlers never see URLs that match no route, so the choice is
made here, at app level, by URL prefix (STYLE.md "Errors").
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from anthias_edge.api import json_input
from anthias_edge.api.v3 import errors as v3_errors
from anthias_edge.errors import AnthiasError, MethodNotAllowed, ValidationError

logger = logging.getLogger(__name__)

LEGACY_PREFIXES = ("/api/v1/", "/api/v1.1/", "/api/v1.2/", "/api/v2/")

# Django's debug-off 404 page, which Anthias clients and browsers get (docs/legacy-api.md §1.4).
NOT_FOUND_PAGE = (
    "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n"
    "  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n"
    "</body>\n</html>\n"
)


def is_legacy_path(path: str) -> bool:
    """True for URLs under a v1-v2 prefix, which answer in Anthias's error shape."""
    return path.startswith(LEGACY_PREFIXES)


def legacy_error(exc: AnthiasError) -> Response:
    """Anthias's shapes: 400 with field errors, else 500 ``{"error": message}``
    (docs/legacy-api.md Q0)."""
    if isinstance(exc, ValidationError):
        body, status = exc.field_errors, 400
    else:
        body, status = {"error": exc.message}, 500
    return Response(json_input.dumps(body), status=status, content_type="application/json")


def generic_error(exc: AnthiasError) -> Response:
    """The shape used outside the legacy API: ``{"error": {"code", "message", "details"}}``."""
    body = {"error": {"code": exc.code, "message": exc.message, "details": exc.details}}
    return Response(json.dumps(body, separators=(",", ":")), status=exc.status,
                    content_type="application/json")


def _handle_domain_error(exc: AnthiasError) -> Response:
    if v3_errors.is_v3_path(request.path):
        return v3_errors.domain_error(exc)
    if is_legacy_path(request.path):
        return legacy_error(exc)
    return generic_error(exc)


def _handle_http_error(exc: HTTPException) -> Response:
    if v3_errors.is_v3_path(request.path):
        return v3_errors.http_error(exc.code or 500, getattr(exc, "valid_methods", None))
    if exc.code == 404:
        return Response(NOT_FOUND_PAGE, status=404, content_type="text/html")
    if exc.code == 405 and is_legacy_path(request.path):
        return legacy_error(MethodNotAllowed(request.method))
    if exc.code == 413 and is_legacy_path(request.path):
        return legacy_error(AnthiasError("Request body is too large (the limit is 4 GiB)."))
    return exc.get_response()


def _handle_unexpected(exc: Exception) -> Response:
    # The traceback goes to the log only: an exception's text can name server paths, SQL or
    # database messages. Anthias put it in the body; clients only need the status and shape.
    logger.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    if v3_errors.is_v3_path(request.path):
        return v3_errors.unexpected_error()
    if is_legacy_path(request.path):
        return legacy_error(AnthiasError())
    return generic_error(AnthiasError())


def register_error_handlers(app: Flask) -> None:
    """Install the three handlers on the app."""
    app.register_error_handler(AnthiasError, _handle_domain_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)
