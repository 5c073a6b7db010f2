"""A legacy version's blueprint: OPTIONS metadata and Basic auth before every view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, g, request

from anthias_edge.api.legacy.http import options_metadata, view_name
from anthias_edge.auth.guard import basic_auth_challenge
from anthias_edge.runtime import current_runtime


def legacy_tenant_id() -> str | None:
    """The tenant legacy routes act on: set by cloud auth, else None (the device's own)."""
    return g.get("tenant_id")


def make_blueprint(name: str, url_prefix: str) -> Blueprint:
    """A blueprint whose views answer OPTIONS openly and require auth otherwise
    (docs/legacy-api.md §6.1)."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)

    @bp.before_request
    def _options_and_auth() -> Any:
        if request.routing_exception is not None:
            return None  # the method check comes before auth (docs/legacy-api.md §6.1)
        view = current_app.view_functions.get(request.endpoint or "")
        if request.method == "OPTIONS" and view is not None:
            return options_metadata(view_name(view))
        if current_runtime().is_cloud:
            from anthias_edge.auth.cloud_legacy import authenticate_cloud_legacy

            return authenticate_cloud_legacy()
        return basic_auth_challenge(current_runtime().settings)

    return bp


def named(class_name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a view the DRF class name Anthias used, for OPTIONS and the browsable page."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func.legacy_view_name = class_name  # type: ignore[attr-defined]
        return func

    return decorate
