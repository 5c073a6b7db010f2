"""Reading a tenant's asset library page by page, filtered (v3's list).

The pages are keyset-paginated: the cursor is the row's insertion position (SQLite
``rowid``, PostgreSQL ``seq``), so pages stay correct while assets are added or removed
between requests. A listed asset is a plain row with the model's attribute names.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import namedtuple
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from peewee import SQL, ModelSelect, fn

from anthias_edge.db import is_sqlite
from anthias_edge.errors import ValidationError
from anthias_edge.models import Asset
from anthias_edge.models.base import JSONTextField

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
