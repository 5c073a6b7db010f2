"""The notification endpoint over real HTTP: the emulator POSTs to our served app.

The app runs with the built-in midtrans plugin configured on the emulator (settings from the
environment, as a container would set them), served by waitress on 127.0.0.1; the emulator
sends each notification to ``/api/v3/payments/midtrans/notification`` as Midtrans would.
"""

from __future__ import annotations

import json

from anthias_edge.models.billing import PaymentAttempt
from anthias_edge.plugins.builtin.midtrans import build_provider
from anthias_edge.reconciler import run_reconciler
from tests.api.v3.conftest import World
from tests.midtrans.conftest import PATH, Billing, emulator_settings
from tests.midtrans_emulator import sign


def test_a_paid_checkout_gives_the_plan_and_sets_up_the_renewals(billing: Billing):
    order_id = billing.subscribe("basic")

    billing.emulator.pay(order_id)

    (delivery,) = billing.emulator.deliveries
    assert (delivery.status, json.loads(delivery.answer)) == (200, {"outcome": "applied"})
    sub = billing.subscription()
    assert (sub.plan, sub.status, sub.payment_provider) == ("basic", "active", "midtrans")
    assert sub.saved_card_token and "481111" not in sub.saved_card_token  # encrypted
    (renewals,) = billing.emulator.subscriptions.values()
    assert sub.external_id == renewals["id"]
    assert renewals["amount"] == "149000"
    assert renewals["token"] == billing.emulator.transactions[order_id]["saved_token_id"]


def test_a_forged_signature_is_refused_and_changes_nothing(billing: Billing):
    order_id = billing.subscribe("basic")
    billing.emulator.pay(order_id, transaction_status="pending")  # a real one, still pending
    forged = {**billing.emulator.notification_body(order_id), "transaction_status": "settlement",
              "status_code": "200"}
    forged["signature_key"] = sign(order_id, "200", forged["gross_amount"], "SB-Mid-server-x")

    delivery = billing.emulator.send(forged)

    assert delivery.status == 400
    assert json.loads(delivery.answer)["error"]["code"] == "notification_rejected"
    assert billing.subscription() is None
    assert [e.status for e in billing.events()] == ["pending"]


def test_a_signed_notification_for_another_amount_is_refused(billing: Billing):
    order_id = billing.subscribe("basic")
    billing.emulator.pay(order_id, transaction_status="pending")
    changed = {**billing.emulator.notification_body(order_id), "transaction_status": "settlement",
               "status_code": "200", "gross_amount": "1000.00"}
    changed["signature_key"] = sign(order_id, "200", "1000.00", billing.emulator.server_key)

    delivery = billing.emulator.send(changed)

    assert delivery.status == 400
    assert json.loads(delivery.answer)["error"]["details"] == {"outcome": "amount_mismatch"}
    assert billing.subscription() is None


def test_a_signed_notification_for_an_order_that_is_not_ours_is_refused(billing: Billing):
    body = {"order_id": "ae-someone-else", "status_code": "200", "gross_amount": "149000.00",
            "transaction_status": "settlement", "transaction_id": "t-1", "currency": "IDR",
            "fraud_status": "accept"}
    body["signature_key"] = sign("ae-someone-else", "200", "149000.00",
                                 billing.emulator.server_key)

    delivery = billing.emulator.send(body)

    assert delivery.status == 400
    assert json.loads(delivery.answer)["error"]["details"] == {"outcome": "unknown_order"}


def test_a_replayed_notification_is_answered_200_and_changes_nothing(billing: Billing):
    order_id = billing.subscribe("basic")
    billing.emulator.duplicate()

    billing.emulator.pay(order_id)

    answers = [json.loads(d.answer)["outcome"] for d in billing.emulator.deliveries]
    assert [d.status for d in billing.emulator.deliveries] == [200, 200]
    assert answers == ["applied", "duplicate"]
    assert len(billing.events()) == 1
    assert billing.subscription().status == "active"


def test_notifications_out_of_order_never_move_the_status_back(billing: Billing):
    order_id = billing.subscribe("basic")
    billing.emulator.hold()
    billing.emulator.set_status(order_id, "pending")
    billing.emulator.set_status(order_id, "settlement")

    deliveries = billing.emulator.release(reverse=True)  # settlement first, then pending

    assert [json.loads(d.answer)["outcome"] for d in deliveries] == ["applied", "stale"]
    assert billing.subscription().status == "active"
    with billing.scope():
        assert PaymentAttempt.get(PaymentAttempt.order_id == order_id).status == "paid"


