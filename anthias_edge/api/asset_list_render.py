"""The asset list's JSON, rendered again only for the rows that changed.

Every write invalidates the cached list, and rendering it from scratch (a model per row,
every JSON column decoded, every row formatted) cost 3.8 ms at 100 assets and 32 ms at
1,000 on this project's 2-core test machine. Here the rows are read as plain tuples and
each row's JSON text is kept, keyed by the row's raw column values, so a change re-renders
only the rows it touched. ``play_order`` is left out of that key and spliced in, because
adding an asset renumbers every row after it without changing anything else.

A row's text also holds ``is_active``, which depends on the clock: each kept row carries
the moment its schedule may next change (``play_windows.next_change``) and is rendered
again from then on. The output is byte for byte what formatting every row and dumping the
whole list gives (tests/api/test_asset_list_render.py compares them); a row holding a lone
surrogate makes the whole list fall back to that, since the encoder then escapes all of it.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from peewee import Database

from anthias_edge.api.json_input import has_surrogate
from anthias_edge.models import Asset
from anthias_edge.play_windows import next_change

Formatter = Callable[[Asset, dt.datetime, dt.tzinfo], dict[str, Any]]
Dumps = Callable[[Any], str]

ORDER_FIELD = "play_order"
# Rows kept per list; a list of more assets than this re-renders the rest each time.
MAX_KEPT_ROWS = 20_000
_TENANT_MARK = "\x00tenant"


@dataclass(frozen=True)
class _Row:
    """One row's text around its ``play_order`` value, and until when it holds."""

    head: str
    tail: str
    valid_until: dt.datetime


@dataclass
class _Kept:
    zone: dt.tzinfo
    rows: dict[tuple, _Row]


class _ListQuery:
    """Every column of one tenant's assets in natural order, ``play_order`` last, as tuples.

    The SQL is rendered once per kind of database (peewee spends about 1 ms rendering it),
    with a marker where the tenant's id goes.
    """

    def __init__(self) -> None:
        fields = [f for f in Asset._meta.sorted_fields if f.name != ORDER_FIELD]
        self.fields = [*fields, Asset._meta.fields[ORDER_FIELD]]
        self.converters = [f.python_value for f in self.fields]
        self._compiled: dict[tuple[type, bool], tuple[str, list[Any]]] = {}

    def rows(self, database: Database, tenant_id: str | None) -> list[tuple]:
        key = (type(database), tenant_id is None)
        compiled = self._compiled.get(key)
        if compiled is None:
            scope, order = Asset.tenant_scope(None if tenant_id is None else _TENANT_MARK)
            query = Asset.select(*self.fields).where(scope).order_by(*order)
            compiled = self._compiled[key] = query.sql()
        sql, params = compiled
        bound = [_with_tenant(param, tenant_id) for param in params]
        return database.execute_sql(sql, bound).fetchall()

    def asset(self, row: tuple) -> Asset:
        """The model a full select would have built from ``row``."""
        values = {field.name: convert(value)
                  for field, convert, value in zip(self.fields, self.converters, row, strict=True)}
        return Asset(**values)


def _with_tenant(param: Any, tenant_id: str | None) -> Any:
    # PostgreSQL's scope passes the id inside an array (Asset.tenant_scope).
    if param == _TENANT_MARK:
        return tenant_id
    if isinstance(param, list):
        return [_with_tenant(item, tenant_id) for item in param]
    return param


class AssetListRenderer:
    """Renders one tenant's list for one formatter, reusing the text of unchanged rows."""

    def __init__(self, horizon: dt.timedelta) -> None:
        self._horizon = horizon
        self._query = _ListQuery()
        self._lock = threading.Lock()
        self._kept: dict[tuple, _Kept] = {}

    def render(self, database: Database, key: tuple, tenant_id: str | None,
               formatter: Formatter, dumps: Dumps, now: dt.datetime,
               zone: dt.tzinfo) -> tuple[bytes, dt.datetime]:
        """The list's JSON and the moment it may change without a write.

        ``key`` names the list (the render cache's key); ``dumps`` must render compact JSON
        so that a list's text is its rows' texts joined by commas in brackets.
        """
        rows = self._query.rows(database, tenant_id)
        with self._lock:
            kept = self._kept.get(key)
        old = kept.rows if kept is not None and kept.zone == zone else {}
        fresh: dict[tuple, _Row] = {}
        parts: list[str] = []
        valid_until = now + self._horizon
        for row in rows:
            row_key = row[:-1]
            entry = old.get(row_key)
            if entry is None or now >= entry.valid_until:
                entry = self._render_row(row, formatter, dumps, now, zone)
                if entry is None:
                    return self._render_whole(rows, formatter, dumps, now, zone)
            fresh[row_key] = entry
            order = row[-1]
            parts.append(entry.head + (str(order) if type(order) is int
                                       else dumps(self._query.converters[-1](order)))
                         + entry.tail)
            valid_until = min(valid_until, entry.valid_until)
        if len(fresh) <= MAX_KEPT_ROWS:
            with self._lock:
                self._kept[key] = _Kept(zone, fresh)
        return ("[" + ",".join(parts) + "]").encode(), valid_until

    def _render_row(self, row: tuple, formatter: Formatter, dumps: Dumps,
                    now: dt.datetime, zone: dt.tzinfo) -> _Row | None:
        """The row's text split at its order value; None when it needs the whole-list encoder."""
        asset = self._query.asset(row)
        shown = formatter(asset, now, zone)
        names = list(shown)
        if ORDER_FIELD not in shown:
            raise ValueError("a list formatter must show play_order")
        if has_surrogate(json.dumps(shown, ensure_ascii=False)):
            return None
        cut = names.index(ORDER_FIELD)
        before = {name: shown[name] for name in names[:cut]}
        after = {name: shown[name] for name in names[cut + 1:]}
        head = (dumps(before)[:-1] + ",") if before else "{"
        tail = ("," + dumps(after)[1:]) if after else "}"
        return _Row(head + f'"{ORDER_FIELD}":', tail,
                    next_change(asset, now, zone, self._horizon))

    def _render_whole(self, rows: list[tuple], formatter: Formatter, dumps: Dumps,
                      now: dt.datetime, zone: dt.tzinfo) -> tuple[bytes, dt.datetime]:
        assets = [self._query.asset(row) for row in rows]
        body = dumps([formatter(asset, now, zone) for asset in assets]).encode()
        edges = (next_change(asset, now, zone, self._horizon) for asset in assets)
        return body, min(edges, default=now + self._horizon)
