"""Isolation matrix generated from the route table: every v3 route and method, every role.

Each ``v3.`` endpoint must have an entry in ``CASES`` saying which permission it needs
and how to build a valid request; a route without one fails the suite, so a new
route is covered (or noticed) automatically.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask

from anthias_edge.api import v3
from anthias_edge.permissions import ROLE_PERMISSIONS, ROLES
from anthias_edge.services.qr_content import QRContentService
from tests.api.v3.conftest import World

V2_ASSET = {"name": "legacy", "uri": "https://example.com/", "mimetype": "webpage",
            "start_date": "2024-01-01T00:00:00Z", "end_date": "2030-01-01T00:00:00Z",
            "duration": 10, "is_enabled": True, "skip_asset_check": True}
V2_UPDATE = {"name": "renamed", "start_date": "2024-01-01T00:00:00Z",
             "end_date": "2030-01-01T00:00:00Z", "duration": 5, "is_enabled": False}


@dataclass(frozen=True)
class Request:
    """A concrete request: path arguments, JSON body and query."""

    args: dict[str, str]
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """An endpoint's needed permission (None: public) and a builder of a valid request.

    ``build(world, tenant)`` makes whatever object the request needs in ``tenant``.
    """

    permission: str | None
    build: Callable[[World, str], Request]
    object_args: bool = False  # the path names an object, so another tenant's is a 404


def _none(_w: World, _t: str) -> Request:
    return Request({})


def _asset(body: Any = None) -> Callable[[World, str], Request]:
    return lambda w, t: Request({"asset_id": w.asset(t)}, body)


def _legacy(prefix: str, body: Any = None) -> Callable[[World, str], Request]:
    def build(w: World, t: str) -> Request:
        rest = prefix if prefix == "assets" else f"assets/{w.asset(t)}"
        return Request({"rest": rest}, body)
    return build


def _new_user(_w: World, _t: str) -> Request:
    return Request({}, {"username": f"new{next(_USERS)}", "password": "long enough pw",
                        "role": "viewer"})


_USERS = iter(range(10**6))


def _console_session(w: World, t: str) -> Request:
    """A console sign-in on the world's client: the cookies stay in its jar."""
    w.client.post("/api/v3/auth/session", json={
        "username": w.usernames[(t, "owner")], "password": "correct horse battery",
        "tenant": t})
    return Request({}, headers={"X-CSRF-Token": w.client.get_cookie("ae_csrf").value})


def _qr(body: Any = None) -> Callable[[World, str], Request]:
    """A request naming a new QR content (with a barcode) of a new asset of the tenant."""
    def build(w: World, t: str) -> Request:
        with w.db():
            row = QRContentService(t).create(w.asset(t), include_barcode=True)
        return Request({"qr_code": row.qr_code}, body)
    return build


def _device(body: Any = None, tail: str = "") -> Callable[[World, str], Request]:
    """A request naming a new linked device of the tenant (with one asset in its inventory)."""
    def build(w: World, t: str) -> Request:
        from anthias_edge.models import Device, DeviceAsset

        with w.db():
            device = Device.create(tenant=t, name=f"screen {next(_USERS)}",
                                   public_key=secrets.token_urlsafe(32), linked_via="code")
            DeviceAsset.create(device_id=device.device_id, asset_id="menu", tenant=t,
                               name="Menu")
        return Request({"device_id": device.device_id}, body)
    return build


def _device_code(w: World, _t: str) -> Request:
    """A code a screen shows (not yet any tenant's), for an admin to claim."""
    from anthias_edge.services.fleet import start_device_code

    with w.db():
        ticket = start_device_code(secrets.token_urlsafe(32), "Kiosk")
    return Request({}, {"code": ticket.code})


def _fleet_token(w: World, t: str) -> Request:
    from anthias_edge.services.fleet import EnrolmentService

    with w.db():
        made = EnrolmentService(t).create_fleet_token("rollout", 2, _in_a_week())
    return Request({"token_id": made.row.token_id})


def _pairing_code(w: World, t: str) -> Request:
    from anthias_edge.services.fleet import EnrolmentService
    from anthias_edge.services.fleet.enrolment import pairing_code_id

    with w.db():
        made = EnrolmentService(t).create_pairing_code("Lobby")
    return Request({"code_id": pairing_code_id(made.row)})


