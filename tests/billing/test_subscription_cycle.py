"""A subscription's life against the Midtrans emulator: trial, payment, renewals, lapse.

trial -> paid -> renewed -> failed renewal -> grace -> past_due -> canceled -> resubscribed,
with the limits that apply at each step, and plan changes up and down. Nothing a tenant has
is ever deleted when its limits drop; only new items are refused.
"""

from __future__ import annotations

import datetime as dt

import pytest

from anthias_edge.errors import AssetLimitReached
from anthias_edge.models import Asset
from anthias_edge.services.billing.cycle import PAST_DUE_WINDOW, RETRY_WINDOW
from anthias_edge.services.billing.errors import SubscriptionStateConflict
from tests.billing.conftest import Billing

MINUTE = dt.timedelta(minutes=1)


def _pay(billing: Billing, order_id: str) -> None:
    billing.emulator.pay(order_id)
    assert [o.outcome for o in billing.deliver()] == ["applied"]


def _asset_count(billing: Billing) -> int:
    with billing.world.db():
        return Asset.select().where(Asset.tenant == billing.world.a).count()


def test_trial_paid_renewed_lapsed_canceled_and_resubscribed(billing: Billing):
    emulator, clock = billing.emulator, billing.clock

    trial = billing.run(None, lambda s: s.start_trial("basic"))
    assert (trial.status, trial.plan) == ("trialing", "basic")
    assert trial.trial_end == clock.now + dt.timedelta(days=14)
    assert billing.limits().max_assets == 200

    order_id = billing.checkout("basic")
    assert billing.subscription().status == "trialing"  # nothing changes before the payment
    _pay(billing, order_id)
    paid = billing.subscription()
    assert (paid.status, paid.plan, paid.amount, paid.currency) == ("active", "basic", 149000,
                                                                     "IDR")
    assert paid.current_period_start == clock.now
    assert 28 <= (paid.current_period_end - clock.now).days <= 31  # one month
    # Renewals were set up at Midtrans on the saved card, kept encrypted here.
    assert paid.external_id in emulator.subscriptions
    saved = emulator.transactions[order_id]["saved_token_id"]
    assert saved not in paid.saved_card_token
    assert billing.box.decrypt(paid.saved_card_token) == saved
    assert emulator.subscriptions[paid.external_id]["token"] == saved

    # The renewal a month later: the period moves on by one month.
    clock.set(paid.current_period_end + MINUTE)
    emulator.charge_subscription(paid.external_id, succeed=True)
    outcomes = [o.outcome for o in billing.deliver()]
    assert outcomes == ["deferred", "applied"]  # the SUBS- charge, then its subscription news
    renewed = billing.subscription()
    assert renewed.status == "active"
    assert renewed.current_period_start == paid.current_period_end
    assert renewed.current_period_end > paid.current_period_end + dt.timedelta(days=27)
    invoices = billing.run(None, lambda s: s.invoices())
    assert [(i.kind, i.status) for i in invoices] == [("renewal", "paid"), ("checkout", "paid")]

    # The next renewal fails and Midtrans gives up: a grace of its retry window first.
    clock.set(renewed.current_period_end + MINUTE)
    emulator.charge_subscription(renewed.external_id, succeed=False, exhausted=True)
    assert [o.outcome for o in billing.deliver()] == ["deferred", "applied"]
    failing = billing.subscription()
    assert failing.status == "active"
    assert failing.grace_until == renewed.current_period_end + RETRY_WINDOW
    assert billing.limits().max_assets == 200
    assert billing.reconcile().get("lapsed") is None  # still within the grace

    clock.set(failing.grace_until + MINUTE)
    billing.reconcile()
    assert billing.subscription().status == "past_due"
    assert billing.limits().plan == "basic"  # past_due keeps the plan's limits

    for _ in range(21):
        billing.world.asset(billing.world.a)
    clock.set(failing.grace_until + PAST_DUE_WINDOW + MINUTE)
    billing.reconcile()
    lapsed = billing.subscription()
    assert lapsed.status == "canceled"
    limits = billing.limits()
    assert (limits.plan, limits.max_assets) == ("free", 20)
    # Nothing is deleted; only the next asset is refused, naming the limit and the plan.
    assert _asset_count(billing) == 21
    with pytest.raises(AssetLimitReached) as refused:
        billing.world.asset(billing.world.a)
    assert refused.value.details == {"limit": "max_assets", "plan": "free", "max_assets": 20,
                                     "assets": 21}
    assert "plan 'free'" in refused.value.message

    # Subscribing again (to another plan) brings the new plan's limits back.
    _pay(billing, billing.checkout("pro"))
    back = billing.subscription()
    assert (back.status, back.plan) == ("active", "pro")
    assert billing.limits().max_assets == 1000
    billing.world.asset(billing.world.a)
    assert billing.listener.reasons == ["trial_started", "paid", "renewed", "payment_failed",
                                        "past_due", "canceled", "paid"]