def test_a_settlement_reversed_by_deny_takes_the_paid_period_back(billing: Billing):
    order_id = billing.subscribe("basic")
    billing.emulator.set_status(order_id, "settlement")

    billing.emulator.set_status(order_id, "deny")

    assert billing.emulator.deliveries[-1].status == 200
    sub = billing.subscription()
    assert sub.status == "canceled"
    assert sub.external_id is None


def test_a_lost_notification_is_recovered_by_the_reconciler(billing: Billing):
    order_id = billing.subscribe("basic")
    billing.emulator.drop_next()
    billing.emulator.pay(order_id)
    assert billing.emulator.deliveries == []
    assert billing.subscription() is None

    counts = run_reconciler(billing.world.runtime)

    assert counts == {"order_applied": 1}
    assert billing.subscription().status == "active"
    assert run_reconciler(billing.world.runtime) == {}  # nothing left to do


def test_a_renewal_charged_by_the_subscription_api_extends_the_period(billing: Billing):
    order_id = billing.subscribe("basic")
    billing.emulator.pay(order_id)
    first_end = billing.subscription().current_period_end
    sub_id = billing.subscription().external_id

    billing.emulator.charge_subscription(sub_id)

    charge, recurring = billing.emulator.deliveries[1:]
    # The charge's own notification came first, for a SUBS- order not recorded yet: left to
    # the subscription's notification, which Midtrans confirms and which records it.
    assert json.loads(charge.answer) == {"outcome": "deferred"}
    assert json.loads(recurring.answer) == {"outcome": "applied"}
    sub = billing.subscription()
    assert sub.status == "active"
    assert sub.current_period_end > first_end
    again = billing.emulator.send(charge.body)
    assert (again.status, json.loads(again.answer)) == (200, {"outcome": "duplicate"})
    assert billing.subscription().current_period_end == sub.current_period_end


def test_a_failed_renewal_keeps_the_plan_during_the_grace_period(billing: Billing):
    order_id = billing.subscribe("basic")
    billing.emulator.pay(order_id)
    sub_id = billing.subscription().external_id

    billing.emulator.charge_subscription(sub_id, succeed=False, exhausted=False)

    assert billing.emulator.deliveries[-1].status == 200
    sub = billing.subscription()
    assert (sub.plan, sub.status) == ("basic", "active")  # nothing taken away yet
    assert sub.grace_until is not None and sub.grace_until > sub.current_period_end


def test_a_subscription_notification_midtrans_does_not_confirm_is_refused(billing: Billing):
    delivery = billing.emulator.send({"subscription": {"id": "made-up", "status": "active"},
                                      "transaction": {"transaction_id": "t"},
                                      "event_name": "subscription.charge"})

    assert delivery.status == 400
    assert billing.events() == []


def test_midtrans_unreachable_while_confirming_answers_502_so_it_sends_again(billing: Billing):
    order_id = billing.subscribe("basic")
    billing.emulator.pay(order_id)
    sub_id = billing.subscription().external_id
    billing.emulator.fail_next(5)

    delivery = billing.emulator.send({"subscription": {"id": sub_id, "status": "inactive"}})

    assert delivery.status == 502
    assert json.loads(delivery.answer)["error"]["code"] == "payment_provider_error"


def test_without_a_configured_provider_the_endpoint_is_not_found(world: World):
    response = world.client.post(PATH, json={"order_id": "x"})

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_each_deployment_gets_its_notifications_at_its_own_url(billing: Billing):
    # This deployment names its own webhook; the merchant dashboard's URL is another one's.
    billing.emulator.payment_notification_url = "http://127.0.0.1:9/elsewhere"
    billing.world.runtime.plugins.payment_providers["midtrans"] = build_provider(
        emulator_settings(billing.emulator, notification_url=billing.url + PATH))
    order_id = billing.subscribe("basic")

    billing.emulator.pay(order_id)

    (delivery,) = billing.emulator.deliveries
    assert delivery.url == billing.url + PATH
    assert delivery.status == 200
    assert billing.subscription().status == "active"


def test_a_body_larger_than_any_notification_is_refused_unread(billing: Billing):
    response = billing.world.client.post(PATH, data=b"{" + b" " * (65 * 1024) + b"}",
                                         content_type="application/json")

    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"
