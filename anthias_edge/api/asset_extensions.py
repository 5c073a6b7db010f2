"""The v2 extension fields Anthias added in 2025-2026, which v3 accepts too.

They are listed in docs/legacy-api.md §13.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from anthias_edge.api import json_input
from anthias_edge.api.json_input import has_surrogate
from anthias_edge.errors import ValidationError
from anthias_edge.play_windows import parse_clock
from anthias_edge.settings import printable_text

TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
MAX_HEADERS = 20
MAX_REFRESH_S = 86400
BOOLEAN_EXTENSIONS = ("skip_ssl_verify",)


def _maybe_json(value: Any) -> Any:
    """Form bodies carry lists and objects as JSON text."""
    if isinstance(value, str):
        try:
            return json_input.loads(value)
        except (ValueError, json_input.TooDeep):
            return value  # refused below as the wrong type
    return value


def _play_days(value: Any) -> list[int]:
    value = _maybe_json(value)
    if not isinstance(value, list):
        raise ValueError(f'Expected a list of items but got type "{type(value).__name__}".')
    if not value:
        raise ValueError("play_days may not be empty; disable the asset instead.")
    days = set()
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= 7:
            shown = printable_text(str(item))
            raise ValueError(f"Invalid day: {shown}. Must be 1 (Mon) - 7 (Sun).")
        days.add(item)
    return sorted(days)


def _clock(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or has_surrogate(value):
        raise ValueError("Use the format HH:MM:SS.")
    parsed = parse_clock(value)
    return parsed.strftime("%H:%M:%S") if parsed else None


def _refresh(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("A valid integer is required.")
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValueError("A valid integer is required.") from exc
    if not 0 <= number <= MAX_REFRESH_S:
        raise ValueError(f"Must be between 0 and {MAX_REFRESH_S} seconds.")
    return number


def _headers(value: Any) -> dict[str, str]:
    value = _maybe_json(value)
    if not isinstance(value, dict):
        raise ValueError("Must be an object of header names to values.")
    if len(value) > MAX_HEADERS:
        raise ValueError(f"At most {MAX_HEADERS} custom headers are allowed.")
    for name, text in value.items():
        if not TOKEN.match(name):
            raise ValueError(f'"{printable_text(name)}" is not a valid header name.')
        # NUL and lone surrogates cannot be stored or sent in a header either.
        if (not isinstance(text, str) or "\r" in text or "\n" in text or "\x00" in text
                or has_surrogate(text)):
            raise ValueError(f'The value of "{name}" must be text without line breaks.')
    return dict(value)


CONVERTERS = {
    "play_days": _play_days,
    "play_time_from": _clock,
    "play_time_to": _clock,
    "refresh_interval_s": _refresh,
    "custom_headers": _headers,
}


def read_extensions(data: Mapping[str, Any], current: Mapping[str, Any] | None) -> dict[str, Any]:
    """Validate the extension fields present in ``data``.

    ``current`` holds the stored window, so a PATCH of one end is checked with the other.
    """
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, convert in CONVERTERS.items():
        if name in data:
            try:
                values[name] = convert(data[name])
            except ValueError as exc:
                errors[name] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    window = {k: (current or {}).get(k) for k in ("play_time_from", "play_time_to")}
    window.update({k: v for k, v in values.items() if k in window})
    if (window["play_time_from"] is None) != (window["play_time_to"] is None):
        raise ValidationError(
            {"play_time_from": ["play_time_from and play_time_to must be set together."]})
    if window["play_time_from"] is not None and window["play_time_from"] == window["play_time_to"]:
        raise ValidationError(
            {"play_time_to": ["play_time_to must differ from play_time_from."]})
    return values
