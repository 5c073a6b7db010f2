"""v3's asset reads and rules on top of AssetService: filters with keyset pagination,
share codes and the v3 representation (the asset limit is AssetService's).

The cursor is the row's insertion position (SQLite ``rowid``, PostgreSQL ``seq``),
so pages stay correct while assets are added or removed between requests.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import secrets
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peewee import SQL, IntegrityError, ModelSelect, fn

from anthias_edge.api.asset_format import asset_schema as v2_asset_schema
from anthias_edge.api.asset_format import v2_asset
from anthias_edge.db import db, is_sqlite
from anthias_edge.errors import AnthiasError, ValidationError
from anthias_edge.models import Asset
from anthias_edge.models.base import JSONTextField
from anthias_edge.timeutil import format_datetime

SHARE_CODE_BYTES = 9  # 72 random bits, 12 URL-safe characters
MAX_SHARE_CODE_TRIES = 5

# A listed asset is a plain row, not a model instance: building 50 models per page cost more
# than the query. It has the model's attribute names, so ``v3_asset`` formats either.
_LIST_FIELDS = tuple(Asset._meta.sorted_fields)
ListedAsset = namedtuple("ListedAsset", [*(f.name for f in _LIST_FIELDS), "position"])
# The select list as one SQL node: peewee renders 30 field nodes in a third of a millisecond,
# on every request. The query reads one table, so bare column names are unambiguous.
_LIST_COLUMNS = SQL(", ".join(f'"{f.column_name}"' for f in _LIST_FIELDS))
# SQLite may hold any type in any column (an imported Anthias database has text durations),
# so there every field of a listed row converts as in a model. PostgreSQL's typed columns
# already give text, integers, booleans and naive-UTC datetimes as Python wants them: only
# the JSON kept as text needs decoding.
_ALL_CONVERSIONS = tuple((i, f.python_value) for i, f in enumerate(_LIST_FIELDS))
_JSON_COLUMNS = tuple(i for i, f in enumerate(_LIST_FIELDS) if isinstance(f, JSONTextField))


@dataclass(frozen=True)
class AssetPage:
    """One page of assets and the cursor of the next (None at the end)."""

    items: list[ListedAsset]
    next_cursor: str | None


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
    })
    return fields


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
    }
    schema["properties"].update(extra)
    schema["properties"]["metadata"] = {"type": "object"}
    schema["required"] = [*schema["required"], *(k for k in extra if k not in schema["required"])]
    return schema


def encode_cursor(position: int) -> str:
    """An opaque cursor for the row at ``position``."""
    return base64.urlsafe_b64encode(f"a:{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The position in a cursor, or ValidationError."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "a" or not number.isdigit() or len(number) > 18:
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc


def _substring(haystack: Any, needle: str) -> Any:
    # Plain substring search: LIKE would treat % and _ in the needle as wildcards.
    if is_sqlite(Asset._meta.database):
        return fn.instr(haystack, needle) > 0
    return fn.strpos(haystack, needle) > 0


def list_query(tenant_id: str, *, limit: int, cursor: str | None = None,
               enabled: bool | None = None, tag: str | None = None,
               mimetype: str | None = None, q: str | None = None) -> ModelSelect:
    """The query of one page (``limit`` rows) of a tenant's assets in insertion order."""
    position = Asset.natural_order()
    scope, order = Asset.tenant_scope(tenant_id)
    query = Asset.select(_LIST_COLUMNS, position.alias("position")).where(scope)
    if enabled is not None:
        query = query.where(Asset.is_enabled == enabled)
    if tag:
        # Tags are a JSON list: a quoted, escaped tag occurs only as a whole element.
        query = query.where(_substring(Asset.tags, json.dumps(tag, ensure_ascii=False)))
    if mimetype:
        query = query.where(Asset.mimetype == mimetype)
    if q:
        query = query.where(_substring(fn.LOWER(Asset.name), q.lower()))
    if cursor:
        query = query.where(position > decode_cursor(cursor))
    return query.order_by(*order).limit(limit)


def list_page(tenant_id: str, *, limit: int, cursor: str | None = None,
              enabled: bool | None = None, tag: str | None = None,
              mimetype: str | None = None, q: str | None = None) -> AssetPage:
    """One page of a tenant's assets in insertion order, filtered."""
    query = list_query(tenant_id, limit=limit + 1, cursor=cursor, enabled=enabled, tag=tag,
                       mimetype=mimetype, q=q)
    database = Asset._meta.database
    raw = database.execute(query).fetchall()
    rows = _listed_sqlite(raw) if is_sqlite(database) else _listed_postgresql(raw)
    more = len(rows) > limit
    rows = rows[:limit]
    return AssetPage(rows, encode_cursor(rows[-1].position) if more and rows else None)


def _listed_sqlite(rows: Sequence[Sequence[Any]]) -> list[ListedAsset]:
    listed = []
    for row in rows:
        values = list(row)
        for i, convert in _ALL_CONVERSIONS:
            values[i] = convert(values[i])
        listed.append(ListedAsset._make(values))
    return listed


def _listed_postgresql(rows: Sequence[Sequence[Any]]) -> list[ListedAsset]:
    # Most assets of a page hold the same few JSON texts ("[]", "{}", the whole week), so
    # each distinct text is decoded once per page. Rows of one page then share those values,
    # which is safe: a page is only rendered, never changed.
    decoded: dict[str, Any] = {}
    listed = []
    for row in rows:
        values = list(row)
        for i in _JSON_COLUMNS:
            text = values[i]
            if text:
                value = decoded.get(text)
                if value is None:
                    value = decoded[text] = json.loads(text)
                values[i] = value
            else:
                values[i] = None
        listed.append(ListedAsset._make(values))
    return listed


def set_sharing(asset: Asset, shared: bool) -> None:
    """Share (with a fresh unguessable code, kept while shared) or unshare an asset."""
    if not shared:
        Asset.update(is_shared=False, share_code=None).where(
            Asset.asset_id == asset.asset_id).execute()
        return
    if asset.share_code:
        Asset.update(is_shared=True).where(Asset.asset_id == asset.asset_id).execute()
        return
    for _ in range(MAX_SHARE_CODE_TRIES):
        code = secrets.token_urlsafe(SHARE_CODE_BYTES)
        try:
            with db.atomic():  # a savepoint: PostgreSQL survives the failed insert
                Asset.update(is_shared=True, share_code=code).where(
                    Asset.asset_id == asset.asset_id).execute()
            return
        except IntegrityError:  # another asset has this code: draw again
            continue
    raise AnthiasError("Could not make a unique share code.")
