"""Billing in the cloud (PostgreSQL, row-level security): tenants apart, plan limits on legacy.

The billing tables hold one tenant's rows per transaction like every tenant table (0012);
the catalogue is read-only to requests; the webhook's one cross-tenant question,
``anthias_billing_tenant``, answers only the tenant of an order or subscription id.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from flask import Flask
from peewee import PeeweeException

from anthias_edge.models.billing import PaymentAttempt
from anthias_edge.services.billing.notifications import billing_work
from anthias_edge.services.billing.plans import set_plan
from anthias_edge.services.row_security import tenant_scope
from tests.cloud.conftest import BASE_DOMAIN
from tests.cloud.pg import drop_database, fresh_database, query
from tests.cloud.test_row_level_security import as_app, bearer, sql
from tests.helpers import basic, v2_asset

pytestmark = pytest.mark.postgres

DATABASE = "anthias_billing_b1_test"
PASSWORD = "correct horse battery"
TABLES = ("payment_attempts", "payment_events", "subscriptions")


@pytest.fixture(scope="module")
def cloud_server_url() -> Iterator[str]:
    """This module's own database."""
    yield fresh_database(DATABASE)
    drop_database(DATABASE)


def _token(client, subdomain: str, owner: str) -> dict[str, str]:
    login = client.post("/api/v3/auth/token",
                        json={"username": owner, "password": PASSWORD, "tenant": subdomain})
    assert login.status_code == 200, login.get_json()
    return bearer(login.get_json()["access_token"])


@pytest.fixture
def tenants(cloud_app: Flask, make_tenant) -> dict[str, str]:
    """acme (on a pro trial, with an open order) and globex (an open order, no subscription)."""
    ids = {"acme": make_tenant("acme", "alice", PASSWORD),
           "globex": make_tenant("globex", "gina", PASSWORD)}
    client = cloud_app.test_client()
    trial = client.post("/api/v3/subscription", json={"action": "trial", "plan": "pro"},
                        headers=_token(client, "acme", "alice"))
    assert trial.status_code == 200, trial.get_json()
    database = cloud_app.extensions["anthias"].database
    with database.connection_context():
        for name, tenant in ids.items():
            with tenant_scope(database, tenant):
                PaymentAttempt.create(order_id=f"ae-{name}-order", tenant=tenant, plan="basic",
                                      kind="checkout", amount=149000, currency="IDR",
                                      provider="midtrans", idempotency_key=f"key-{name}",
                                      status="pending")
    return ids


def test_billing_tables_are_forced_under_the_tenant_policy(cloud_app, cloud_url):
    tables = query(cloud_url, "SELECT relname, relrowsecurity, relforcerowsecurity "
                              "FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
                   (list(TABLES),))
    assert tables == [(name, True, True) for name in TABLES]


def test_the_app_sees_only_its_tenants_billing_and_cannot_change_the_catalogue(
        cloud_app, tenants):
    database = cloud_app.extensions["anthias"].database
    acme, globex = tenants["acme"], tenants["globex"]

    with as_app(database, globex):
        seen = {table: sql(database, f"SELECT tenant_id FROM {table}") for table in TABLES}
        plans = sql(database, "SELECT count(*) FROM plans")
    assert seen == {"payment_attempts": [(globex,)], "payment_events": [], "subscriptions": []}
    assert plans == [(5,)]

    with as_app(database, acme), pytest.raises(PeeweeException):
        sql(database, "UPDATE plans SET max_assets = 999999 WHERE code = 'free'")
    with as_app(database, acme), pytest.raises(PeeweeException):  # another tenant's row
        sql(database, "INSERT INTO subscriptions (id, tenant_id, plan, status, created_at, "
                      "updated_at) VALUES ('x', %s, 'pro', 'active', now(), now())", (globex,))


def test_the_webhook_finds_an_orders_tenant_and_nothing_else(cloud_app, tenants):
    database = cloud_app.extensions["anthias"].database
    with as_app(database, None):  # a public request: no tenant yet
        found = sql(database, "SELECT anthias_billing_tenant(%s, NULL), "
                              "anthias_billing_tenant('ae-nobody', NULL), "
                              "anthias_billing_tenant(NULL, 'no-such-subscription')",
                    ("ae-globex-order",))
        unfiltered = sql(database, "SELECT count(*) FROM payment_attempts")
    assert found == [(tenants["globex"], None, None)]
    assert unfiltered == [(0,)]


def test_the_reconciler_lists_work_across_tenants(cloud_app, tenants):
    with cloud_app.extensions["anthias"].database.connection_context():
        work = sorted(billing_work())
    assert (tenants["acme"], "order", "ae-acme-order") in work
    assert (tenants["globex"], "order", "ae-globex-order") in work
    assert (tenants["acme"], "tenant", tenants["acme"]) in work  # its trial may run out
    assert not [w for w in work if w[0] == tenants["globex"] and w[1] == "tenant"]


def test_a_subscribed_plans_limits_hold_on_the_legacy_api_of_a_subdomain(cloud_app, tenants):
    database = cloud_app.extensions["anthias"].database
    with database.connection_context():
        set_plan("free", {"max_assets": 1, "storage_quota_gb": 0})
    client = cloud_app.test_client()
    changed = client.put("/api/v3/subscription", json={"plan": "free"},
                         headers=_token(client, "acme", "alice"))
    assert changed.status_code == 200, changed.get_json()
    legacy = {"base_url": f"http://acme.{BASE_DOMAIN}", "headers": basic("alice", PASSWORD)}

    first = client.post("/api/v2/assets", json=v2_asset(), **legacy)
    second = client.post("/api/v2/assets", json=v2_asset(), **legacy)
    # In the cloud, files come only through v3 (legacy file_asset is a device endpoint).
    upload = client.post("/api/v3/uploads", headers=_token(client, "acme", "alice"),
                         content_type="multipart/form-data",
                         data={"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" * 8), "a.png")})

    assert first.status_code == 201
    assert second.status_code == 500  # Anthias's shape for every refusal
    assert second.get_json() == {"error": "This tenant has reached the asset limit of its "
                                          "plan: 1 assets on plan 'free'."}
    assert upload.status_code == 409
    assert upload.get_json()["error"]["code"] == "storage_quota_reached"
    assert "0 GB on plan 'free'" in upload.get_json()["error"]["message"]
    # globex (no subscription) keeps its own limits on its subdomain.
    other = client.post("/api/v2/assets", json=v2_asset(), base_url=f"http://globex.{BASE_DOMAIN}",
                        headers=basic("gina", PASSWORD))
    assert other.status_code == 201
