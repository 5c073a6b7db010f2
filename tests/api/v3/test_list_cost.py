"""What one page of ``GET /api/v3/assets`` costs: the same items as the detail, two queries,
and only the tenant's own index range, however many rows other tenants have."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from playhouse.test_utils import count_queries

from anthias_edge.db import is_postgresql, is_sqlite
from anthias_edge.models import Asset
from anthias_edge.services.asset_queries import list_query
from tests.api.v3.conftest import World


def _list_queries(world: World, headers: dict[str, str]) -> int:
    with count_queries() as counter:
        response = world.client.get("/api/v3/assets?limit=50", headers=headers)
    assert response.status_code == 200
    return counter.count


def test_each_listed_asset_reads_exactly_as_its_detail(world: World):
    world.asset(world.a, name="plain")
    world.asset(world.a, name="window", tags=["news", "lobby"], metadata={"floor": 2},
                play_days=[1, 3], play_time_from="22:00:00", play_time_to="06:00:00",
                custom_headers={"X-Sign": "1"}, refresh_interval_s=30,
                start_date=dt.datetime(2020, 1, 1), end_date=dt.datetime(2099, 1, 1, 0, 0, 0, 5))
    world.asset(world.a, name="off", is_enabled=False, duration=0, mimetype="image")
    shared = world.asset(world.a, name="shared")
    world.client.patch(f"/api/v3/assets/{shared}", headers=world.auth(), json={"is_shared": True})

    items = world.client.get("/api/v3/assets", headers=world.auth()).get_json()["items"]

    assert [item["name"] for item in items] == ["plain", "window", "off", "shared"]
    for item in items:
        detail = world.client.get(f"/api/v3/assets/{item['asset_id']}", headers=world.auth())
        assert item == detail.get_json()


def test_a_page_for_an_access_token_costs_two_queries(world: World):
    headers = world.auth("viewer")
    world.asset(world.a)
    # Membership (with user and tenant) and the page: the host and header checks and the
    # signing key, read once per worker, add none.
    assert _list_queries(world, headers) == 2
    assert _list_queries(world, {**headers, "X-Tenant-ID": "alpha"}) == 2


def test_a_page_for_an_api_token_costs_two_queries_after_its_last_use_is_noted(world: World):
    _, secret = world.api_token(world.a)
    headers = {"Authorization": f"Bearer {secret}"}
    world.asset(world.a)
    # The first use notes last_used_at; on PostgreSQL without waiting for the disk (SET LOCAL).
    noting = 2 if is_postgresql(world.runtime.database) else 1
    assert _list_queries(world, headers) == 2 + noting
    assert _list_queries(world, headers) == 2  # token with membership, user, tenant; the page


# The v3 page and the legacy v1-v2 list (on a tenant's subdomain, or /api/v3/legacy/).
QUERIES = {"v3 page": lambda tenant_id: list_query(tenant_id, limit=51),
           "legacy list": Asset.for_tenant}


def _explain(world: World, query) -> str:
    sql, params = query.sql()
    database = world.runtime.database
    if is_sqlite(database):
        return "\n".join(str(row[-1]) for row in
                         database.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    # When one tenant holds a tenth of the table a sequential scan is a fair cost-based
    # choice that flips with ANALYZE's sample (seen once in a full CI pass); the question
    # here is which index the query can use, so the planner is asked to use one.
    with database.atomic():
        database.execute_sql("SET LOCAL enable_seqscan = off")
        return "\n".join(str(row[-1]) for row in database.execute_sql("EXPLAIN " + sql, params))


@pytest.mark.parametrize("tenants", [10, 200])
@pytest.mark.parametrize("query", QUERIES)
def test_the_list_reads_the_tenants_index_range_not_a_global_index(world: World, tenants: int,
                                                                   query: str):
    # Tenants seeded one after the other: the last one's rows come after everyone else's, so
    # walking the global insertion-order index and filtering would read all of theirs first.
    ids = [str(uuid.uuid4()) for _ in range(tenants)]
    rows = [{"asset_id": uuid.uuid4().hex, "name": f"a{n}", "uri": "https://example.com/",
             "mimetype": "webpage", "duration": 10, "is_enabled": True, "tenant": tenant_id}
            for tenant_id in ids for n in range(2000 // tenants)]
    with world.db():
        for start in range(0, len(rows), 500):
            Asset.insert_many(rows[start:start + 500]).execute()
        world.runtime.database.execute_sql("ANALYZE")
        plan = _explain(world, QUERIES[query](ids[-1]))

    # The tenant bounds an index search; nothing is read and then filtered out by tenant.
    if is_sqlite(world.runtime.database):
        assert "SEARCH" in plan and "(tenant_id=?)" in plan, plan
    else:
        assert "Index Cond: (tenant_id = ANY" in plan and "Filter" not in plan, plan
