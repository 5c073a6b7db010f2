"""Play orders of one tenant's assets: Anthias's renumbering and the order endpoint's writes.

Both end in one UPDATE that writes only the rows whose ``play_order`` changes, whatever their
number: the positions travel as one parameter (a JSON object on SQLite, two arrays on
PostgreSQL) joined to the table, instead of one statement per asset or a CASE of a thousand
branches, which peewee took longer to render than the database took to run. Callers hold the
tenant's write lock (``tenant_writes.py``).

On PostgreSQL the renumbering is one statement altogether (``renumber``): the database reads
the active assets, numbers them and writes the moved ones, so a write holding the tenant's
lock sends no thousand rows to Python and back (on SQLite, in process, that costs nothing).

On a device linked to the cloud, the UPDATE also returns the ids it moved, and each moved
asset goes into the sync outbox with its new position in the same transaction; unlinked, the
statement is the same as ever and nothing more is read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

from anthias_edge.db import db, is_postgresql
from anthias_edge.models import Asset
from cloud_sync.device import outbox
from cloud_sync.device.payloads import record_assets


def renumber(tenant_id: str | None, affected_id: str, play_order: int | None,
             now: dt.datetime) -> int:
    """Anthias's renumbering after a v1.2/v2 write of ``affected_id``; return rows moved.

    The rules are ``renumbered``'s, applied to ``active_positions`` at ``now``. The affected
    asset goes into the outbox by its caller; every other moved one here, when linked.
    """
    if not is_postgresql(db):
        return write_positions(tenant_id, renumbered(active_positions(tenant_id, now),
                                                     affected_id, play_order),
                               recorded_by_caller=affected_id)
    tenant_clause = "tenant_id IS NULL" if tenant_id is None else "tenant_id = ANY(%(tenants)s)"
    params = {"tenants": [tenant_id], "now": now, "affected": affected_id,
              "at": max(play_order or 0, 0)}
    sql = _RENUMBER_POSTGRESQL.format(table=Asset._meta.table_name, tenant=tenant_clause)
    return _move(sql, params, recorded_by_caller=affected_id)


# ``renumbered`` in SQL. ``n`` numbers the active assets from 1 in insertion order. Without
# the affected one, the others would be numbered n - 1, less one after it; then the affected
# one takes index ``at`` (past the end: last) and the others from there move up one. When the
# affected asset is not active, ``affected`` is empty and every active asset is n - 1. A
# PostgreSQL timestamp compares as a time, so the dates are compared here, unlike on SQLite.
_RENUMBER_POSTGRESQL = """
WITH active AS MATERIALIZED (
    SELECT asset_id, play_order, row_number() OVER (ORDER BY seq) AS n FROM {table}
    WHERE {tenant} AND is_enabled AND start_date < %(now)s AND end_date > %(now)s),
affected AS MATERIALIZED (
    SELECT n, least(%(at)s, (SELECT count(*) FROM active) - 1) AS at
    FROM active WHERE asset_id = %(affected)s),
ranked AS (
    SELECT active.asset_id, active.play_order, affected.n AS affected_n, affected.at,
           active.n = affected.n AS is_affected,
           active.n - 1 - (active.n > coalesce(affected.n, active.n))::int AS others_index
    FROM active LEFT JOIN affected ON true),
positions AS (
    SELECT asset_id, play_order,
           CASE WHEN affected_n IS NULL THEN others_index
                WHEN is_affected THEN at
                ELSE others_index + (others_index >= at)::int END AS position
    FROM ranked),
moved AS MATERIALIZED (
    SELECT asset_id, position FROM positions WHERE play_order IS DISTINCT FROM position)
