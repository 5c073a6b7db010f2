"""A Midtrans emulator: a real HTTP server on 127.0.0.1 that follows the published API.

What it serves (integrations.md §1, from docs.midtrans.com): Snap ``POST /snap/v1/transactions``
(201 ``{token, redirect_url}``) and its hosted page ``/snap/v3/redirection/<token>`` with a Pay
button; Core ``GET /v2/<order or transaction id>/status`` (404 until the customer pays); the
Subscription API (``POST /v1/subscriptions``, ``GET /v1/subscriptions/<id>``, ``.../disable``,
``.../enable``). It checks HTTP Basic auth with the server key, keeps order ids unique,
replays a stored success for a repeated ``Idempotency-Key``, and POSTs notifications (JSON,
``User-Agent: Veritrans``) signed with SHA-512(order_id + status_code + gross_amount + server
key) to the ``X-Override-Notification`` URL of the transaction, else the dashboard's URLs.

Controls a test uses instead of a customer or a misbehaving network: ``pay`` (the customer
pays on Snap's page), ``set_status`` (later moves: settlement, deny after settlement,
refund, expire), ``charge_subscription``, ``fail_next`` (5xx), ``stall_next`` (answers after
the client gave up, having done the work), ``drop_next``, ``duplicate``, ``hold`` and
``release`` (out of order), ``send`` (any body, forged or not). Nothing here is our code.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests

SERVER_KEY = "SB-Mid-server-emulatorKey0123456789"
JAKARTA = dt.timezone(dt.timedelta(hours=7))
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def sign(order_id: str, status_code: str, gross_amount: str, server_key: str) -> str:
    """The ``signature_key`` Midtrans computes for a transaction notification."""
    return hashlib.sha512(f"{order_id}{status_code}{gross_amount}{server_key}".encode()
                          ).hexdigest()


def _now() -> str:
    return dt.datetime.now(JAKARTA).strftime(TIME_FORMAT)


@dataclass
class Delivery:
    """One notification POSTed to a webhook and what the webhook answered."""

    url: str
    body: dict[str, Any]
    status: int | None
    answer: str


@dataclass
class Emulator:
    """The emulator's state and controls; ``url`` is its base (Snap at ``url/snap/v1``)."""

    server_key: str = SERVER_KEY
    url: str = ""
    # The dashboard's Payment and Recurring Notification URLs.
    payment_notification_url: str | None = None
    recurring_notification_url: str | None = None
    transactions: dict[str, dict[str, Any]] = field(default_factory=dict)
    snap_tokens: dict[str, str] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    held: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _idempotent: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    _fail: list[int] = field(default_factory=list)
    _stall: list[float] = field(default_factory=list)
    _drop: int = 0
    _duplicate: bool = False
    _holding: bool = False
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # -- controls -------------------------------------------------------------------------

    def snap_url(self) -> str:
        """The Snap base URL to configure (``snap_url`` setting)."""
        return f"{self.url}/snap/v1"

    def fail_next(self, count: int = 1, status: int = 500) -> None:
        """Answer the next ``count`` API calls with ``status`` (a 5xx), doing nothing."""
        self._fail.extend([status] * count)

    def stall_next(self, count: int = 1, seconds: float = 2.0) -> None:
        """Do the next ``count`` calls' work but answer only after ``seconds``."""
        self._stall.extend([seconds] * count)

    def drop_next(self, count: int = 1) -> None:
        """Lose the next ``count`` notifications (never sent)."""
        self._drop += count

    def duplicate(self, on: bool = True) -> None:
        """Send every notification twice."""
        self._duplicate = on

    def hold(self) -> None:
        """Keep notifications back until ``release``."""
        self._holding = True

    def release(self, *, reverse: bool = False) -> list[Delivery]:
        """Send the held notifications, in order or (``reverse``) newest first."""
        self._holding = False
        held, self.held = self.held, []
        return [self._post(url, body) for url, body in (held[::-1] if reverse else held)]

    def pay(self, order_id: str, *, transaction_status: str = "capture",
            fraud_status: str = "accept", payment_type: str = "credit_card") -> dict[str, Any]:
        """The customer pays ``order_id`` on Snap's page (a card, 3DS, saved if asked)."""
        with self._lock:
            tx = self.transactions[order_id]
            tx.update(transaction_id=tx.get("transaction_id") or str(uuid.uuid4()),
                      payment_type=payment_type, transaction_time=_now())
            if payment_type == "credit_card":
                tx.update(masked_card="481111-1114", card_type="credit", bank="bni")
                if tx.get("save_card"):
                    tx.update(saved_token_id=f"481111{uuid.uuid4().hex[:12]}-1114",
                              saved_token_id_expired_at="2030-12-31 07:00:00")
        return self.set_status(order_id, transaction_status, fraud_status=fraud_status)

    def set_status(self, order_id: str, transaction_status: str, *,
                   fraud_status: str = "accept", status_code: str | None = None,
                   notify: bool = True) -> dict[str, Any]:
        """Move a transaction (settlement, deny, refund, expire, ...) and notify about it."""
        codes = {"capture": "200", "settlement": "200", "pending": "201", "deny": "202",
                 "cancel": "200", "expire": "407", "refund": "200", "partial_refund": "200",
                 "chargeback": "200", "failure": "202"}
        with self._lock:
            tx = self.transactions[order_id]
            tx.setdefault("transaction_id", str(uuid.uuid4()))
            tx.update(transaction_status=transaction_status, fraud_status=fraud_status,
                      status_code=status_code or codes.get(transaction_status, "200"),
                      status_message=f"Success, transaction is {transaction_status}")
            if transaction_status == "settlement":
                tx["settlement_time"] = _now()
            body = self.notification_body(order_id)
        if notify:
            self._notify(tx.get("notify_url") or self.payment_notification_url, body)
        return body

    def notification_body(self, order_id: str) -> dict[str, Any]:
        """What Midtrans POSTs about ``order_id`` now, signed."""
        tx = self.transactions[order_id]
        body = {k: v for k, v in tx.items()
                if k not in ("notify_url", "save_card", "user_id", "token", "amount",
                             "finish_url", "subscription_id")}
        body.update(gross_amount=f"{tx['amount']}.00", currency="IDR",
                    merchant_id="G000000000", transaction_time=tx.get("transaction_time")
                    or _now())
        body["signature_key"] = sign(order_id, body["status_code"], body["gross_amount"],
                                     self.server_key)
        return body

    def send(self, body: dict[str, Any], url: str | None = None) -> Delivery:
        """POST any body (forged, replayed, changed) to a webhook now."""
        return self._post(url or self.payment_notification_url or "", body)

    def charge_subscription(self, subscription_id: str, *, succeed: bool = True,
                            exhausted: bool = True) -> dict[str, Any]:
        """Run the subscription's next charge; a failure with ``exhausted`` retries sets it
        inactive. Sends the transaction notification and the subscription one."""
        with self._lock:
            sub = self.subscriptions[subscription_id]
            order_id = f"SUBS-{sub['name']}-{int(time.time())}{next(self._counter)}"
            self.transactions[order_id] = {
                "order_id": order_id, "amount": int(sub["amount"]),
                "transaction_id": str(uuid.uuid4()), "payment_type": "credit_card",
                "transaction_time": _now(), "subscription_id": subscription_id}
            schedule = sub["schedule"]
            schedule["current_interval"] += 1
            if succeed:
                sub["transaction_ids"].append(self.transactions[order_id]["transaction_id"])
                schedule["previous_execution_at"] = _now()
            elif exhausted:
                sub["status"] = "inactive"
        body = self.set_status(order_id, "capture" if succeed else "deny",
                               status_code=None if succeed else "202", notify=False)
        self._notify(self.payment_notification_url, body)
        self._notify(self.recurring_notification_url, {
            "transaction": {k: body[k] for k in ("transaction_id", "transaction_status",
                                                 "status_code", "order_id", "gross_amount")},
            "subscription": self.subscription_body(subscription_id),
            "event_name": "subscription.charge"})
        return body

    def subscription_body(self, subscription_id: str) -> dict[str, Any]:
        """The subscription as ``GET /v1/subscriptions/<id>`` answers it."""
        return json.loads(json.dumps(self.subscriptions[subscription_id]))

    def calls(self, method: str, path_start: str) -> list[dict[str, Any]]:
        """The API calls received with that method and path prefix, oldest first."""
        return [r for r in self.requests
                if r["method"] == method and r["path"].startswith(path_start)]

    # -- delivery -----------------------------------------------------------------------

    def _notify(self, url: str | None, body: dict[str, Any]) -> None:
        if not url:
            return
        if self._drop:
            self._drop -= 1
            return
        if self._holding:
            self.held.append((url, body))
            return
        self._post(url, body)
        if self._duplicate:
            self._post(url, body)

    def _post(self, url: str, body: dict[str, Any]) -> Delivery:
        try:
            response = requests.post(url, data=json.dumps(body), timeout=15, headers={
                "Content-Type": "application/json", "User-Agent": "Veritrans"})
            delivery = Delivery(url, body, response.status_code, response.text)
        except requests.RequestException as exc:
            delivery = Delivery(url, body, None, str(exc))
        self.deliveries.append(delivery)
        return delivery

    # -- the API ------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: Any
               ) -> tuple[int, Any]:
        """One API call: (status, JSON body or HTML text)."""
        self.requests.append({"method": method, "path": path, "headers": headers,
                              "body": body})
        if path.startswith("/snap/v3/"):
            return self._snap_page(method, path, body)
        if self._fail:
            return self._fail.pop(0), {"status_code": "500",
                                       "status_message": "Internal server error. Please retry."}
        if not self._authorised(headers):
            return 401, {"status_code": "401", "error_messages": [
                "Access denied due to unauthorized transaction, please check client or "
                "server key"]}
        key = headers.get("idempotency-key")
        if method == "POST" and key and key in self._idempotent:
            return self._idempotent[key]
        status, answer = self._route(method, path, headers, body)
        if method == "POST" and key and status < 300:
            self._idempotent[key] = (status, answer)
        return status, answer

    def _authorised(self, headers: dict[str, str]) -> bool:
        expected = base64.b64encode(f"{self.server_key}:".encode()).decode()
        return headers.get("authorization") == f"Basic {expected}"

    def _route(self, method: str, path: str, headers: dict[str, str], body: Any
               ) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        with self._lock:
            if method == "POST" and path == "/snap/v1/transactions":
                return self._snap_create(headers, body)
            if method == "GET" and len(parts) == 3 and parts[0] == "v2" and parts[2] == "status":
                return self._status(parts[1])
            if parts[:2] == ["v1", "subscriptions"]:
                return self._subscriptions(method, parts[2:], body)
        return 404, {"status_code": "404", "status_message": "Not found."}

    def _snap_create(self, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        details = (body or {}).get("transaction_details") or {}
        order_id, amount = details.get("order_id"), details.get("gross_amount")
        if not isinstance(order_id, str) or not isinstance(amount, int) or amount < 1:
            return 400, {"error_messages": ["transaction_details.gross_amount is required",
                                            "transaction_details.order_id is required"]}
        items = body.get("item_details") or []
        if items and sum(i["price"] * i["quantity"] for i in items) != amount:
            return 400, {"error_messages": [
                "transaction_details.gross_amount is not equal to the sum of item_details"]}
        if order_id in self.transactions:
            return 400, {"error_messages": [
                "transaction_details.order_id sudah digunakan"]}
        token = uuid.uuid4().hex
        self.snap_tokens[token] = order_id
        self.transactions[order_id] = {
            "order_id": order_id, "amount": amount, "token": token,
            "save_card": bool((body.get("credit_card") or {}).get("save_card")),
            "user_id": body.get("user_id"),
            "finish_url": (body.get("callbacks") or {}).get("finish"),
            "notify_url": headers.get("x-override-notification")}
        return 201, {"token": token,
                     "redirect_url": f"{self.url}/snap/v3/redirection/{token}"}

    def _status(self, ident: str) -> tuple[int, Any]:
        tx = self.transactions.get(ident) or next(
            (t for t in self.transactions.values() if t.get("transaction_id") == ident), None)
        if tx is None or "transaction_status" not in tx:
            return 404, {"status_code": "404",
                         "status_message": "Transaction doesn't exist."}
        return 200, self.notification_body(tx["order_id"])

    def _subscriptions(self, method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        if method == "POST" and not rest:
            return self._subscription_create(body or {})
        sub = self.subscriptions.get(rest[0]) if rest else None
        if sub is None:
            return 404, {"status_message": "Subscription doesn't exist."}
        if method == "GET" and len(rest) == 1:
            return 200, self.subscription_body(rest[0])
        if method == "POST" and len(rest) == 2 and rest[1] in ("disable", "enable"):
            sub["status"] = "inactive" if rest[1] == "disable" else "active"
            return 200, {"status_message": "Subscription is updated."}
        return 404, {"status_message": "Not found."}

    def _subscription_create(self, body: dict[str, Any]) -> tuple[int, Any]:
        problems = []
        name, amount = body.get("name"), body.get("amount")
        if not isinstance(name, str) or not 0 < len(name) <= 40:
            problems.append("name is required (at most 40 characters)")
        if not isinstance(amount, str) or not amount.isdigit():
            problems.append("amount must be a string of digits")
        if body.get("currency") != "IDR":
            problems.append("currency must be IDR")
        if body.get("payment_type") not in ("credit_card", "gopay"):
            problems.append("payment_type must be credit_card or gopay")
        saved = {t.get("saved_token_id") for t in self.transactions.values()}
        if body.get("token") not in saved - {None}:
            problems.append("token is not a saved card of this merchant")
        schedule = body.get("schedule") or {}
        if set(schedule) != {"interval", "interval_unit", "max_interval", "start_time"}:
            problems.append("schedule needs interval, interval_unit, max_interval, start_time")
        elif schedule["interval_unit"] not in ("day", "week", "month"):
            problems.append("schedule.interval_unit must be day, week or month")
        else:
            try:
                start = dt.datetime.strptime(schedule["start_time"], "%Y-%m-%d %H:%M:%S %z")
            except (TypeError, ValueError):
                problems.append("schedule.start_time must be yyyy-MM-dd HH:mm:ss Z")
            else:
                if start <= dt.datetime.now(dt.UTC):
                    problems.append("schedule.start_time must be in the future")
        if problems:
            return 400, {"status_message": "Sorry, request is invalid.",
                         "validation_messages": problems}
        sub_id = str(uuid.uuid4())
        self.subscriptions[sub_id] = {
            "id": sub_id, "name": name, "amount": amount, "currency": "IDR",
            "created_at": _now(), "status": "active", "token": body["token"],
            "payment_type": body["payment_type"], "transaction_ids": [],
            "metadata": body.get("metadata") or {},
            "customer_details": body.get("customer_details") or {},
            "schedule": {**schedule, "current_interval": 0, "previous_execution_at": None,
                         "next_execution_at": start.astimezone(JAKARTA).strftime(
                             "%Y-%m-%d %H:%M:%S %z")}}
        return 200, self.subscription_body(sub_id)

    def _snap_page(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        token = path.rstrip("/").split("/")[-1]
        order_id = self.snap_tokens.get(token)
        if order_id is None:
            return 404, "<p>Unknown transaction</p>"
        tx = self.transactions[order_id]
        if method == "POST":  # the customer pressed Pay
            self.pay(order_id)
            finish = tx.get("finish_url")
            return 303, finish or f"{self.url}/snap/v3/finished/{token}"
        amount = f"Rp {tx['amount']:,}".replace(",", ".")
        return 200, (
            "<!doctype html><html lang='en'><head><title>Midtrans emulator</title></head>"
            f"<body><main><h1>Pay {html.escape(amount)}</h1>"
            f"<p>Order {html.escape(order_id)}</p>"
            f"<form method='post' action='/snap/v3/pay/{token}'>"
            "<button type='submit'>Pay now</button></form></main></body></html>")


def _handler(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type") or ""
            if content_type.startswith("application/json") and raw:
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = None
            else:
                body = {k: v[0] for k, v in parse_qs(raw.decode()).items()} if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = urlsplit(self.path).path
            stall = emulator._stall.pop(0) if emulator._stall and not path.startswith(
                "/snap/v3/") else 0.0
            status, answer = emulator.handle(self.command, path, headers, body)
            if stall:
                time.sleep(stall)  # the work is done; the answer comes too late
            if status == 303:
                payload, kind = b"", "text/plain"
                extra = {"Location": answer}
            elif isinstance(answer, str):
                payload, kind, extra = answer.encode(), "text/html; charset=utf-8", {}
            else:
                payload, kind, extra = json.dumps(answer).encode(), "application/json", {}
            try:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a stalled answer)

        do_GET = do_POST = do_PATCH = _serve

        def log_message(self, *_args: Any) -> None:  # quiet test output
            pass

    return Handler


@contextmanager
def running_emulator(**options: Any) -> Iterator[Emulator]:
    """An emulator on a free 127.0.0.1 port for the length of the block."""
    emulator = Emulator(**options)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(emulator))
    server.daemon_threads = True
    emulator.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="midtrans-emulator",
                              daemon=True)
    thread.start()
    try:
        yield emulator
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
