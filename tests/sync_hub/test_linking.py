"""The hub's unsigned linking requests: enroll (pairing code, fleet token), device codes."""

from __future__ import annotations

import datetime as dt

import pytest

from anthias_edge.services.fleet.enrolment import EnrolmentService
from anthias_edge.services.fleet.linking import claim_device_code
from anthias_edge.services.rate_limit import RateLimiter
from anthias_edge.timeutil import utcnow
from cloud_sync.protocol import new_key_pair
from tests.sync_hub.conftest import Hub

ENROLL = "/api/v3/sync/enroll"
CODES = "/api/v3/sync/device-codes"
POLL = "/api/v3/sync/device-codes/poll"


def pairing_code(hub: Hub, tenant_id: str) -> str:
    with hub.db(tenant_id):
        return EnrolmentService(tenant_id, actor="test").create_pairing_code().code


def fleet_token(hub: Hub, tenant_id: str, cap: int = 2) -> str:
    with hub.db(tenant_id):
        return EnrolmentService(tenant_id, actor="test").create_fleet_token(
            "rollout", cap, utcnow() + dt.timedelta(days=1)).secret


def set_max_devices(hub: Hub, tenant_id: str, count: int) -> None:
    hub.sql("UPDATE tenants SET max_devices = %s WHERE id = %s", (count, tenant_id))


def test_enroll_with_a_pairing_code_links_once(hub: Hub):
    set_max_devices(hub, hub.a, 5)
    code = pairing_code(hub, hub.a)
    _, public = new_key_pair()
    response = hub.client.post(ENROLL, json={"code": code, "public_key": public,
                                             "name": "Lobby", "software_version": "1.0"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["tenant_id"] == hub.a and body["tenant_name"] == "Alpha"
    assert body["name"] == "Lobby" and body["interval_s"] == 30
    assert hub.sql("SELECT public_key, status FROM devices WHERE device_id = %s",
                   (body["device_id"],), hub.a) == [(public, "active")]
    again = hub.client.post(ENROLL, json={"code": code, "public_key": public, "name": "x"})
    assert again.status_code == 404
    assert again.get_json()["error"]["code"] == "pairing_code_invalid"


def test_an_unknown_code_gets_the_same_answer_as_a_used_one(hub: Hub):
    _, public = new_key_pair()
    response = hub.client.post(ENROLL, json={"code": "ABCDEFGH", "public_key": public,
                                             "name": "x"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "pairing_code_invalid"


def test_a_fleet_token_enrolls_up_to_its_cap(hub: Hub):
    set_max_devices(hub, hub.a, 10)
    token = fleet_token(hub, hub.a, cap=2)
    for number in range(2):
        _, public = new_key_pair()
        response = hub.client.post(ENROLL, json={"fleet_token": token, "public_key": public,
                                                 "name": f"screen {number}"})
        assert response.status_code == 201, response.get_json()
    _, public = new_key_pair()
    refused = hub.client.post(ENROLL, json={"fleet_token": token, "public_key": public,
                                            "name": "one too many"})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["details"]["reason"] == "cap_reached"


def test_the_plans_device_limit_is_enforced_at_linking(hub: Hub):
    set_max_devices(hub, hub.a, 0)
    _, public = new_key_pair()
    response = hub.client.post(ENROLL, json={"code": pairing_code(hub, hub.a),
                                             "public_key": public, "name": "x"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "device_limit_reached"


@pytest.mark.parametrize("body, field", [
    ({"code": "ABCDEFGH"}, "name"),
    ({"public_key": "not-a-key", "name": "x", "code": "ABCDEFGH"}, "public_key"),
    ({"public_key": None, "name": "x", "code": "ABCDEFGH"}, "public_key"),
    ({"name": "", "code": "ABCDEFGH"}, "name"),
    ({"name": "x" * 101, "code": "ABCDEFGH"}, "name"),
    ({"name": "x"}, "code"),  # neither code nor fleet_token
    ({"name": "x", "code": "ABCDEFGH", "fleet_token": "aft_x"}, "code"),  # both
    ({"name": "x", "code": "ABCDEFGH", "extra": 1}, "extra"),
])
def test_bad_enrolments_are_refused_field_by_field(hub: Hub, body: dict, field: str):
    if "public_key" not in body:
        body = {**body, "public_key": new_key_pair()[1]}
    response = hub.client.post(ENROLL, json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]


def test_a_device_code_is_pending_until_claimed_then_linked(hub: Hub):
    set_max_devices(hub, hub.a, 5)
    _, public = new_key_pair()
    created = hub.client.post(CODES, json={"public_key": public, "name": "Kiosk"})
    assert created.status_code == 201, created.get_json()
    ticket = created.get_json()
    assert len(ticket["code"]) == 8
    assert ticket["claim_url"].endswith(f"/#/screens/claim/{ticket['code']}")
    poll = {"poll_token": ticket["poll_token"]}
    assert hub.client.post(POLL, json=poll).get_json() == {"status": "pending"}
    with hub.db():
        claim_device_code(hub.a, ticket["code"], "Front kiosk", actor="test")
    claimed = hub.client.post(POLL, json=poll).get_json()
    assert claimed["status"] == "claimed"
    assert claimed["tenant_id"] == hub.a and claimed["name"] == "Front kiosk"
    assert hub.sql("SELECT public_key FROM devices WHERE device_id = %s",
                   (claimed["device_id"],), hub.a) == [(public,)]


def test_an_unknown_poll_token_is_gone(hub: Hub):
    response = hub.client.post(POLL, json={"poll_token": "x" * 43})
    assert response.status_code == 410
    assert response.get_json()["error"]["code"] == "device_code_expired"


def test_unsigned_requests_are_rate_limited_per_address(hub: Hub):
    # The limiter's clock stands still, so the test does not depend on how fast it runs.
    hub.app.extensions["sync_hub"].unsigned_limit = RateLimiter(60, clock=lambda: 1000.0)
    codes = [hub.client.post(POLL, json={"poll_token": "x" * 43},
                             environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code
             for _ in range(61)]
    assert codes[:60] == [410] * 60
    assert codes[60] == 429
    limited = hub.client.post(POLL, json={"poll_token": "x" * 43},
                              environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert limited.get_json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    other = hub.client.post(POLL, json={"poll_token": "x" * 43},
                            environ_base={"REMOTE_ADDR": "10.0.0.10"})
    assert other.status_code == 410  # another address has its own allowance


def test_the_hub_is_in_the_openapi_document(hub: Hub):
    document = hub.client.get("/api/v3/openapi.json").get_json()
    paths = document["paths"]
    for path in ("/api/v3/sync/enroll", "/api/v3/sync/device-codes",
                 "/api/v3/sync/device-codes/poll", "/api/v3/sync/push", "/api/v3/sync/state",
                 "/api/v3/sync/media/{sha256}", "/api/v3/sync/unlink"):
        assert path in paths, path
    assert paths["/api/v3/sync/push"]["post"]["security"] == [{"deviceSignature": []}]
    assert paths["/api/v3/sync/enroll"]["post"]["security"] == []
    assert "304" in paths["/api/v3/sync/state"]["get"]["responses"]
    assert document["components"]["securitySchemes"]["deviceSignature"]["in"] == "header"
    assert "SyncState" in document["components"]["schemas"]
    from openapi_spec_validator import validate

    validate(document)


def test_a_device_server_has_no_hub(make_app):
    app = make_app()
    assert app.test_client().post(ENROLL, json={}).status_code == 404