UPDATE {table} SET play_order = moved.position FROM moved
WHERE {table}.asset_id = moved.asset_id AND {table}.{tenant}"""


def active_positions(tenant_id: str | None, now: dt.datetime) -> list[tuple[str, int]]:
    """(asset_id, play_order) of the assets active at ``now``, in natural (insertion) order.

    Active as docs/legacy-api.md §3.7 says: enabled, both dates set, ``now`` strictly between
    them. The dates are compared here, not in SQL, because older Anthias databases spell them
    in ways a text comparison would misorder.
    """
    rows = db.execute_sql(*_active_query(tenant_id)).fetchall()
    # Most rows share a few spellings of dates: each is parsed once.
    to_datetime = Asset.start_date.python_value
    spellings = {value for _, start, end, _ in rows for value in (start, end)}
    parsed = {value: to_datetime(value) for value in spellings}
    return [(asset_id, position) for asset_id, start, end, position in rows
            if (begins := parsed[start]) is not None
            and (ends := parsed[end]) is not None and begins < now < ends]


def _active_query(tenant_id: str | None) -> tuple[str, list[Any]]:
    """The SQL and parameters of ``active_positions``, rendered by peewee once per kind of
    database and of tenant (rendering cost more than running it)."""
    key = (type(db.obj), tenant_id is None)
    cached = _ACTIVE_SQL.get(key)
    if cached is None:
        scope, _ = Asset.tenant_scope(tenant_id)
        # By insertion order alone. Every active row is read, so no index need yield the order;
        # the list's (tenant_id, seq) sort key made PostgreSQL compare the tenant's id of every
        # pair of rows under the database's collation, which cost more than the scan itself.
        query = (Asset.select(Asset.asset_id, Asset.start_date, Asset.end_date, Asset.play_order)
                 .where(scope, Asset.is_enabled == True,  # noqa: E712
                        Asset.start_date.is_null(False), Asset.end_date.is_null(False))
                 .order_by(Asset.natural_order()))
        sql, params = query.sql()
        # The tenant's id is one parameter (PostgreSQL: inside a one-element array).
        slot = None
        if tenant_id is not None:
            slot = next(n for n, value in enumerate(params) if value in (tenant_id, [tenant_id]))
        cached = _ACTIVE_SQL.setdefault(key, (sql, params, slot))
        return sql, params
    sql, params, slot = cached
    if slot is not None:
        params = list(params)
        params[slot] = [tenant_id] if isinstance(params[slot], list) else tenant_id
    return sql, params


_ACTIVE_SQL: dict[tuple[type, bool], tuple[str, list[Any], int | None]] = {}


def renumbered(active: Sequence[tuple[str, int]], affected_id: str,
               play_order: int | None) -> dict[str, int]:
    """The new positions after a v1.2/v2 write of ``affected_id`` (docs/legacy-api.md §3.7).

    ``active`` is ``active_positions`` read after the write. The affected asset, when active,
    moves to index ``play_order`` (past the end: last) and every active asset is numbered
    0..n-1 in that list's order; returned are only the assets whose number changes.
    """
    ids = [asset_id for asset_id, _ in active]
    if affected_id in ids:
        ids.remove(affected_id)
        ids.insert(max(play_order or 0, 0), affected_id)
    current = dict(active)
    return {asset_id: position for position, asset_id in enumerate(ids)
            if current[asset_id] != position}


def listed_positions(ids: Sequence[str]) -> dict[str, int]:
    """``play_order = index`` for each listed id (docs/legacy-api.md §3.11).

    Anthias wrote the ids one after the other, so an id listed twice ends at its last index;
    an id holding NUL names no asset (and PostgreSQL refuses the character).
    """
    return {asset_id: index for index, asset_id in enumerate(ids) if "\x00" not in asset_id}


def write_positions(tenant_id: str | None, positions: Mapping[str, int], *,
                    recorded_by_caller: str | None = None) -> int:
    """Set ``play_order`` of the tenant's listed assets in one statement; return rows changed.

    Ids of no asset of this tenant are skipped; rows already at their position are not
    written. Moved assets go into the sync outbox when the device is linked, except
    ``recorded_by_caller`` (the asset a create or update records itself, once, afterwards).
    """
    if not positions:
        return 0
    table = Asset._meta.table_name
    tenant_clause = "tenant_id IS NULL" if tenant_id is None else "tenant_id = {p}"
    if is_postgresql(db):
        sql = (f"UPDATE {table} SET play_order = moved.position "
               "FROM unnest(%s::text[], %s::int[]) AS moved(asset_id, position) "
               f"WHERE {table}.asset_id = moved.asset_id "
               f"AND {table}.{tenant_clause.format(p='%s')} "
               f"AND {table}.play_order IS DISTINCT FROM moved.position")
        params: list[Any] = [list(positions), list(positions.values())]
    else:
        # The unary + keeps SQLite off the tenant index, which made it scan the JSON once
        # per asset of the tenant; each listed id is looked up by primary key instead.
        sql = (f"UPDATE {table} SET play_order = moved.value FROM json_each(?) AS moved "
               f"WHERE {table}.asset_id = moved.key "
               f"AND +{table}.{tenant_clause.format(p='?')} "
               f"AND {table}.play_order IS NOT moved.value")
        params = [json.dumps(positions, separators=(",", ":"))]
    if tenant_id is not None:
        params.append(tenant_id)
    return _move(sql, params, recorded_by_caller)


def _move(sql: str, params: Any, recorded_by_caller: str | None) -> int:
    """Run an UPDATE of play orders; return the rows moved, each put in the outbox when linked
    (but ``recorded_by_caller``, which its caller records)."""
    if not outbox.is_linked():
        return db.execute_sql(sql, params).rowcount
    returning = f"{sql} RETURNING {Asset._meta.table_name}.asset_id"
    moved = [row[0] for row in db.execute_sql(returning, params).fetchall()]
    record_assets(asset_id for asset_id in moved if asset_id != recorded_by_caller)
    return len(moved)