def _in_a_week():
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=7)


def _upload(_w: World, _t: str) -> Request:
    return Request({}, headers={"Content-Type": "multipart/form-data; boundary=b"},
                   body=b'--b\r\nContent-Disposition: form-data; name="file"; '
                        b'filename="a.png"\r\n\r\npng\r\n--b--\r\n')

def _payment_notification(w: World, t: str) -> Request:
    """A notification signed as Midtrans signs it, for an order the tenant is paying.

    The world's deployment is given a Midtrans provider (no call reaches Midtrans: a signed
    transaction notification is verified by its signature alone).
    """
    import hashlib

    from anthias_edge.models.billing import PaymentAttempt
    from anthias_edge.plugins.builtin.midtrans import build_provider
    from anthias_edge.services.row_security import tenant_scope

    key = "SB-Mid-server-matrix"
    w.runtime.plugins.payment_providers["midtrans"] = build_provider(
        {"server_key": key, "api_url": "http://127.0.0.1:9", "snap_url": "http://127.0.0.1:9"})
    order_id = f"ae-matrix-{next(_USERS)}"
    with w.db(), tenant_scope(w.runtime.database, t):
        PaymentAttempt.create(order_id=order_id, tenant=t, plan="basic", kind="checkout",
                              amount=149000, currency="IDR", provider="midtrans",
                              idempotency_key=order_id, status="pending")
    body = {"order_id": order_id, "status_code": "201", "gross_amount": "149000.00",
            "transaction_status": "pending", "transaction_id": f"tx-{order_id}",
            "currency": "IDR", "fraud_status": "accept"}
    body["signature_key"] = hashlib.sha512(
        f"{order_id}201149000.00{key}".encode()).hexdigest()
    return Request({"provider": "midtrans"}, body)


