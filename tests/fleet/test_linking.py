"""Linking a device: pairing codes, fleet tokens and device-initiated codes, and their refusals.

The hub's calls (``enroll_with_*``, ``start_device_code``, ``poll_device_code``) run as a hub
request does: on PostgreSQL as ``anthias_app`` with no tenant, so each must find its tenant
through migration 0013's functions. The admin's side goes through v3.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from anthias_edge.errors import ValidationError
from anthias_edge.models import AuditLog, Device, DeviceCode, FleetToken, PairingCode
from anthias_edge.services.billing.errors import DeviceLimitReached
from anthias_edge.services.fleet import (
    enroll_with_code,
    enroll_with_fleet_token,
    poll_device_code,
    start_device_code,
)
from anthias_edge.services.fleet.codes import ALPHABET, digest
from anthias_edge.services.fleet.errors import (
    DeviceCodeExpired,
    FleetTokenInvalid,
    PairingCodeInvalid,
)
from tests.fleet.conftest import as_hub, as_tenant, call, public_key


def pairing_code(world, name=None, role="owner"):
    made = call(world, "POST", "/api/v3/pairing-codes", role, json={"name": name})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def fleet_token(world, clock, max_devices=3, days=30, name="Shop rollout"):
    expires = (clock() + dt.timedelta(days=days)).isoformat() + "Z"
    made = call(world, "POST", "/api/v3/fleet-tokens",
                json={"name": name, "max_devices": max_devices, "expires_at": expires})
    assert made.status_code == 201, made.get_json()
    return made.get_json()


def enroll_code(world, code, name="Screen", **kwargs):
    with as_hub(world):
        return enroll_with_code(code, kwargs.pop("key", public_key()), name,
                                clock=world.runtime.clock, **kwargs)


def enroll_token(world, token, name="Screen"):
    with as_hub(world):
        return enroll_with_fleet_token(token, public_key(), name, "1.2.3",
                                       {"model": "Raspberry Pi 5"}, clock=world.runtime.clock)


def limit_devices(world, tenant, count):
    with world.db():
        world.service(tenant).set_plan(max_devices=count)


# -- pairing codes ------------------------------------------------------------------------
def test_a_pairing_code_is_eight_unambiguous_characters_shown_once_and_stored_hashed(cloud):
    made = pairing_code(cloud, "Lobby")

    code = made["code"]
    assert len(code) == 8 and set(code) <= set(ALPHABET)
    assert not set(code) & set("01IO")
    listed = call(cloud, "GET", "/api/v3/pairing-codes").get_json()["items"]
    assert [item["name"] for item in listed] == ["Lobby"]
    assert "code" not in listed[0]
    with cloud.db():
        stored = [row.code_hash for row in PairingCode.select()]
    assert stored == [digest(code)] and code not in stored[0]


def test_a_device_links_once_with_a_code_and_gets_the_name_the_admin_chose(cloud):
    code = pairing_code(cloud, "Lobby")["code"]

    device = enroll_code(cloud, f"{code[:4].lower()}-{code[4:]}", "raspberrypi",
                         software_version="0.9", hardware={"model": "Pi 4"})

    assert (device.tenant, device.name, device.linked_via) == (cloud.a, "Lobby", "code")
    assert device.software_version == "0.9" and device.hardware == {"model": "Pi 4"}
    with pytest.raises(PairingCodeInvalid):
        enroll_code(cloud, code)  # single use
    listed = call(cloud, "GET", f"/api/v3/devices/{device.device_id}").get_json()
    assert listed["name"] == "Lobby" and listed["status"] == "offline"
    assert call(cloud, "GET", "/api/v3/pairing-codes").get_json()["items"] == []
    with as_tenant(cloud, cloud.a):
        actions = [row.action for row in AuditLog.select().where(AuditLog.tenant == cloud.a)]
    assert "pairing_code.create" in actions and "device.link" in actions


@pytest.mark.parametrize("code", ["", "ABC", "AAAAAAA0", "AAAAAAAAA", None, 12345678,
                                  "ÀAAAAAAA", "AAAA\x00AAA"])
def test_malformed_codes_are_the_same_invalid_code(cloud, code):
    with pytest.raises(PairingCodeInvalid) as caught:
        enroll_code(cloud, code)
    assert (caught.value.status, caught.value.code) == (404, "pairing_code_invalid")


def test_an_expired_code_is_refused_like_an_unknown_one(cloud, clock):
    code = pairing_code(cloud)["code"]
    clock.move(minutes=10, seconds=1)

    with pytest.raises(PairingCodeInvalid) as expired:
        enroll_code(cloud, code)
    with pytest.raises(PairingCodeInvalid) as unknown:
        enroll_code(cloud, "ABCDEFGH" if code != "ABCDEFGH" else "HGFEDCBA")
    assert expired.value.message == unknown.value.message
    with cloud.db():
        assert Device.select().count() == 0


@pytest.mark.parametrize("key", ["", "short", "A" * 43 + "!", "A" * 100, None, 32])
def test_a_key_that_is_not_32_bytes_of_base64url_is_refused(cloud, key):
    code = pairing_code(cloud)["code"]
    with pytest.raises(ValidationError) as caught:
        enroll_code(cloud, code, key=key)
    assert "public_key" in caught.value.field_errors
    assert enroll_code(cloud, code).linked_via == "code"  # the code was not used up


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "tab\there", None, 7])
def test_a_device_name_must_be_one_to_a_hundred_printable_characters(cloud, name):
    code = pairing_code(cloud)["code"]
    with pytest.raises(ValidationError):
        enroll_code(cloud, code, name=name)


def test_the_plans_device_limit_holds_for_a_code(cloud):
    limit_devices(cloud, cloud.a, 1)
    enroll_code(cloud, pairing_code(cloud)["code"])
    code = pairing_code(cloud)["code"]

    with pytest.raises(DeviceLimitReached) as caught:
        enroll_code(cloud, code)

    assert caught.value.details["max_devices"] == 1 and caught.value.details["devices"] == 1
    # The refused code is still usable once a device goes.
    device_id = call(cloud, "GET", "/api/v3/devices").get_json()["items"][0]["device_id"]
    assert call(cloud, "DELETE", f"/api/v3/devices/{device_id}").status_code == 200
    assert enroll_code(cloud, code).status == "active"


# -- fleet tokens -------------------------------------------------------------------------
def test_a_fleet_token_is_shown_once_and_enrols_up_to_its_cap(cloud, clock):
    made = fleet_token(cloud, clock, max_devices=2)
    secret = made["token"]
    assert secret.startswith("aft_") and len(secret) == 47 and made["prefix"] == secret[:8]

    first, second = enroll_token(cloud, secret, "A"), enroll_token(cloud, secret, "B")
    with pytest.raises(FleetTokenInvalid) as caught:
        enroll_token(cloud, secret, "C")

    assert caught.value.details == {"reason": "cap_reached"} and caught.value.status == 403
    assert {first.fleet_token_id, second.fleet_token_id} == {made["token_id"]}
    assert first.hardware == {"model": "Raspberry Pi 5"}
    listed = call(cloud, "GET", "/api/v3/fleet-tokens").get_json()["items"]
    assert [(t["used_count"], t["state"]) for t in listed] == [(2, "used_up")]
    assert "token" not in listed[0]
    with cloud.db():
        assert FleetToken.get().token_hash == digest(secret)


def test_a_revoked_expired_or_unknown_token_says_why(cloud, clock):
    revoked = fleet_token(cloud, clock, name="old")
    expiring = fleet_token(cloud, clock, days=1, name="short")
    gone = call(cloud, "DELETE", f"/api/v3/fleet-tokens/{revoked['token_id']}")
    assert gone.status_code == 200 and gone.get_json()["state"] == "revoked"

    reasons = {}
    for label, token in (("revoked", revoked["token"]), ("unknown", "aft_" + "x" * 43),
                         ("malformed", "not a token")):
        with pytest.raises(FleetTokenInvalid) as caught:
            enroll_token(cloud, token)
        reasons[label] = caught.value.details["reason"]
    clock.move(days=1)
    with pytest.raises(FleetTokenInvalid) as caught:
        enroll_token(cloud, expiring["token"])
    reasons["expired"] = caught.value.details["reason"]

    assert reasons == {"revoked": "revoked", "unknown": "unknown", "malformed": "unknown",
                       "expired": "expired"}
    with cloud.db():
        assert Device.select().count() == 0


def test_the_plans_device_limit_holds_for_a_fleet_token_and_does_not_use_up_the_token(
        cloud, clock):
    limit_devices(cloud, cloud.a, 1)
    secret = fleet_token(cloud, clock, max_devices=5)["token"]
    enroll_token(cloud, secret)

    with pytest.raises(DeviceLimitReached):
        enroll_token(cloud, secret)

    listed = call(cloud, "GET", "/api/v3/fleet-tokens").get_json()["items"]
    assert listed[0]["used_count"] == 1


def test_concurrent_enrolments_never_pass_the_tokens_cap(cloud, clock):
    secret = fleet_token(cloud, clock, max_devices=3)["token"]
    start = threading.Barrier(8)
    outcomes: list[str] = []
    lock = threading.Lock()

    def enrol(index: int) -> None:
        start.wait()
        try:
            enroll_token(cloud, secret, f"screen {index}")
            outcome = "linked"
        except FleetTokenInvalid as exc:
            outcome = exc.reason
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=enrol, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["cap_reached"] * 5 + ["linked"] * 3
    with cloud.db():
        assert Device.select().where(Device.tenant == cloud.a).count() == 3
        assert FleetToken.get().used_count == 3


def test_concurrent_links_never_pass_the_plans_device_limit(cloud, clock):
    limit_devices(cloud, cloud.a, 2)
    secret = fleet_token(cloud, clock, max_devices=50)["token"]
    start = threading.Barrier(6)
    refused: list[str] = []

    def enrol(index: int) -> None:
        start.wait()
        try:
            enroll_token(cloud, secret, f"screen {index}")
        except DeviceLimitReached as exc:
            refused.append(exc.code)

    threads = [threading.Thread(target=enrol, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert refused == ["device_limit_reached"] * 4
    with cloud.db():
        assert Device.select().count() == 2


def test_fleet_token_requests_refuse_bad_input(cloud, clock):
    later = (clock() + dt.timedelta(days=1)).isoformat() + "Z"
    bad = [{"max_devices": 1, "expires_at": later},
           {"name": "x", "max_devices": 0, "expires_at": later},
           {"name": "x", "max_devices": True, "expires_at": later},
           {"name": "x", "max_devices": 10_001, "expires_at": later},
           {"name": "x", "max_devices": 1, "expires_at": "tomorrow"},
           {"name": "x", "max_devices": 1, "expires_at": clock().isoformat() + "Z"},
           {"name": "x", "max_devices": 1,
            "expires_at": (clock() + dt.timedelta(days=400)).isoformat() + "Z"},
           {"name": "", "max_devices": 1, "expires_at": later},
           {"name": "x", "max_devices": 1, "expires_at": later, "extra": 1}]
    for body in bad:
        response = call(cloud, "POST", "/api/v3/fleet-tokens", json=body)
        assert response.status_code == 400, body
        assert response.get_json()["error"]["code"] == "validation_error"
    assert call(cloud, "DELETE", "/api/v3/fleet-tokens/nope").status_code == 404
    assert call(cloud, "POST", "/api/v3/fleet-tokens", data="{", headers={
        "Content-Type": "application/json"}).get_json()["error"]["code"] == "malformed_request"
    assert call(cloud, "GET", "/api/v3/fleet-tokens").get_json()["items"] == []


# -- device-initiated codes ------------------------------------------------------------------
def test_a_device_code_is_claimed_by_an_admin_and_the_device_learns_its_link(cloud):
    with as_hub(cloud):
        ticket = start_device_code(public_key(), "Kiosk 7", "1.0", clock=cloud.runtime.clock)
    with as_hub(cloud):
        assert poll_device_code(ticket.poll_token, clock=cloud.runtime.clock).status == "pending"

    claimed = call(cloud, "POST", "/api/v3/devices/claim",
                   json={"code": ticket.code.lower(), "name": "Front door"})

    assert claimed.status_code == 201, claimed.get_json()
    assert claimed.get_json()["name"] == "Front door"
    with as_hub(cloud):
        polled = poll_device_code(ticket.poll_token, clock=cloud.runtime.clock)
    assert polled.status == "claimed" and polled.device.tenant == cloud.a
    assert polled.device.device_id == claimed.get_json()["device_id"]
    assert polled.device.linked_via == "device_code"
    again = call(cloud, "POST", "/api/v3/devices/claim", json={"code": ticket.code})
    assert again.status_code == 404 and again.get_json()["error"]["code"] == "device_code_invalid"


def poll_until_claimed(world, poll_token: str, answers: list[str],
                       polling: threading.Event) -> None:
    """Poll as a device does, as fast as it can, until the answer is not ``pending``.

    Bounded by time, not by a count: on a fast SQLite run 2,000 polls once ended before a
    loaded machine's claim came in (CI), and the test read that as the claim never seen.
    """
    deadline = time.monotonic() + 50  # below the caller's join(60)
    while time.monotonic() < deadline:
        try:
            with as_hub(world):
                status = poll_device_code(poll_token, clock=world.runtime.clock).status
        except DeviceCodeExpired:
            status = "expired"
        answers.append(status)
        polling.set()
        if status != "pending":
            return


def test_a_poll_meeting_the_claim_half_way_never_says_expired(cloud):
    # The device polls in a tight loop while the admin claims: on PostgreSQL a claim that
    # committed between the poll's tenant lookup and its read once hid the row (410).
    limit_devices(cloud, cloud.a, 50)
    for round_number in range(12):
        with as_hub(cloud):
            ticket = start_device_code(public_key(), f"Kiosk {round_number}",
                                       clock=cloud.runtime.clock)
        answers: list[str] = []
        polling = threading.Event()
        poller = threading.Thread(target=poll_until_claimed,
                                  args=(cloud, ticket.poll_token, answers, polling))
        poller.start()
        polling.wait(10)
        claimed = call(cloud, "POST", "/api/v3/devices/claim", json={"code": ticket.code})
        poller.join(60)
        assert claimed.status_code == 201, claimed.get_json()
        assert answers[-1] == "claimed", answers[-5:]
        assert set(answers) == {"pending", "claimed"}, round_number


def test_another_tenant_cannot_claim_a_code_already_claimed(cloud):
    with as_hub(cloud):
        ticket = start_device_code(public_key(), "Kiosk", clock=cloud.runtime.clock)
    assert call(cloud, "POST", "/api/v3/devices/claim", json={"code": ticket.code}
                ).status_code == 201
    theirs = call(cloud, "POST", "/api/v3/devices/claim", tenant=cloud.b,
                  json={"code": ticket.code})
    assert theirs.status_code == 404
    with cloud.db():
        assert [d.tenant for d in Device.select()] == [cloud.a]


def test_an_expired_device_code_can_neither_be_claimed_nor_polled(cloud, clock):
    with as_hub(cloud):
        ticket = start_device_code(public_key(), "Kiosk", clock=cloud.runtime.clock)
    clock.move(minutes=11)

    claim = call(cloud, "POST", "/api/v3/devices/claim", json={"code": ticket.code})
    with as_hub(cloud), pytest.raises(DeviceCodeExpired) as caught:
        poll_device_code(ticket.poll_token, clock=cloud.runtime.clock)
    with as_hub(cloud), pytest.raises(DeviceCodeExpired):
        poll_device_code("x" * 43, clock=cloud.runtime.clock)

    assert claim.status_code == 404
    assert (caught.value.status, caught.value.code) == (410, "device_code_expired")
    with as_hub(cloud):  # a new code clears the expired ones
        start_device_code(public_key(), "Kiosk", clock=cloud.runtime.clock)
    with cloud.db():
        assert DeviceCode.select().count() == 1


def test_the_plans_device_limit_holds_for_a_claim(cloud):
    limit_devices(cloud, cloud.a, 0)
    with as_hub(cloud):
        ticket = start_device_code(public_key(), "Kiosk", clock=cloud.runtime.clock)

    refused = call(cloud, "POST", "/api/v3/devices/claim", json={"code": ticket.code})

    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "device_limit_reached"
    with as_hub(cloud):
        assert poll_device_code(ticket.poll_token, clock=cloud.runtime.clock).status == "pending"


def test_claims_refuse_bad_input_and_are_rate_limited_per_tenant(cloud):
    for body in ({}, {"code": ""}, {"code": 12345678}, {"code": "ABCDEFGH", "name": ""},
                 {"code": "ABCDEFGH", "name": "x" * 101}, {"code": "ABCDEFGH", "other": 1}):
        response = call(cloud, "POST", "/api/v3/devices/claim", json=body)
        assert response.status_code == 400, body
    statuses = [call(cloud, "POST", "/api/v3/devices/claim", json={"code": "ABCDEFGH"}
                     ).status_code for _ in range(40)]
    assert set(statuses[:24]) == {404} and 429 in statuses
    other = call(cloud, "POST", "/api/v3/devices/claim", tenant=cloud.b,
                 json={"code": "ABCDEFGH"})
    assert other.status_code == 404  # another tenant's allowance is its own


def test_start_device_code_checks_what_the_device_sends(cloud):
    for key, name in ((public_key(), ""), ("nope", "Kiosk"), (public_key(), None)):
        with as_hub(cloud), pytest.raises(ValidationError):
            start_device_code(key, name, clock=cloud.runtime.clock)
    with as_hub(cloud), pytest.raises(ValidationError):
        start_device_code(public_key(), "Kiosk", hardware=["not", "an", "object"],
                          clock=cloud.runtime.clock)
