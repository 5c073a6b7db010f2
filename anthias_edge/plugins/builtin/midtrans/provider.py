"""``MidtransProvider``: the payment contract (``plugins/payment.py``) over Midtrans's APIs.

- First payment: a Snap transaction (hosted page) asking to save the card, so the renewals
  can be charged by the Subscription API (integrations.md 1.2, 1.4).
- Status: Core API ``GET /v2/{order_id}/status``; a 404 means the customer has not yet
  chosen how to pay, so the order is still ``pending``.
- Notifications: a transaction notification is believed only when its SHA-512 signature is
  ours; a subscription notification carries none, so it is believed only as far as
  ``GET /v1/subscriptions/{id}`` (and ``GET /v2/{transaction_id}/status`` for a charge)
  confirm it, and what is returned is the gateway's answer, never the body's claims.

The server key is only ever sent to Midtrans (HTTP Basic); it is in no value returned here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anthias_edge.errors import NotificationRejected, PaymentProviderError
from anthias_edge.plugins.builtin.midtrans.client import Answer, MidtransClient, error_text
from anthias_edge.plugins.builtin.midtrans.statuses import (
    midtrans_time,
    parse_midtrans_time,
    signature_matches,
    subscription_state,
    transaction_state,
    whole_amount,
)
from anthias_edge.plugins.payment import (
    Checkout,
    CheckoutRequest,
    PaymentNotification,
    ProviderSubscription,
    SubscriptionRequest,
    TransactionStatus,
)

NAME = "midtrans"
# Subscription names: at most 40 characters of letters, digits and - _ ~ . (integrations 1.4).
NAME_LENGTH = 40
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_~.")


class MidtransProvider:
    """Midtrans as a ``PaymentProvider`` (IDR only, as Midtrans charges)."""

    name = NAME
    currencies = ("IDR",)

    def __init__(self, client: MidtransClient) -> None:
        """``client``: the configured HTTP client (it holds the server key)."""
        self._client = client

    def create_checkout(self, request: CheckoutRequest) -> Checkout:
        """A Snap transaction for ``request``; answers the page to send the customer to."""
        self._check_currency(request.currency)
        body: dict[str, Any] = {
            "transaction_details": {"order_id": request.order_id,
                                    "gross_amount": request.amount},
            "item_details": [{"id": request.order_id[:50], "price": request.amount,
                              "quantity": 1, "name": request.description[:50]}],
            "credit_card": {"secure": True, "save_card": request.save_card},
        }
        customer = {key: value for key, value in (("email", request.customer_email),
                                                  ("first_name", request.customer_name))
                    if value}
        if customer:
            body["customer_details"] = customer
        if request.save_card:  # Snap keeps a card per user id (integrations.md 1.2)
            body["user_id"] = request.customer_email or request.order_id
        if request.return_url:
            body["callbacks"] = {"finish": request.return_url}
        answer = self._client.snap("POST", "/transactions", body,
                                   idempotency_key=request.idempotency_key, notify=True)
        if answer.status not in (200, 201) or not answer.body.get("redirect_url"):
            raise PaymentProviderError(f"Midtrans refused the checkout: {error_text(answer)}.")
        return Checkout(order_id=request.order_id, redirect_url=str(answer.body["redirect_url"]),
                        token=_text(answer.body.get("token")))

    def fetch_transaction_status(self, order_id: str) -> TransactionStatus:
        """The gateway's view of ``order_id``; not yet known to Midtrans means pending."""
        answer = self._client.core("GET", f"/v2/{_segment(order_id)}/status")
        if answer.status == 404 or str(answer.body.get("status_code")) == "404":
            return TransactionStatus(order_id=order_id, transaction_id=None, status="pending",
                                     amount=None, currency=None, status_code="404",
                                     raw=dict(answer.body))
        _require_ok(answer, "transaction status")
        return _transaction_status(answer.body, order_id)

    def fetch_subscription_status(self, subscription_id: str) -> ProviderSubscription:
        """``GET /v1/subscriptions/{id}`` as a ``ProviderSubscription``."""
        answer = self._client.core("GET", f"/v1/subscriptions/{_segment(subscription_id)}")
        _require_ok(answer, "subscription")
        return _subscription(answer.body)

    def create_subscription(self, request: SubscriptionRequest) -> ProviderSubscription:
        """``POST /v1/subscriptions``: charge the saved card every interval from ``start_at``."""
        self._check_currency(request.currency)
        body: dict[str, Any] = {
            "name": subscription_name(request.name),
            "amount": str(request.amount),
            "currency": request.currency,
            "payment_type": "credit_card",
            "token": request.saved_card_token,
            # All four schedule fields, as the OpenAPI block of the docs requires; a null
            # max_interval charges until the subscription is disabled.
            "schedule": {"interval": request.interval_count,
                         "interval_unit": request.interval,
                         "max_interval": None,
                         "start_time": midtrans_time(request.start_at)},
            "metadata": dict(request.metadata),
        }
        if request.customer_email:
            body["customer_details"] = {"email": request.customer_email}
        answer = self._client.core("POST", "/v1/subscriptions", body,
                                   idempotency_key=request.idempotency_key)
        _require_ok(answer, "subscription")
        return _subscription(answer.body)

    def cancel_subscription(self, subscription_id: str) -> ProviderSubscription:
        """Disable future charges, then report the subscription as Midtrans now has it."""
        return self._switch(subscription_id, "disable")

    def resume_subscription(self, subscription_id: str) -> ProviderSubscription:
        """Enable the charges again, then report the subscription."""
        return self._switch(subscription_id, "enable")

    def verify_notification(self, headers: Mapping[str, str], body: bytes
                            ) -> PaymentNotification:
        """Believe a notification only as the module docstring says; else NotificationRejected."""
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise NotificationRejected("The notification is not JSON.") from None
        if not isinstance(data, dict):
            raise NotificationRejected("The notification is not a JSON object.")
        if "signature_key" in data:
            return self._transaction_notification(data)
        subscription = data.get("subscription") if isinstance(data.get("subscription"),
                                                               dict) else None
        if subscription is not None or data.get("id"):
            return self._subscription_notification(data, subscription or data)
        raise NotificationRejected("The notification has no signature and names no "
                                   "subscription.")

    def _transaction_notification(self, data: Mapping[str, Any]) -> PaymentNotification:
        if not signature_matches(data, self._client.config.server_key):
            raise NotificationRejected("The notification's signature does not match.")
        return PaymentNotification(
            kind="transaction", order_id=_text(data.get("order_id")),
            transaction_id=_text(data.get("transaction_id")),
            status=transaction_state(data), status_code=_text(data.get("status_code")),
            amount=whole_amount(data.get("gross_amount")), currency=_text(data.get("currency")),
            saved_card_token=_text(data.get("saved_token_id")), raw=dict(data))

    def _subscription_notification(self, data: Mapping[str, Any],
                                   claimed: Mapping[str, Any]) -> PaymentNotification:
        subscription_id = _text(claimed.get("id"))
        if not subscription_id:
            raise NotificationRejected("The subscription notification names no subscription.")
        confirmed = self._confirmed(lambda: self.fetch_subscription_status(subscription_id))
        charge = data.get("transaction") if isinstance(data.get("transaction"), dict) else None
        raw = {"notification": dict(data), "subscription": dict(confirmed.raw)}
        if charge is None:  # created, enabled or disabled: the gateway's status is the news
            return PaymentNotification(kind="subscription", order_id=None, transaction_id=None,
                                       status=confirmed.status, amount=confirmed.amount,
                                       currency=confirmed.currency,
                                       subscription_id=confirmed.subscription_id, raw=raw)
        transaction_id = _text(charge.get("transaction_id"))
        if not transaction_id:
            raise NotificationRejected("The subscription charge names no transaction.")
        status = self._confirmed(lambda: self.fetch_transaction_status(transaction_id))
        if status.transaction_id is None:
            raise NotificationRejected("Midtrans does not know the charged transaction.")
        if status.transaction_id not in confirmed.transaction_ids and status.status == "paid":
            raise NotificationRejected("The paid charge is not one of the subscription's.")
        raw["transaction"] = dict(status.raw)
        return PaymentNotification(
            kind="subscription", order_id=status.order_id, transaction_id=status.transaction_id,
            status=status.status, status_code=status.status_code, amount=status.amount,
            currency=status.currency, subscription_id=confirmed.subscription_id,
            saved_card_token=status.saved_card_token, raw=raw)

    @staticmethod
    def _confirmed(fetch: Any) -> Any:
        # A subscription Midtrans says does not exist was forged; an unreachable Midtrans is
        # the provider's fault (the notification will come again, or the reconciler asks).
        try:
            return fetch()
        except PaymentProviderError as exc:
            if isinstance(exc.details, dict) and exc.details.get("status") == 404:
                raise NotificationRejected("Midtrans does not confirm the notification.") \
                    from None
            raise

    def _switch(self, subscription_id: str, action: str) -> ProviderSubscription:
        answer = self._client.core("POST",
                                   f"/v1/subscriptions/{_segment(subscription_id)}/{action}")
        _require_ok(answer, f"subscription {action}")
        return self.fetch_subscription_status(subscription_id)

    def _check_currency(self, currency: str) -> None:
        if currency not in self.currencies:
            raise PaymentProviderError(f"Midtrans charges only in IDR, not {currency}.")


