"""v3's representation of an asset: the v2 asset plus the v3 fields, and its JSON schema.

The reads (keyset pages) are ``services/asset_queries.py``'s; the writes, sharing and the
asset limit are ``AssetService``'s.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from anthias_edge.api.asset_format import asset_schema as v2_asset_schema
from anthias_edge.api.asset_format import v2_asset
from anthias_edge.models import Asset
from anthias_edge.services import qr_overlay
from anthias_edge.services.asset_queries import ListedAsset
from anthias_edge.timeutil import format_datetime


def v3_asset(asset: Asset | ListedAsset, now: dt.datetime, zone: dt.tzinfo) -> dict[str, Any]:
    """The v2 asset plus the v3 fields."""
    fields = v2_asset(asset, now, zone)
    fields.update({
        "tenant_id": asset.tenant,
        "created_by": asset.created_by,
        "is_shared": bool(asset.is_shared),
        "share_code": asset.share_code,
        "tags": list(asset.tags or []),
        "metadata": asset.metadata if isinstance(asset.metadata, dict) else {},
        "created_at": format_datetime(asset.created_at),
        "updated_at": format_datetime(asset.updated_at),
        "qr_overlay": _overlay(asset.qr_overlay),
    })
    return fields


def _overlay(value: Any) -> dict[str, Any] | None:
    """The stored overlay as v3 shows it; a row the API did not write shows as null."""
    try:
        return qr_overlay.normalize(value)
    except ValueError:
        return None


def openapi_31(schema: Any) -> Any:
    """An OpenAPI 3.0 schema (``nullable``) rewritten for 3.1 (``type: [t, "null"]``)."""
    if isinstance(schema, list):
        return [openapi_31(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result = {key: openapi_31(value) for key, value in schema.items() if key != "nullable"}
    if schema.get("nullable") and isinstance(result.get("type"), str):
        result["type"] = [result["type"], "null"]
    return result


def asset_schema() -> dict[str, Any]:
    """The JSON Schema of the v3 asset."""
    schema = openapi_31(v2_asset_schema(v2_asset))
    text_or_null = {"type": ["string", "null"]}
    extra = {
        "tenant_id": {"type": "string"},
        "created_by": text_or_null,
        "is_shared": {"type": "boolean"},
        "share_code": text_or_null,
        "tags": {"type": "array", "items": {"type": "string"}},
        "metadata": {"type": "object"},
        "created_at": {**text_or_null, "format": "date-time"},
        "updated_at": {**text_or_null, "format": "date-time"},
        "qr_overlay": qr_overlay.SCHEMA,
    }
    schema["properties"].update(extra)
    schema["properties"]["metadata"] = {"type": "object"}
    schema["required"] = [*schema["required"], *(k for k in extra if k not in schema["required"])]
    return schema