CASES: dict[tuple[str, str], Case] = {
    ("v3.auth_token", "POST"): Case(None, lambda w, t: Request(
        {}, {"username": w.usernames[(t, "owner")], "password": "correct horse battery",
             "tenant": t})),
    ("v3.auth_refresh", "POST"): Case(None, lambda w, t: Request(
        {}, {"refresh_token": w.login(w.usernames[(t, "owner")], t).get_json()[
            "refresh_token"]})),
    ("v3.auth_logout", "POST"): Case(None, lambda w, t: Request(
        {}, {"refresh_token": w.login(w.usernames[(t, "owner")], t).get_json()[
            "refresh_token"]})),
    ("v3.session_create", "POST"): Case(None, lambda w, t: Request(
        {}, {"username": w.usernames[(t, "owner")], "password": "correct horse battery",
             "tenant": t})),
    ("v3.session_refresh", "POST"): Case(None, _console_session),
    ("v3.session_logout", "POST"): Case(None, _console_session),
    # Any signed-in member may ask who they are; every role holds tenant.view.
    ("v3.auth_me", "GET"): Case("tenant.view", _none),
    ("v3.upload_receive", "POST"): Case("assets.create", _upload),
    ("v3.openapi_document", "GET"): Case(None, _none),
    # Public: the gateway proves the notification (signature), no caller signs in.
    ("v3.payment_notification", "POST"): Case(None, _payment_notification),
    ("v3.role_list", "GET"): Case(None, _none),
    ("v3.asset_list", "GET"): Case("assets.view", _none),
    ("v3.asset_create", "POST"): Case("assets.create", lambda w, t: Request(
        {}, {"name": "new", "uri": "https://example.com/", "mimetype": "webpage",
             "skip_asset_check": True})),
    ("v3.asset_detail", "GET"): Case("assets.view", _asset(), True),
    ("v3.asset_replace", "PUT"): Case("assets.edit", _asset(
        {"name": "put", "start_date": None, "end_date": None, "duration": 7,
         "is_enabled": True}), True),
    ("v3.asset_patch", "PATCH"): Case("assets.edit", _asset({"name": "patched"}), True),
    ("v3.asset_delete", "DELETE"): Case("assets.delete", _asset(), True),
    ("v3.tenant_detail", "GET"): Case("tenant.view", _none),
    ("v3.tenant_update", "PATCH"): Case("tenant.edit", lambda w, t: Request({}, {"name": "N"})),
    ("v3.plan_list", "GET"): Case("billing.view", _none),
    ("v3.subscription_detail", "GET"): Case("billing.view", _none),
    # The free plan applies at once, without a payment provider (and again, idempotently).
    ("v3.subscription_act", "POST"): Case("billing.manage", lambda w, t: Request(
        {}, {"action": "subscribe", "plan": "free"})),
    ("v3.subscription_change", "PUT"): Case("billing.manage",
                                            lambda w, t: Request({}, {"plan": "free"})),
    ("v3.invoice_list", "GET"): Case("billing.view", _none),
    ("v3.user_list", "GET"): Case("users.view", _none),
    ("v3.user_create", "POST"): Case("users.manage", _new_user),
    ("v3.user_detail", "GET"): Case("users.view",
                                    lambda w, t: Request({"user_id": w.member(t)}), True),
    ("v3.user_update", "PATCH"): Case("users.manage", lambda w, t: Request(
        {"user_id": w.member(t)}, {"email": "a@example.com"}), True),
    ("v3.user_delete", "DELETE"): Case("users.manage",
                                       lambda w, t: Request({"user_id": w.member(t)}), True),
    ("v3.token_create", "POST"): Case("tokens.manage", lambda w, t: Request(
        {}, {"name": "script", "permissions": ["assets.view"]})),
    ("v3.token_list", "GET"): Case("tokens.manage", _none),
    ("v3.token_delete", "DELETE"): Case("tokens.manage", lambda w, t: Request(
        {"token_id": w.api_token(t)[0]}), True),
    ("v3.audit_log", "GET"): Case("audit.view", _none),
    ("v3.qr_content_list", "GET"): Case("qr.view", _none),
    # Another tenant's asset is as unknown as none: 404.
    ("v3.qr_content_create", "POST"): Case("qr.create", lambda w, t: Request(
        {}, {"asset_id": w.asset(t), "include_barcode": True}), True),
    ("v3.qr_content_detail", "GET"): Case("qr.view", _qr(), True),
    ("v3.qr_content_patch", "PATCH"): Case("qr.edit", _qr(body={"title": "changed"}), True),
    ("v3.qr_content_delete", "DELETE"): Case("qr.delete", _qr(), True),
    ("v3.qr_content_qr_svg", "GET"): Case("qr.view", _qr(), True),
    ("v3.qr_content_qr_png", "GET"): Case("qr.view", _qr(), True),
    ("v3.qr_content_barcode_svg", "GET"): Case("qr.view", _qr(), True),
    ("v3.qr_content_barcode_png", "GET"): Case("qr.view", _qr(), True),
    ("v3.devices_list", "GET"): Case("devices.view", _none),
    ("v3.devices_claim", "POST"): Case("devices.manage", _device_code),
    ("v3.devices_detail", "GET"): Case("devices.view", _device(), True),
    ("v3.devices_rename", "PATCH"): Case("devices.manage", _device({"name": "Renamed"}), True),
    ("v3.devices_revoke", "DELETE"): Case("devices.manage", _device(), True),
    ("v3.devices_command", "POST"): Case("devices.manage", _device(
        {"command": "show_asset", "args": {"asset_id": "menu"}}), True),
    ("v3.devices_commands", "GET"): Case("devices.view", _device(), True),
    ("v3.devices_inventory", "GET"): Case("devices.view", _device(), True),
    ("v3.devices_plays", "GET"): Case("devices.view", _device(), True),
    ("v3.pairing_codes_create", "POST"): Case("devices.manage",
                                              lambda w, t: Request({}, {"name": "Lobby"})),
    ("v3.pairing_codes_list", "GET"): Case("devices.manage", _none),
    ("v3.pairing_codes_revoke", "DELETE"): Case("devices.manage", _pairing_code, True),
    ("v3.fleet_tokens_create", "POST"): Case("devices.manage", lambda w, t: Request(
        {}, {"name": "rollout", "max_devices": 3,
             "expires_at": _in_a_week().isoformat() + "Z"})),
    ("v3.fleet_tokens_list", "GET"): Case("devices.manage", _none),
    ("v3.fleet_tokens_revoke", "DELETE"): Case("devices.manage", _fleet_token, True),
    ("v3.reports_plays", "GET"): Case("devices.view", _none),
    ("v3.legacy_get", "GET"): Case("assets.view", _legacy("assets/x"), True),
    ("v3.legacy_post", "POST"): Case("assets.create", _legacy("assets", V2_ASSET)),
    ("v3.legacy_put", "PUT"): Case("assets.edit", _legacy("assets/x", V2_UPDATE), True),
    ("v3.legacy_patch", "PATCH"): Case("assets.edit", _legacy("assets/x", {"name": "p"}), True),
    ("v3.legacy_delete", "DELETE"): Case("assets.delete", _legacy("assets/x"), True),
}


