"""Flask side of HTTP Basic auth: the 401 and 503 answers of legacy-api.md 6.2."""

from __future__ import annotations

from flask import Response, request

from anthias_edge.auth.basic import auth_enabled, check_basic_auth
from anthias_edge.settings import Settings


def basic_auth_challenge(settings: Settings) -> Response | None:
    """None when the request may go on; otherwise Anthias's exact refusal."""
    if not auth_enabled(settings):
        return None
    result = check_basic_auth(request.headers.get("Authorization"), settings)
    if result.ok:
        return None
    return Response(result.body, status=result.status, headers=result.headers)
