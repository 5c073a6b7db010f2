"""Reading a request body's fields the way DRF parsed them for Anthias.

The legacy family reads every body this way, and v3's legacy proxy reads the v2 body it
forwards the same way, so it lives outside both.
"""

from __future__ import annotations

from typing import Any

from flask import request

from anthias_edge.api import json_input
from anthias_edge.errors import MalformedRequest, UnsupportedMediaType, ValidationError

JSON_TYPE = "application/json"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def body_kind() -> str:
    """How DRF parses this request's body: ``"json"``, ``"form"`` or ``"none"``.

    No body, or a body without a Content-Type, reads as an empty JSON object
    (docs/legacy-api.md §3.4); a body of another type is Anthias's 500 "Unsupported media type".
    """
    mimetype = request.mimetype
    if mimetype in FORM_TYPES:
        return "form"
    if not mimetype:
        return "none"
    if mimetype == JSON_TYPE or mimetype.endswith("+json"):
        return "json"
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if not request.content_length and not chunked:
        return "none"
    raise UnsupportedMediaType(
        f'Unsupported media type "{request.headers.get("Content-Type", "")}" in request.')


def too_deep(exc: json_input.TooDeep) -> ValidationError:
    """A body nested too deeply, refused as DRF refuses invalid data."""
    return ValidationError({"non_field_errors": [str(exc)]})


def read_data() -> dict[str, Any]:
    """The request's fields from JSON, urlencoded or multipart, as DRF parsed them."""
    kind = body_kind()
    if kind == "form":
        return {key: request.form.get(key) for key in request.form}
    if kind == "none":
        return {}
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json_input.loads(raw)
    except json_input.TooDeep as exc:
        raise too_deep(exc) from None
    except ValueError as exc:  # UnicodeDecodeError included
        raise MalformedRequest(f"JSON parse error - {exc}") from exc
    if not isinstance(data, dict):
        kind = {list: "list", str: "str", int: "int", float: "float", bool: "bool"}.get(
            type(data), type(data).__name__)
        raise ValidationError(
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]})
    return data
