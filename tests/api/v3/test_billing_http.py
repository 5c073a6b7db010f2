"""``/api/v3/plans``, ``/subscription``, ``/billing/invoices`` and the limits they bring.

A world without a payment provider configured: trials, the free plan, cancel and resume work;
a paid checkout answers 503 (the checkout itself: tests/billing/, tests/midtrans/).
"""

from __future__ import annotations

import io

from anthias_edge.services.billing.plans import set_plan
from tests.api.v3.conftest import World

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _post(world: World, body: dict, role: str = "owner", tenant: str | None = None):
    return world.client.post("/api/v3/subscription", json=body,
                             headers=world.auth(role, tenant))


def test_plans_list_the_public_catalogue_with_prices_and_limits(world: World):
    response = world.client.get("/api/v3/plans", headers=world.auth("admin"))
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [p["code"] for p in items] == ["free", "basic", "pro", "business"]  # legacy hidden
    basic = items[1]
    assert (basic["price_amount"], basic["currency"], basic["interval"]) == (149000, "IDR",
                                                                            "month")
    assert basic["limits"] == {"max_assets": 200, "max_devices": 5, "storage_quota_gb": 10}


def test_a_tenant_that_never_subscribed_keeps_its_own_limits(world: World):
    body = world.client.get("/api/v3/subscription", headers=world.auth("admin")).get_json()
    assert body["subscription"] is None
    assert body["plan"] == "free"
    assert body["usage"]["assets"] == {"used": 0, "limit": 100}  # the tenant's own row
    assert body["usage"]["storage_bytes"] == {"used": 0, "limit": 10 * 1024 ** 3}


def test_trial_cancel_resume_through_the_api_and_audited(world: World):
    started = _post(world, {"action": "trial", "plan": "basic"})
    assert started.status_code == 200, started.get_json()
    sub = started.get_json()["subscription"]
    assert (sub["plan"], sub["status"], sub["cancel_at_period_end"]) == ("basic", "trialing",
                                                                         False)
    assert sub["trial_end"] == sub["current_period_end"]
    assert "saved_card_token" not in sub

    tenant = world.client.get("/api/v3/tenant", headers=world.auth("viewer")).get_json()
    assert tenant["plan_type"] == "basic"
    assert tenant["limits"]["max_assets"] == 200
    assert tenant["plan_usage"]["assets"] == {"used": 0, "limit": 200}

    again = _post(world, {"action": "trial", "plan": "pro"})
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "subscription_state_conflict"

    canceled = _post(world, {"action": "cancel"}).get_json()["subscription"]
    assert canceled["cancel_at_period_end"] is True and canceled["status"] == "trialing"
    resumed = _post(world, {"action": "resume"}).get_json()["subscription"]
    assert resumed["cancel_at_period_end"] is False

    log = world.client.get("/api/v3/audit-log", headers=world.auth()).get_json()["items"]
    actions = [entry["action"] for entry in log]
    assert {"billing.trial", "billing.cancel", "billing.resume"} <= set(actions)


def test_bad_requests_are_refused_with_their_reason(world: World):
    no_plan = _post(world, {"action": "subscribe"})
    assert no_plan.status_code == 400
    assert "plan" in no_plan.get_json()["error"]["details"]
    unknown = _post(world, {"action": "subscribe", "plan": "platinum"})
    assert unknown.status_code == 404
    assert unknown.get_json()["error"]["code"] == "plan_not_found"
    hidden = _post(world, {"action": "subscribe", "plan": "legacy"})
    assert hidden.status_code == 404
    paid = _post(world, {"action": "subscribe", "plan": "pro",
                         "return_url": "https://alpha.example/billing"})
    assert paid.status_code == 503  # no payment provider is configured in this world
    assert paid.get_json()["error"]["code"] == "billing_unavailable"
    nothing = _post(world, {"action": "resume"})
    assert nothing.status_code == 409
    assert world.client.get("/api/v3/subscription",
                            headers=world.auth()).get_json()["subscription"] is None


def test_the_free_plan_limits_every_create_path_and_names_itself(world: World):
    changed = world.client.put("/api/v3/subscription", json={"plan": "free"},
                               headers=world.auth())
    assert changed.status_code == 200
    assert changed.get_json()["subscription"]["plan"] == "free"
    for _ in range(20):
        world.asset(world.a)

    v3 = world.client.post("/api/v3/assets", headers=world.auth(), json={
        "name": "one more", "uri": "https://example.com/", "mimetype": "webpage",
        "skip_asset_check": True})
    proxy = world.client.post("/api/v3/legacy/assets", headers=world.auth(), json={
        "name": "x", "uri": "https://example.com/", "mimetype": "webpage",
        "start_date": "2024-01-01T00:00:00Z", "end_date": "2030-01-01T00:00:00Z",
        "duration": 10, "is_enabled": True, "skip_asset_check": True})

    for refused in (v3, proxy):
        assert refused.status_code == 409
        error = refused.get_json()["error"]
        assert error["code"] == "asset_limit_reached"
        assert error["message"] == ("This tenant has reached the asset limit of its plan: "
                                    "20 assets on plan 'free'.")
        assert error["details"] == {"limit": "max_assets", "plan": "free", "max_assets": 20,
                                    "assets": 20}
    assert len(world.client.get("/api/v3/assets", headers=world.auth()).get_json()[
        "items"]) == 20


def test_an_upload_past_the_storage_quota_is_refused_naming_the_plan(world: World):
    with world.db():
        set_plan("free", {"storage_quota_gb": 0})
    assert _post(world, {"action": "subscribe", "plan": "free"}).status_code == 200

    response = world.client.post("/api/v3/uploads", headers=world.auth("editor"),
                                 data={"file": (io.BytesIO(PNG), "shop.png")},
                                 content_type="multipart/form-data")

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "storage_quota_reached"
    assert "0 GB on plan 'free'" in error["message"]
    assert error["details"]["limit"] == "storage_quota_gb"
    # Another tenant (no subscription, its own 10 GB) still uploads.
    other = world.client.post("/api/v3/uploads", headers=world.auth("owner", world.b),
                              data={"file": (io.BytesIO(PNG), "shop.png")},
                              content_type="multipart/form-data")
    assert other.status_code == 200


def test_two_tenants_never_see_each_others_billing(world: World):
    assert _post(world, {"action": "trial", "plan": "pro"}).status_code == 200

    mine = world.client.get("/api/v3/subscription", headers=world.auth()).get_json()
    theirs = world.client.get("/api/v3/subscription",
                              headers=world.auth("owner", world.b)).get_json()
    assert mine["subscription"]["plan"] == "pro"
    assert theirs["subscription"] is None and theirs["plan"] == "free"
    assert world.client.get("/api/v3/billing/invoices",
                            headers=world.auth("owner", world.b)).get_json() == {"items": []}
    their_tenant = world.client.get("/api/v3/tenant",
                                    headers=world.auth("owner", world.b)).get_json()
    assert their_tenant["limits"]["max_assets"] == 100
    # B cancelling touches only B's (missing) subscription.
    assert _post(world, {"action": "cancel"}, tenant=world.b).status_code == 409
    assert world.client.get("/api/v3/subscription", headers=world.auth()).get_json()[
        "subscription"]["cancel_at_period_end"] is False
