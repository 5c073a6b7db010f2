"""End to end through v3 and the emulator: subscribe, pay on the checkout page, see the new
limits, cancel and resume; every step as the tenant owner (and the customer) would do it."""

from __future__ import annotations

import requests

from tests.midtrans.conftest import Billing


def _pay_on_the_checkout_page(checkout_url: str) -> requests.Response:
    """What the customer's browser does on Snap's page: open it, press Pay, come back."""
    page = requests.get(checkout_url, timeout=10)
    assert page.status_code == 200 and "Pay now" in page.text
    action = checkout_url.replace("/redirection/", "/pay/")
    return requests.post(action, timeout=30, allow_redirects=False)


def test_an_owner_subscribes_pays_sees_the_limits_cancels_and_resumes(billing: Billing):
    world = billing.world
    owner = world.auth("owner")
    before = world.client.get("/api/v3/tenant", headers=owner).get_json()

    started = world.client.post("/api/v3/subscription", headers=owner, json={
        "action": "subscribe", "plan": "pro",
        "return_url": f"{billing.url}/console/billing"})
    assert started.status_code == 200, started.get_json()
    checkout_url = started.get_json()["checkout_url"]
    assert checkout_url.startswith(billing.emulator.url)
    back = _pay_on_the_checkout_page(checkout_url)

    assert back.headers["Location"] == f"{billing.url}/console/billing"
    paid = world.client.get("/api/v3/subscription", headers=owner).get_json()
    assert paid["subscription"]["plan"] == "pro"
    assert paid["subscription"]["status"] == "active"
    assert (paid["subscription"]["amount"], paid["subscription"]["currency"]) == (449000, "IDR")
    tenant = world.client.get("/api/v3/tenant", headers=owner).get_json()
    assert tenant["plan_usage"]["assets"]["limit"] == 1000
    assert tenant["plan_usage"] != before.get("plan_usage")
    invoices = world.client.get("/api/v3/billing/invoices", headers=owner).get_json()["items"]
    assert [(i["plan"], i["amount"], i["status"]) for i in invoices] == [("pro", 449000, "paid")]
    (renewals,) = billing.emulator.subscriptions.values()
    assert renewals["status"] == "active"

    canceled = world.client.post("/api/v3/subscription", headers=owner,
                                 json={"action": "cancel"}).get_json()
    assert canceled["subscription"]["cancel_at_period_end"] is True
    assert canceled["subscription"]["status"] == "active"  # paid until the period ends
    assert renewals["status"] == "inactive"  # Midtrans charges no more

    resumed = world.client.post("/api/v3/subscription", headers=owner,
                                json={"action": "resume"}).get_json()
    assert resumed["subscription"]["cancel_at_period_end"] is False
    assert renewals["status"] == "active"


def test_a_viewer_cannot_subscribe_and_the_other_tenant_sees_nothing(billing: Billing):
    world = billing.world
    started = world.client.post("/api/v3/subscription", headers=world.auth("owner"),
                                json={"action": "subscribe", "plan": "basic"}).get_json()
    _pay_on_the_checkout_page(started["checkout_url"])

    refused = world.client.post("/api/v3/subscription", headers=world.auth("viewer"),
                                json={"action": "cancel"})
    beta = world.client.get("/api/v3/subscription",
                            headers=world.auth("owner", world.b)).get_json()

    assert refused.status_code == 403
    assert beta["subscription"] is None
    assert billing.subscription().status == "active"