def _route_table() -> list[tuple[str, str, str]]:
    app = Flask("route-table")
    app.register_blueprint(v3.bp)
    return sorted((rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith("v3.")
                  for method in (rule.methods or set()) - {"HEAD", "OPTIONS"})


ROUTES = _route_table()
# Routes that need credentials: the cross-tenant and 401 checks apply to these.
GUARDED = [route for route in ROUTES if CASES.get(route[:2], Case("?", _none)).permission]


def _url(rule: str, args: dict[str, str]) -> str:
    for name, value in args.items():
        rule = rule.replace(f"<path:{name}>", value).replace(f"<{name}>", value)
    return rule


def _send(world: World, method: str, rule: str, request: Request, headers: dict[str, str]):
    if isinstance(request.body, bytes):
        return world.client.open(_url(rule, request.args), method=method, data=request.body,
                                 headers={**request.headers, **headers})
    return world.client.open(_url(rule, request.args), method=method, json=request.body,
                             headers={**request.headers, **headers})


def test_every_v3_route_has_a_matrix_entry():
    assert {(endpoint, method) for endpoint, method, _rule in ROUTES} == set(CASES)


def test_the_route_table_is_not_empty():
    assert len(ROUTES) >= 20


@pytest.mark.parametrize(("endpoint", "method", "rule"), ROUTES,
                         ids=[f"{m} {r}" for _e, m, r in ROUTES])
def test_each_role_gets_exactly_what_its_permissions_allow(world: World, endpoint: str,
                                                            method: str, rule: str):
    case = CASES[(endpoint, method)]
    if case.permission is None:
        response = _send(world, method, rule, case.build(world, world.a), {})
        assert 200 <= response.status_code < 300, response.get_data(as_text=True)
        return
    outcomes = {}
    for role in ROLES:
        response = _send(world, method, rule, case.build(world, world.a), world.auth(role))
        outcomes[role] = response.status_code
        if case.permission in ROLE_PERMISSIONS[role]:
            assert 200 <= response.status_code < 300, (role, response.get_data(as_text=True))
        else:
            assert response.status_code == 403, (role, response.get_data(as_text=True))
            assert response.get_json()["error"]["code"] == "permission_denied"
    assert set(outcomes) == set(ROLES)


@pytest.mark.parametrize(("endpoint", "method", "rule"), GUARDED,
                         ids=[f"{m} {r}" for _e, m, r in GUARDED])
def test_another_tenants_objects_are_invisible(world: World, endpoint: str, method: str,
                                               rule: str):
    case = CASES[(endpoint, method)]
    b_asset = world.asset(world.b, name="beta secret asset")
    b_token_id, _ = world.api_token(world.b)
    b_marks = [world.b, b_asset, b_token_id, world.users[(world.b, "owner")]]
    request = case.build(world, world.b)
    response = _send(world, method, rule, request, world.auth("owner"))
    body = response.get_data(as_text=True)
    if case.object_args:
        assert response.status_code == 404, body
        assert response.get_json()["error"]["code"].endswith("not_found")
    else:
        assert response.status_code < 300, body
    assert not [mark for mark in b_marks if mark in body]
    with world.db():
        still_there = world.asset_row(b_asset).name
    assert still_there == "beta secret asset"


@pytest.mark.parametrize(("endpoint", "method", "rule"), GUARDED,
                         ids=[f"{m} {r}" for _e, m, r in GUARDED])
def test_unauthenticated_calls_get_401_with_a_bearer_challenge(world: World, endpoint: str,
                                                               method: str, rule: str):
    case = CASES[(endpoint, method)]
    response = _send(world, method, rule, case.build(world, world.a), {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"]["code"] == "authentication_required"
