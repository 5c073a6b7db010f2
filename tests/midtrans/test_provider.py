"""The Midtrans provider against the emulator: checkout, status, subscriptions, retries, keys."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from anthias_edge.errors import InvalidPluginSetting, NotificationRejected, PaymentProviderError
from anthias_edge.plugins.builtin.midtrans import build_provider
from anthias_edge.plugins.payment import CheckoutRequest, PaymentProvider, SubscriptionRequest
from tests.midtrans.conftest import emulator_settings


def _checkout(order_id: str = "ae-t1-0001", amount: int = 150000, **extra) -> CheckoutRequest:
    values = dict(order_id=order_id, amount=amount, currency="IDR",
                  description="Anthias Edge Basic, 1 month", idempotency_key=f"key-{order_id}",
                  customer_email="o@example.com",
                  return_url="https://cloud.example/console/billing")
    values.update(extra)
    return CheckoutRequest(**values)


def _subscription_request(token: str, **extra) -> SubscriptionRequest:
    values = dict(name="ae-t1 basic", amount=150000, currency="IDR", interval="month",
                  interval_count=1, saved_card_token=token,
                  start_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
                  idempotency_key="sub-key-1", metadata={"tenant": "t1", "plan": "basic"})
    values.update(extra)
    return SubscriptionRequest(**values)


def test_the_provider_meets_the_payment_contract(make_provider):
    provider = make_provider()

    assert isinstance(provider, PaymentProvider)
    assert provider.name == "midtrans"
    assert provider.currencies == ("IDR",)


def test_a_checkout_answers_snaps_page_and_sends_key_idempotency_and_webhook(emulator,
                                                                            make_provider):
    provider = make_provider(notification_url="https://cloud.example/api/v3/payments/"
                                              "midtrans/notification")

    checkout = provider.create_checkout(_checkout(save_card=True))

    assert checkout.redirect_url.startswith(f"{emulator.url}/snap/v3/redirection/")
    assert checkout.token in checkout.redirect_url
    (call,) = emulator.calls("POST", "/snap/v1/transactions")
    expected = base64.b64encode(f"{emulator.server_key}:".encode()).decode()
    assert call["headers"]["authorization"] == f"Basic {expected}"
    assert call["headers"]["idempotency-key"] == "key-ae-t1-0001"
    assert call["headers"]["x-override-notification"].endswith("/midtrans/notification")
    assert call["body"]["transaction_details"] == {"order_id": "ae-t1-0001",
                                                   "gross_amount": 150000}
    assert call["body"]["credit_card"]["save_card"] is True
    assert call["body"]["callbacks"] == {"finish": "https://cloud.example/console/billing"}


def test_an_order_not_yet_paid_is_pending_then_paid_after_the_customer_pays(emulator,
                                                                           make_provider):
    provider = make_provider()
    provider.create_checkout(_checkout(save_card=True))

    before = provider.fetch_transaction_status("ae-t1-0001")
    emulator.pay("ae-t1-0001")
    after = provider.fetch_transaction_status("ae-t1-0001")

    assert (before.status, before.transaction_id) == ("pending", None)
    assert after.status == "paid"
    assert (after.amount, after.currency) == (150000, "IDR")
    assert after.saved_card_token and after.transaction_id


@pytest.mark.parametrize(("midtrans", "fraud", "ours"), [
    ("settlement", "accept", "paid"), ("capture", "challenge", "pending"),
    ("capture", "deny", "denied"), ("deny", "accept", "denied"), ("expire", "accept", "expired"),
    ("refund", "accept", "refunded"), ("partial_chargeback", "accept", "chargeback"),
    ("cancel", "accept", "canceled"),
])
def test_midtrans_statuses_are_normalised(emulator, make_provider, midtrans, fraud, ours):
    provider = make_provider()
    provider.create_checkout(_checkout())
    emulator.pay("ae-t1-0001")
    emulator.set_status("ae-t1-0001", midtrans, fraud_status=fraud, notify=False)

    assert provider.fetch_transaction_status("ae-t1-0001").status == ours


def test_a_5xx_is_retried_with_backoff_and_the_same_idempotency_key(emulator, make_provider):
    provider = make_provider()
    emulator.fail_next(2, status=503)

    checkout = provider.create_checkout(_checkout())

    calls = emulator.calls("POST", "/snap/v1/transactions")
    assert len(calls) == 3
    assert {c["headers"]["idempotency-key"] for c in calls} == {"key-ae-t1-0001"}
    assert provider.sleeps == [0.5, 1.0]
    assert emulator.transactions["ae-t1-0001"]["token"] == checkout.token


def test_a_timed_out_create_retried_gets_the_first_answer_not_a_second_order(emulator,
                                                                           make_provider):
    provider = make_provider(timeout_seconds=1)
    emulator.stall_next(1, seconds=2.5)

    checkout = provider.create_checkout(_checkout())

    assert len(emulator.calls("POST", "/snap/v1/transactions")) == 2
    assert list(emulator.transactions) == ["ae-t1-0001"]
    assert emulator.transactions["ae-t1-0001"]["token"] == checkout.token


def test_retries_exhausted_raise_a_provider_error_naming_the_failure(emulator, make_provider):
    provider = make_provider(retries=1)
    emulator.fail_next(5)

    with pytest.raises(PaymentProviderError, match="HTTP 500"):
        provider.fetch_transaction_status("ae-t1-0001")
    assert len(emulator.calls("GET", "/v2/")) == 2


def test_a_post_without_idempotency_key_is_not_retried(emulator, make_provider):
    provider = make_provider()
    emulator.fail_next(1)

    with pytest.raises(PaymentProviderError):
        provider.create_checkout(_checkout(idempotency_key=None))
    assert len(emulator.calls("POST", "/snap/v1/transactions")) == 1


def test_a_wrong_server_key_is_reported_without_the_key(emulator, make_provider):
    provider = make_provider(server_key="SB-Mid-server-wrong")

    with pytest.raises(PaymentProviderError) as caught:
        provider.create_checkout(_checkout())
    assert "Access denied" in caught.value.message
    assert "SB-Mid-server-wrong" not in caught.value.message


def test_a_sandbox_key_is_refused_in_production(emulator):
    with pytest.raises(InvalidPluginSetting, match="sandbox server key"):
        build_provider(emulator_settings(emulator, environment="production"))


def test_production_without_overrides_calls_midtrans_production_hosts(emulator):
    provider = build_provider({**emulator_settings(emulator, environment="production",
                                                   server_key="Mid-server-live"),
                               "snap_url": "", "api_url": ""})

    assert provider._client.config.snap_url == "https://app.midtrans.com/snap/v1"
    assert provider._client.config.api_url == "https://api.midtrans.com"


def test_subscription_create_get_disable_enable(emulator, make_provider):
    provider = make_provider()
    provider.create_checkout(_checkout(save_card=True))
    token = emulator.pay("ae-t1-0001")["saved_token_id"]

    created = provider.create_subscription(_subscription_request(token))
    disabled = provider.cancel_subscription(created.subscription_id)
    enabled = provider.resume_subscription(created.subscription_id)
    emulator.charge_subscription(created.subscription_id)
    fetched = provider.fetch_subscription_status(created.subscription_id)

    assert (created.status, created.amount, created.currency) == ("active", 150000, "IDR")
    assert created.next_charge_at is not None
    body = emulator.calls("POST", "/v1/subscriptions")[0]["body"]
    assert body["schedule"]["interval_unit"] == "month"
    assert body["schedule"]["start_time"].endswith("+0700")
    assert body["amount"] == "150000"
    assert disabled.status == "inactive"
    assert enabled.status == "active"
    assert len(fetched.transaction_ids) == 1


def test_a_subscription_on_no_saved_card_is_refused_with_midtrans_reasons(emulator,
                                                                         make_provider):
    with pytest.raises(PaymentProviderError, match="not a saved card"):
        make_provider().create_subscription(_subscription_request("no-such-token"))


def test_a_signed_transaction_notification_is_believed(emulator, make_provider):
    provider = make_provider()
    provider.create_checkout(_checkout(save_card=True))
    body = emulator.pay("ae-t1-0001")

    notification = provider.verify_notification({}, json.dumps(body).encode())

    assert notification.kind == "transaction"
    assert (notification.order_id, notification.status) == ("ae-t1-0001", "paid")
    assert (notification.amount, notification.currency) == (150000, "IDR")
    assert notification.saved_card_token == body["saved_token_id"]


@pytest.mark.parametrize("change", [
    {"signature_key": "0" * 128}, {"gross_amount": "1000.00"}, {"status_code": "201"},
    {"order_id": "ae-t1-other"}, {"signature_key": None},
])
def test_a_forged_or_altered_notification_is_rejected(emulator, make_provider, change):
    provider = make_provider()
    provider.create_checkout(_checkout())
    body = {**emulator.pay("ae-t1-0001"), **change}

    with pytest.raises(NotificationRejected):
        provider.verify_notification({}, json.dumps(body).encode())


def test_a_notification_signed_with_another_key_is_rejected(emulator, make_provider):
    provider = make_provider(server_key="SB-Mid-server-someoneElse")
    emulator_provider = make_provider()
    emulator_provider.create_checkout(_checkout())
    body = emulator.pay("ae-t1-0001")

    with pytest.raises(NotificationRejected, match="signature"):
        provider.verify_notification({}, json.dumps(body).encode())


def test_a_subscription_notification_is_believed_only_as_midtrans_confirms_it(emulator,
                                                                             make_provider):
    provider = make_provider()
    provider.create_checkout(_checkout(save_card=True))
    token = emulator.pay("ae-t1-0001")["saved_token_id"]
    sub = provider.create_subscription(_subscription_request(token))
    charge = emulator.charge_subscription(sub.subscription_id)
    claimed = {"transaction": {"transaction_id": charge["transaction_id"],
                               "transaction_status": "settlement", "status_code": "200"},
               "subscription": {"id": sub.subscription_id, "status": "active",
                                "amount": "1"},
               "event_name": "subscription.charge"}

    notification = provider.verify_notification({}, json.dumps(claimed).encode())

    assert notification.kind == "subscription"
    assert notification.subscription_id == sub.subscription_id
    assert notification.transaction_id == charge["transaction_id"]
    assert notification.order_id == charge["order_id"]
    assert (notification.status, notification.amount) == ("paid", 150000)  # not the claim


@pytest.mark.parametrize("claimed", [
    {"subscription": {"id": "no-such-subscription", "status": "active"}},
    {"id": "no-such-subscription", "status": "active"},
    {"transaction": {"transaction_id": "x"}, "subscription": {"id": "no-such"}},
    {"hello": "world"},
    [1, 2],
])
def test_an_unconfirmed_subscription_notification_is_rejected(make_provider, claimed):
    with pytest.raises(NotificationRejected):
        make_provider().verify_notification({}, json.dumps(claimed).encode())


def test_a_charge_not_of_the_named_subscription_is_rejected(emulator, make_provider):
    provider = make_provider()
    provider.create_checkout(_checkout(save_card=True))
    token = emulator.pay("ae-t1-0001")["saved_token_id"]
    first = provider.create_subscription(_subscription_request(token))
    other = provider.create_subscription(_subscription_request(token, idempotency_key="k2"))
    charge = emulator.charge_subscription(other.subscription_id)
    claimed = {"transaction": {"transaction_id": charge["transaction_id"]},
               "subscription": {"id": first.subscription_id}}

    with pytest.raises(NotificationRejected, match="not one of"):
        provider.verify_notification({}, json.dumps(claimed).encode())


def test_a_202_while_midtrans_still_works_on_the_key_is_asked_again(emulator, make_provider):
    provider = make_provider()
    emulator.fail_next(1, status=202)

    checkout = provider.create_checkout(_checkout())

    assert len(emulator.calls("POST", "/snap/v1/transactions")) == 2
    assert checkout.token == emulator.transactions["ae-t1-0001"]["token"]
