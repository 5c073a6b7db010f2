"""The asset list's JSON, rendered again only for the rows that changed.

Every write invalidates the cached list, and rendering it from scratch (a model per row,
every JSON column decoded, every row formatted) cost 3.8 ms at 100 assets and 32 ms at
1,000 on this project's 2-core test machine. Here the rows are read as plain tuples, and
each row's place in the last body is kept, keyed by the row's raw column values, so a
change renders only the rows it touched and copies the others' bytes. ``play_order`` is left
out of that key and spliced in, because adding an asset renumbers every row after it
without changing anything else.

A row's text also holds ``is_active``, which depends on the clock: each kept row carries
the moment its schedule may next change (``play_windows.next_change``) and is rendered
again from then on. The output is byte for byte what formatting every row and dumping the
whole list gives (tests/api/test_asset_list_render.py compares them); a row holding a lone
surrogate makes the whole list fall back to that, since the encoder then escapes all of it.
Memory: the last body (which the render cache holds anyway) and about 0.7 kB per row.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from peewee import Database

from anthias_edge.api.json_input import has_surrogate
from anthias_edge.models import Asset
from anthias_edge.play_windows import next_change

Formatter = Callable[[Asset, dt.datetime, dt.tzinfo], dict[str, Any]]
Dumps = Callable[[Any], str]

ORDER_FIELD = "play_order"
# Rows kept over all lists (tenants, versions, zones); the least recently rendered go first.
MAX_KEPT_ROWS = 20_000
_TENANT_MARK = "\x00tenant"


class _Row(NamedTuple):
    """Where one row's text lies in the kept body, until when it holds, and its key.

    ``body[start:head_end]`` runs up to ``"play_order":``, ``body[tail_start:end]`` follows
    the order value. A tuple rather than an object with a ``__dict__``: a list keeps one per
    asset.
    """

    key: tuple
    start: int
    head_end: int
    tail_start: int
    end: int
    valid_until: dt.datetime


class _Kept(NamedTuple):
    body: bytes
    rows: dict[tuple, _Row]


class _ListQuery:
    """The chosen columns of one tenant's assets in natural order, ``play_order`` last.

    Rows come back as tuples. The SQL is rendered once per kind of database (peewee spends
    about 1 ms rendering it), with a marker where the tenant's id goes.
    """

    def __init__(self, columns: Iterable[str]) -> None:
        fields = [Asset._meta.fields[name] for name in columns if name != ORDER_FIELD]
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
        """The model a select of these columns builds from ``row`` (defaults elsewhere)."""
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
    """Renders tenants' lists, reusing the bytes of rows that did not change since last time."""

    def __init__(self, horizon: dt.timedelta, columns: Iterable[str],
                 max_kept_rows: int = MAX_KEPT_ROWS) -> None:
        """``columns``: every column the formatters read (play_order is always selected)."""
        self._horizon = horizon
        self._max_kept_rows = max_kept_rows
        self._query = _ListQuery(columns)
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple, _Kept] = OrderedDict()
        self._kept_rows = 0

    def render(self, database: Database, tenant_id: str | None, formatter: Formatter,
               dumps: Dumps, now: dt.datetime, zone: dt.tzinfo) -> tuple[bytes, dt.datetime]:
        """The list's JSON and the moment it may change without a write.

        ``dumps`` must render compact JSON, so that a list's text is its rows' texts joined
        by commas in brackets. Versions with the same formatter share what is kept.
        """
        rows = self._query.rows(database, tenant_id)
        list_key = (formatter, tenant_id, zone)
        with self._lock:
            kept = self._kept.get(list_key)
        old_rows, old_body = (kept.rows, kept.body) if kept is not None else ({}, b"")
        convert_order = self._query.converters[-1]
        fresh: dict[tuple, _Row] = {}
        pieces: list[bytes] = [b"["]
        position = 1
        valid_until = now + self._horizon
        # Keys keep one copy of each value (rows share dates, addresses, types): less memory.
        shared: dict[Any, Any] = {}
        for row in rows:
            if position > 1:
                pieces.append(b",")
                position += 1
            row_key = row[:-1]
            entry = old_rows.get(row_key)
            if entry is not None and now < entry.valid_until:
                key, until = entry.key, entry.valid_until
                head = old_body[entry.start:entry.head_end]
                tail = old_body[entry.tail_start:entry.end]
            else:
                key = entry.key if entry is not None else tuple(
                    shared.setdefault(value, value) for value in row_key)
                made = self._render_row(row, formatter, dumps, now, zone)
                if made is None:
                    return self._render_whole(rows, formatter, dumps, now, zone)
                head, tail, until = made
            order = row[-1]
            order_text = (str(order) if type(order) is int
                          else dumps(convert_order(order))).encode()
            head_end = position + len(head)
            tail_start = head_end + len(order_text)
            end = tail_start + len(tail)
            fresh[key] = _Row(key, position, head_end, tail_start, end, until)
            pieces += (head, order_text, tail)
            position = end
            valid_until = min(valid_until, until)
        pieces.append(b"]")
        body = b"".join(pieces)
        self._keep(list_key, _Kept(body, fresh))
        return body, valid_until

    def _keep(self, list_key: tuple, kept: _Kept) -> None:
        with self._lock:
            old = self._kept.pop(list_key, None)
            if old is not None:
                self._kept_rows -= len(old.rows)
            if len(kept.rows) > self._max_kept_rows:
                return
            self._kept[list_key] = kept
            self._kept_rows += len(kept.rows)
            while self._kept_rows > self._max_kept_rows:
                _, dropped = self._kept.popitem(last=False)
                self._kept_rows -= len(dropped.rows)

    def _render_row(self, row: tuple, formatter: Formatter, dumps: Dumps, now: dt.datetime,
                    zone: dt.tzinfo) -> tuple[bytes, bytes, dt.datetime] | None:
        """The row's bytes before and after its order value, and until when they hold.

        None when the row needs the whole-list encoder (a lone surrogate).
        """
        asset = self._query.asset(row)
        shown = formatter(asset, now, zone)
        if ORDER_FIELD not in shown:
            raise ValueError("a list formatter must show play_order")
        text = json.dumps(shown, separators=(",", ":"), ensure_ascii=False)
        if has_surrogate(text):
            return None
        names = list(shown)
        cut = names.index(ORDER_FIELD)
        before = {name: shown[name] for name in names[:cut]}
        after = {name: shown[name] for name in names[cut + 1:]}
        head = (dumps(before)[:-1] + ",") if before else "{"
        tail = ("," + dumps(after)[1:]) if after else "}"
        return ((head + f'"{ORDER_FIELD}":').encode(), tail.encode(),
                next_change(asset, now, zone, self._horizon))

    def _render_whole(self, rows: list[tuple], formatter: Formatter, dumps: Dumps,
                      now: dt.datetime, zone: dt.tzinfo) -> tuple[bytes, dt.datetime]:
        assets = [self._query.asset(row) for row in rows]
        body = dumps([formatter(asset, now, zone) for asset in assets]).encode()
        edges = (next_change(asset, now, zone, self._horizon) for asset in assets)
        return body, min(edges, default=now + self._horizon)

