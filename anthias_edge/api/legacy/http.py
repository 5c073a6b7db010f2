"""Reading legacy requests and writing legacy responses the way DRF did for Anthias."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request

from anthias_edge.api import json_input
from anthias_edge.api.request_body import body_kind, too_deep
from anthias_edge.errors import MalformedRequest, NotAcceptable, ValidationError

JSON_TYPE = "application/json"
RENDERS = ["application/json", "text/html"]
PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]


def dumps(data: Any) -> str:
    """Compact UTF-8 JSON as DRF renders it."""
    text = json_input.dumps(data)
    # DRF escapes these two so the JSON is also valid JavaScript.
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def wants_html() -> bool:
    """DRF's negotiation between JSON and the browsable page; raise when neither fits."""
    accept = request.headers.get("Accept", "")
    if accept in ("", "*/*", JSON_TYPE) and "format" not in request.args:
        return False  # what scripts send: skip the parsing
    types = [part.split(";", 1)[0].strip().lower() for part in accept.split(",") if part.strip()]
    forced = request.args.get("format")
    if forced == "json":
        if types and not any(t in (JSON_TYPE, "application/*", "*/*") for t in types):
            raise NotAcceptable()
        return False
    if not types:
        return False
    if "text/html" in types:
        return True
    if any(t in (JSON_TYPE, "application/*", "*/*") for t in types):
        return False
    if "text/*" in types:
        return True
    raise NotAcceptable()


def _current_view_name() -> str:
    view = current_app.view_functions.get(request.endpoint or "")
    return view_name(view) if view is not None else ""


def render(data: Any, status: int = 200, *, title: str = "") -> Response:
    """JSON (compact, UTF-8) or DRF's browsable HTML page, chosen by the Accept header.

    :param title: the page heading; by default the DRF name of the view being served.
    """
    body = dumps(data)
    if request.method != "HEAD" and wants_html():
        pretty = html.escape(json.dumps(data, indent=4, ensure_ascii=False))
        title = html.escape(title or _current_view_name())
        page = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}"
                f" - Anthias Edge API</title></head><body><h1>{title}</h1>"
                f"<pre>HTTP {status}\nContent-Type: application/json\n\n{pretty}</pre>"
                "</body></html>")
        return Response(page, status=status, content_type="text/html; charset=utf-8")
    return Response(body, status=status, content_type=JSON_TYPE)


def render_body(body: bytes, status: int = 200) -> Response:
    """Like ``render`` for a JSON body that is already encoded (the cached list)."""
    if request.method != "HEAD" and wants_html():
        return render(json.loads(body), status)
    return Response(body, status=status, content_type=JSON_TYPE)


def empty(status: int) -> Response:
    """An empty body with no Content-Type header (204s, reboot and shutdown)."""
    response = Response(b"", status=status)
    response.headers.pop("Content-Type", None)
    return response


def error_body(status: int, message: str) -> Response:
    """``{"error": message}``: the legacy error shape."""
    return Response(dumps({"error": message}), status=status, content_type=JSON_TYPE)


def read_model() -> dict[str, Any]:
    """The v1/v1.1 ``model`` wrapper: a JSON string in the body or in a ``model`` field
    (docs/legacy-api.md §3.2)."""
    if body_kind() == "none":  # DRF parsed nothing, so Anthias found no model
        raise MalformedRequest("'model'")
    raw = request.get_data(cache=True)
    try:
        whole = json_input.loads(raw) if raw.strip() else None
    except json_input.TooDeep as exc:
        raise too_deep(exc) from None
    except ValueError:
        whole = None
    if isinstance(whole, str):
        text = whole
    else:
        source = whole if isinstance(whole, dict) else request.form
        if "model" not in source:
            raise MalformedRequest("'model'")
        text = source["model"]
    try:
        model = json_input.loads(text)
    except json_input.TooDeep as exc:
        raise too_deep(exc) from None
    except (TypeError, ValueError) as exc:
        raise MalformedRequest(str(exc)) from exc
    if not isinstance(model, dict):
        raise ValidationError(
            {"non_field_errors": [
                f"Invalid data. Expected a dictionary, but got {type(model).__name__}."]})
    return model


def view_name(func: Callable[..., Any]) -> str:
    """DRF's view name from a class name: ``AssetListViewV2`` → ``Asset List View V2``.

    DRF also splits on ``_`` and title-cases, so ``AssetViewV1_2`` → ``Asset View V1 2``.
    """
    name = getattr(func, "legacy_view_name", func.__name__)
    spaced = re.sub(r"(((?<=[a-z])[A-Z])|([A-Z](?![A-Z]|$)))", r" \1", name).strip()
    return " ".join(spaced.split("_")).title()


def options_metadata(name: str) -> Response:
    """DRF's answer to OPTIONS, served without authentication (docs/legacy-api.md §1.3)."""
    return render({"name": name, "description": "", "renders": RENDERS, "parses": PARSES})
