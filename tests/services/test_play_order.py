"""services/play_order.py on a real database: one statement, only rows that move, §3.7 rules."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from anthias_edge.db import db, is_postgresql
from anthias_edge.models import Asset
from anthias_edge.services.assets import AssetService
from anthias_edge.services.play_order import (
    _RENUMBER_POSTGRESQL,
    _active_query,
    active_positions,
    renumber,
    renumbered,
    write_positions,
)
from anthias_edge.services.tenants import create_tenant

NOW = dt.datetime(2024, 6, 3, 12, 0)


@pytest.fixture
def service(app):
    runtime = app.extensions["anthias"]
    with runtime.database.connection_context():
        yield AssetService(asset_dir=runtime.settings.asset_dir,
                           tenant_id=runtime.local_tenant_id, clock=lambda: NOW)


def make(service: AssetService, count: int, **fields) -> list[str]:
    values = {"uri": "https://example.org", "mimetype": "webpage", "duration": 10,
              "start_date": NOW - dt.timedelta(days=1), "end_date": NOW + dt.timedelta(days=1),
              "is_enabled": True, "skip_asset_check": True, "play_order": 0, **fields}
    return [service.create({**values, "name": f"a{n}"}, renumber=False).asset_id
            for n in range(count)]


def orders(ids: list[str]) -> list[int]:
    by_id = dict(Asset.select(Asset.asset_id, Asset.play_order).tuples())
    return [by_id[asset_id] for asset_id in ids]


def test_an_id_listed_twice_ends_at_its_last_index_and_unknown_ids_use_theirs(service):
    a, b, c = make(service, 3)

    service.set_order([b, "zzz", a, b, "nul\x00id"])

    assert orders([a, b, c]) == [2, 3, 0]


def test_order_moves_no_asset_of_another_tenant(service):
    mine = make(service, 2)
    other_tenant, _ = create_tenant("Other", "other", "owner", "correct horse battery")
    other = AssetService(asset_dir=service.asset_dir, tenant_id=other_tenant.id,
                         clock=lambda: NOW)
    theirs = make(other, 1, play_order=7)

    service.set_order([theirs[0], *mine])

    assert orders([*theirs, *mine]) == [7, 1, 2]


def test_only_the_rows_whose_position_changes_are_written(service):
    ids = make(service, 5)
    write_positions(service.tenant_id, {asset_id: n for n, asset_id in enumerate(ids)})

    changed = write_positions(service.tenant_id, {ids[0]: 1, ids[1]: 0, ids[2]: 2})

    assert changed == 2
    assert orders(ids) == [1, 0, 2, 3, 4]


def test_renumbering_a_large_library_follows_anthias_rules(service):
    ids = make(service, 300)
    inactive = make(service, 1, is_enabled=False, play_order=5)[0]
    service.set_order(list(reversed(ids)))  # a custom order that the renumbering discards

    # Active list in insertion order, the updated asset removed and put at index 17.
    service.update(ids[250], {"play_order": 17}, renumber=True)

    expected = [*ids[:250], *ids[251:]]
    expected.insert(17, ids[250])
    assert orders(expected) == list(range(300))
    assert orders([inactive]) == [5]


def test_dates_in_an_older_anthias_spelling_count_as_active(service):
    old, new = make(service, 2, play_order=3)
    # Anthias releases stored dates with a T, or with an offset; both read as the same time.
    db.execute_sql("UPDATE assets SET start_date = %s, end_date = %s WHERE asset_id = %s"
                   .replace("%s", db.param),
                   ["2024-06-01T00:00:00+00:00", "2099-01-01T00:00:00", old])

    assert [asset_id for asset_id, _ in active_positions(service.tenant_id, NOW)] == [old, new]


@pytest.mark.postgres
def test_a_moved_asset_is_a_heap_only_update_that_writes_no_index(service):
    ids = make(service, 3)

    with db.atomic():
        write_positions(service.tenant_id, {ids[0]: 9})
        # This transaction's own counts, exact as of now (no statistics collector delay).
        updated, heap_only = db.execute_sql(
            "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
            "WHERE relid = 'assets'::regclass").fetchone()

    # With play_order in an index, every moved row was a new entry in all six (before 0016).
    assert (updated, heap_only) == (1, 1)


def test_the_active_assets_are_read_without_sorting_by_tenant(service):
    enabled = make(service, 5)
    make(service, 2, is_enabled=False)
    sql, params = _active_query(service.tenant_id)

    if is_postgresql(db):
        plan = [row[0] for row in db.execute_sql("EXPLAIN " + sql, params)]
        # The tenant's id is one value in every row read; sorting by it compared text under
        # the database's collation, 1.5 ms of a renumbering write at 1,000 assets.
        assert not [line for line in plan if "Sort Key" in line and "tenant_id" in line], plan
    else:
        plan = [str(row[-1]) for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params)]
        assert not [line for line in plan if "TEMP B-TREE" in line], plan
    assert [asset_id for asset_id, _ in active_positions(service.tenant_id, NOW)] == enabled


def test_renumbering_in_one_statement_follows_the_same_rules(service):
    """PostgreSQL numbers in SQL (``renumber``); each case is held against ``renumbered``."""
    active = make(service, 12)
    disabled = make(service, 2, is_enabled=False)
    expired = make(service, 2, end_date=NOW - dt.timedelta(hours=1))
    active += make(service, 3)  # later rows, so insertion order interleaves with the others
    other_tenant, _ = create_tenant("Other", "other", "owner", "correct horse battery")
    theirs = make(AssetService(asset_dir=service.asset_dir, tenant_id=other_tenant.id,
                               clock=lambda: NOW), 2, play_order=4)
    shuffled = random.Random(11).sample(active + disabled + expired, k=19)
    write_positions(service.tenant_id, {asset_id: 3 * n % 7 for n, asset_id in
                                        enumerate(shuffled)})
    everyone = [*active, *disabled, *expired, *theirs]

    for affected, play_order in [(active[4], 0), (active[0], 6), (active[-1], 2),
                                 (active[7], 99), (active[2], None), (active[5], -3),
                                 (disabled[0], 1), (expired[1], 0), ("no such asset", 0)]:
        before = dict(zip(everyone, orders(everyone), strict=True))
        expected = {**before, **renumbered(active_positions(service.tenant_id, NOW), affected,
                                           play_order)}
        with db.atomic() as transaction:
            moved = renumber(service.tenant_id, affected, play_order, NOW)
            after = dict(zip(everyone, orders(everyone), strict=True))
            transaction.rollback()

        assert after == expected, (affected, play_order)
        assert moved == sum(before[a] != after[a] for a in everyone)


@pytest.mark.postgres
def test_renumbering_in_one_statement_reads_the_active_assets_once(service):
    ids = make(service, 40)
    sql = _RENUMBER_POSTGRESQL.format(table="assets", tenant="tenant_id = ANY(%(tenants)s)")
    params = {"tenants": [service.tenant_id], "now": NOW, "affected": ids[-1], "at": 0}

    with db.atomic() as transaction:
        plan = [row[0] for row in db.execute_sql(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + sql, params)]
        transaction.rollback()

    # An inlined ``affected`` scanned every active row once per active row: 364 ms at 1,000.
    rescans = [line for line in plan
               if "CTE Scan on active" in line and "loops=" in line and "loops=1)" not in line]
    assert not rescans, plan
