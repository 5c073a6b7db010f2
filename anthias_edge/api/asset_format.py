"""The asset as each API version shows it (docs/legacy-api.md §2.1 and §13), and its JSON schema.

Shared by the legacy family (v1 to v2) and v3, which builds on the v2 asset, so neither
imports the other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import peewee

from anthias_edge.api import asset_extensions
from anthias_edge.models import Asset
from anthias_edge.models.base import JSONTextField
from anthias_edge.play_windows import is_active
from anthias_edge.timeutil import format_datetime

_CLOCK = {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "nullable": True}
# The converters in api/asset_extensions.py are functions; this is what each accepts.
EXTENSION_SCHEMAS: dict[str, dict[str, Any]] = {
    "play_days": {"type": "array", "minItems": 1, "uniqueItems": True,
                  "items": {"type": "integer", "minimum": 1, "maximum": 7},
                  "description": "ISO weekdays, 1 (Mon) to 7 (Sun)."},
    "play_time_from": {**_CLOCK, "description": "Daily start, HH:MM:SS; set with play_time_to."},
    "play_time_to": {**_CLOCK, "description": "Daily end, HH:MM:SS; may wrap past midnight."},
    "refresh_interval_s": {"type": "integer", "minimum": 0,
                           "maximum": asset_extensions.MAX_REFRESH_S},
    "custom_headers": {"type": "object", "maxProperties": asset_extensions.MAX_HEADERS,
                       "additionalProperties": {"type": "string"}},
}


# Every column v1_asset and v2_asset read, is_active's included. The asset list selects only
# these (api/asset_list_render.py); tests/api/test_asset_list_render.py fails when a formatter
# reads another one.
SHOWN_COLUMNS = (
    "asset_id", "name", "uri", "start_date", "end_date", "duration", "mimetype", "is_enabled",
    "nocache", "play_order", "skip_asset_check", "is_processing", "play_days", "play_time_from",
    "play_time_to", "skip_ssl_verify", "refresh_interval_s", "custom_headers", "is_reachable",
    "last_reachability_check", "metadata",
)


def _duration_text(duration: int | None) -> str | None:
    return None if duration is None else str(duration)


def _flag_number(value: Any) -> int:
    return int(bool(value))


def _as_stored(value: Any) -> Any:
    return value


def _anthias_fields(asset: Asset, now: dt.datetime, zone: dt.tzinfo, *,
                    flag: Callable[[Any], Any], duration: Callable[[Any], Any],
                    with_window: bool) -> dict[str, Any]:
    """Anthias's thirteen asset fields in its order; ``flag`` and ``duration`` type them."""
    return {
        "asset_id": asset.asset_id,
        "name": asset.name,
        "uri": asset.uri,
        "start_date": format_datetime(asset.start_date, zone),
        "end_date": format_datetime(asset.end_date, zone),
        "duration": duration(asset.duration),
        "mimetype": asset.mimetype,
        "is_enabled": flag(asset.is_enabled),
        "nocache": flag(asset.nocache),
        "play_order": asset.play_order,
        "skip_asset_check": flag(asset.skip_asset_check),
        "is_active": flag(is_active(asset, now, zone, with_window=with_window)),
        "is_processing": flag(asset.is_processing),
    }


def v1_asset(asset: Asset, now: dt.datetime, zone: dt.tzinfo) -> dict[str, Any]:
    """v1, v1.1 and v1.2: duration as text, flags as 0/1, no day/time window."""
    return _anthias_fields(asset, now, zone, flag=_flag_number, duration=_duration_text,
                           with_window=False)


def v2_asset(asset: Asset, now: dt.datetime, zone: dt.tzinfo) -> dict[str, Any]:
    """v2: integer duration, boolean flags, and the 2025-2026 extension fields."""
    fields = _anthias_fields(asset, now, zone, flag=bool, duration=_as_stored,
                             with_window=True)
    fields.update({
        "play_days": asset.play_days,
        "play_time_from": asset.play_time_from,
        "play_time_to": asset.play_time_to,
        "skip_ssl_verify": bool(asset.skip_ssl_verify),
        "refresh_interval_s": asset.refresh_interval_s,
        "custom_headers": asset.custom_headers,
        "is_reachable": bool(asset.is_reachable),
        "last_reachability_check": format_datetime(asset.last_reachability_check, zone),
        "metadata": asset.metadata,
    })
    return fields


def extension_schema(name: str) -> dict[str, Any]:
    """The JSON schema of one extension field (a generic note for an unknown one)."""
    return dict(EXTENSION_SCHEMAS.get(name, {"description": "Validated by the server."}))


def _model_field_schema(model_field: peewee.Field, sample: Any) -> dict[str, Any]:
    if isinstance(model_field, JSONTextField):
        kind = {list: "array", dict: "object"}.get(type(sample), "string")
        schema: dict[str, Any] = {"type": kind}
        if kind == "array":
            schema["items"] = {}
    elif isinstance(model_field, peewee.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(model_field, peewee.IntegerField):
        schema = {"type": "integer"}
    elif isinstance(model_field, peewee.DateTimeField):
        schema = {"type": "string", "format": "date-time"}
    else:
        schema = {"type": "string"}
    if model_field.null:
        schema["nullable"] = True
    return schema


def _value_schema(value: Any) -> dict[str, Any]:
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
                       (list, "array"), (dict, "object")):
        if isinstance(value, kind):
            return {"type": name, "items": {}} if name == "array" else {"type": name}
    return {}


def asset_schema(formatter: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """The asset object: the formatter's keys, in order, typed from the model columns."""
    sample = Asset(asset_id="0" * 32)
    shown = formatter(sample, dt.datetime(2000, 1, 1), dt.UTC)
    columns = Asset._meta.fields
    properties: dict[str, Any] = {}
    for name, value in shown.items():
        if name in EXTENSION_SCHEMAS:
            schema = extension_schema(name)
        elif name in columns:
            schema = _model_field_schema(columns[name], value)
        else:
            schema = _value_schema(value)
        if isinstance(value, bool) and schema.get("type") == "boolean":
            schema.pop("nullable", None)  # the formatter casts it to bool
        properties[name] = schema
    return {"type": "object", "required": list(shown), "properties": properties}