def subscription_name(name: str) -> str:
    """``name`` as Midtrans accepts it: its allowed characters, at most 40 of them."""
    cleaned = "".join(c if c in _NAME_CHARS else "-" for c in name)
    return cleaned[:NAME_LENGTH] or "anthias-edge"


def _subscription(body: Mapping[str, Any]) -> ProviderSubscription:
    subscription_id = _text(body.get("id"))
    if not subscription_id:
        raise PaymentProviderError("Midtrans answered a subscription without an id.")
    schedule = body.get("schedule") if isinstance(body.get("schedule"), dict) else {}
    ids = body.get("transaction_ids") if isinstance(body.get("transaction_ids"), list) else []
    return ProviderSubscription(
        subscription_id=subscription_id, status=subscription_state(body),
        amount=whole_amount(body.get("amount")), currency=_text(body.get("currency")),
        next_charge_at=parse_midtrans_time(schedule.get("next_execution_at")),
        transaction_ids=tuple(str(i) for i in ids), raw=dict(body))


def _transaction_status(body: Mapping[str, Any], order_id: str) -> TransactionStatus:
    return TransactionStatus(
        order_id=_text(body.get("order_id")) or order_id,
        transaction_id=_text(body.get("transaction_id")), status=transaction_state(body),
        amount=whole_amount(body.get("gross_amount")), currency=_text(body.get("currency")),
        status_code=_text(body.get("status_code")),
        saved_card_token=_text(body.get("saved_token_id")), raw=dict(body))


def _require_ok(answer: Answer, what: str) -> None:
    code = str(answer.body.get("status_code") or "")
    if answer.status >= 400 or (code.isdigit() and int(code) >= 400 and code != "407"):
        status = answer.status if answer.status >= 400 else int(code)
        raise PaymentProviderError(
            f"Midtrans refused the {what} request (HTTP {status}): {error_text(answer)}.",
            details={"status": status})


def _segment(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