def test_upgrade_then_downgrade_to_free_keeps_everything(billing: Billing):
    _pay(billing, billing.checkout("basic"))
    basic = billing.subscription()

    _pay(billing, billing.checkout("pro"))
    pro = billing.subscription()
    assert (pro.plan, pro.status) == ("pro", "active")
    assert pro.external_id != basic.external_id
    # The basic plan's renewals stop at Midtrans; the pro plan's take their place.
    assert billing.emulator.subscriptions[basic.external_id]["status"] == "inactive"
    assert billing.emulator.subscriptions[pro.external_id]["status"] == "active"
    assert billing.emulator.subscriptions[pro.external_id]["amount"] == "449000"

    for _ in range(21):
        billing.world.asset(billing.world.a)
    result = billing.run(None, lambda s: s.subscribe("free"))
    assert result.checkout is None
    assert (result.subscription.plan, result.subscription.status) == ("free", "active")
    assert billing.emulator.subscriptions[pro.external_id]["status"] == "inactive"
    assert _asset_count(billing) == 21
    with pytest.raises(AssetLimitReached):
        billing.world.asset(billing.world.a)
    assert billing.listener.reasons == ["paid", "plan_changed", "plan_changed"]


def test_cancel_at_period_end_then_resume_then_lapse(billing: Billing):
    _pay(billing, billing.checkout("basic"))
    sub = billing.subscription()

    canceled = billing.run(None, lambda s: s.cancel_at_period_end())
    assert canceled.cancel_at_period_end and canceled.status == "active"
    assert billing.emulator.subscriptions[sub.external_id]["status"] == "inactive"
    resumed = billing.run(None, lambda s: s.resume())
    assert not resumed.cancel_at_period_end
    assert billing.emulator.subscriptions[sub.external_id]["status"] == "active"
    with pytest.raises(SubscriptionStateConflict):
        billing.run(None, lambda s: s.resume())

    billing.run(None, lambda s: s.cancel_at_period_end())
    billing.clock.set(sub.current_period_end - MINUTE)
    billing.reconcile()
    assert billing.subscription().status == "active"  # paid until the period's end
    billing.clock.set(sub.current_period_end + MINUTE)
    billing.reconcile()
    assert billing.subscription().status == "canceled"
    assert billing.limits().plan == "free"
    assert billing.listener.reasons == ["paid", "cancel_scheduled", "resumed",
                                        "cancel_scheduled", "canceled"]


def test_a_trial_is_once_and_runs_out_to_the_free_plan(billing: Billing):
    billing.run(None, lambda s: s.start_trial("pro"))
    with pytest.raises(SubscriptionStateConflict):
        billing.run(None, lambda s: s.start_trial("pro"))
    billing.clock.set(billing.clock.now + dt.timedelta(days=14, minutes=1))
    billing.reconcile()
    assert billing.subscription().status == "canceled"
    assert billing.limits().plan == "free"
    with pytest.raises(SubscriptionStateConflict):
        billing.run(None, lambda s: s.start_trial("basic"))


def test_replayed_and_out_of_order_notifications_change_nothing(billing: Billing):
    emulator = billing.emulator
    order_id = billing.checkout("basic")
    emulator.set_status(order_id, "pending")  # the customer chose a transfer, then a card
    emulator.pay(order_id, transaction_status="capture")
    emulator.set_status(order_id, "settlement")
    pending, capture, settlement = (body for _url, body in emulator.held)
    emulator.held = []

    # Newest first, then again: only the first paid one changes anything.
    assert billing.apply(settlement).outcome == "applied"
    assert billing.apply(capture).outcome == "duplicate"  # paid as well: the same event
    assert billing.apply(pending).outcome == "stale"  # no move back from paid
    assert billing.apply(settlement).outcome == "duplicate"
    assert billing.apply(pending).outcome == "duplicate"
    assert billing.subscription().status == "active"
    assert [a.status for a in billing.attempts()] == ["paid"]
    assert billing.listener.reasons == ["paid"]


def test_a_settlement_reversed_by_deny_takes_the_plan_back(billing: Billing):
    _pay(billing, billing.checkout("pro"))
    order_id = billing.attempts()[0].order_id
    billing.emulator.set_status(order_id, "deny", status_code="202")
    assert [o.outcome for o in billing.deliver()] == ["applied"]
    sub = billing.subscription()
    assert sub.status == "canceled"
    assert billing.limits().plan == "free"
    assert billing.attempts()[0].status == "denied"
    assert billing.run(None, lambda s: s.invoices()) == []
    assert billing.listener.reasons == ["paid", "reversed"]


def test_a_lost_payment_notification_is_found_by_the_reconciler(billing: Billing):
    order_id = billing.checkout("business")
    billing.emulator.drop_next()
    billing.emulator.pay(order_id)
    assert billing.emulator.held == []  # never sent
    assert billing.subscription() is None

    counts = billing.reconcile()

    assert counts.get("order_applied") == 1
    sub = billing.subscription()
    assert (sub.plan, sub.status) == ("business", "active")
    assert sub.external_id in billing.emulator.subscriptions  # renewals set up as usual
    assert billing.reconcile().get("order_applied") is None  # nothing open any more


def test_a_payment_of_another_amount_changes_nothing(billing: Billing):
    order_id = billing.checkout("pro")
    billing.emulator.transactions[order_id]["amount"] = 1000  # what Midtrans says was paid
    billing.emulator.pay(order_id)
    assert [o.outcome for o in billing.deliver()] == ["amount_mismatch"]
    assert billing.subscription() is None
    assert [a.status for a in billing.attempts()] == ["pending"]


def test_a_checkout_never_paid_is_given_up_after_two_days(billing: Billing):
    billing.checkout("basic")
    assert billing.reconcile().get("order_expired") is None
    billing.clock.set(billing.clock.now + dt.timedelta(days=2, minutes=1))

    assert billing.reconcile().get("order_expired") == 1
    assert [a.status for a in billing.attempts()] == ["expired"]
    assert billing.subscription() is None
    assert billing.reconcile() == {}  # no longer asked about
