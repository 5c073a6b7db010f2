"""Device QR codes pushed to the hub (qr.upsert / qr.delete) and pulled back in the state.

On PostgreSQL (in both passes of the suite): there 0013 lets qr_contents.asset_id name a
device's asset; the cloud on SQLite (a test set-up only) keeps the foreign key to cloud
assets, and the hub acknowledges such an entry with the reason recorded.
"""

from __future__ import annotations

import pytest

from tests.sync_hub.conftest import Hub, SimDevice
from tests.sync_hub.test_push import PUSH, asset, entry

STATE = "/api/v3/sync/state"


def qr(seq: int, qr_id: str = "q1", code: str = "QR00000000000000A1", **extra) -> dict:
    payload = {"qr_id": qr_id, "qr_code": code, "barcode": None, "asset_id": "a1",
               "title": "Menu", "description": "Today", "expires_at": None, "is_active": True,
               "updated_at": "2026-12-05T10:00:00Z", **extra}
    return entry(seq, "qr.upsert", **payload)


@pytest.fixture
def device(pg_hub: Hub) -> SimDevice:
    return pg_hub.add_device(pg_hub.a, "lobby")


def codes(hub: Hub, tenant_id: str) -> list[tuple]:
    # The tests connect as a superuser, whom row-level security does not hold: filter.
    return hub.sql("SELECT qr_id, qr_code, device_id, is_active FROM qr_contents "
                   "WHERE tenant_id = %s ORDER BY qr_id", (tenant_id,), tenant_id)


def test_a_pushed_code_lands_with_its_device_and_comes_back_in_the_state(pg_hub: Hub,
                                                                         device: SimDevice):
    hub = pg_hub
    before = hub.signed(device, "GET", STATE).headers["ETag"]
    response = hub.signed(device, "POST", PUSH, body={"entries": [asset(1), qr(2)]})
    assert response.get_json()["applied"] == 2
    assert codes(hub, hub.a) == [("q1", "QR00000000000000A1", device.device_id, True)]
    state = hub.signed(device, "GET", STATE, headers={"If-None-Match": before})
    assert state.status_code == 200  # the tenant's sync version moved
    [code] = state.get_json()["qr_contents"]
    assert code["qr_id"] == "q1" and code["title"] == "Menu"
    assert code["landing_url"].endswith("/q/QR00000000000000A1")


def test_deleting_the_asset_deactivates_its_codes(pg_hub: Hub, device: SimDevice):
    hub = pg_hub
    hub.signed(device, "POST", PUSH, body={"entries": [asset(1), qr(2)]})
    hub.signed(device, "POST", PUSH, body={"entries": [entry(3, "asset.delete",
                                                             asset_id="a1")]})
    assert codes(hub, hub.a) == [("q1", "QR00000000000000A1", device.device_id, False)]


def test_a_code_taken_elsewhere_is_acked_with_the_reason(pg_hub: Hub, device: SimDevice):
    hub = pg_hub
    other = hub.add_device(hub.b, "beta screen")
    hub.signed(device, "POST", PUSH, body={"entries": [asset(1), qr(2)]})
    response = hub.signed(other, "POST", PUSH, body={"entries": [
        asset(1), qr(2, qr_id="q-b")]})  # same code, another tenant
    assert response.get_json() == {"acked_through": 2, "applied": 2, "duplicates": 0}
    assert codes(hub, hub.b) == []
    [(error,)] = hub.sql("SELECT error FROM sync_receipts WHERE device_id = %s AND seq = 2",
                         (other.device_id,), hub.b)
    assert "already used" in error


def test_a_device_cannot_touch_another_devices_code(pg_hub: Hub, device: SimDevice):
    hub = pg_hub
    neighbour = hub.add_device(hub.a, "hall")
    hub.signed(device, "POST", PUSH, body={"entries": [asset(1), qr(2)]})
    hub.signed(neighbour, "POST", PUSH, body={"entries": [
        qr(1, title="hijacked"), entry(2, "qr.delete", qr_id="q1")]})
    assert hub.sql("SELECT title, device_id FROM qr_contents WHERE tenant_id = %s", (hub.a,),
                   hub.a) == [
        ("Menu", device.device_id)]
    stranger = hub.add_device(hub.b, "beta")
    hub.signed(stranger, "POST", PUSH, body={"entries": [entry(1, "qr.delete", qr_id="q1")]})
    assert len(codes(hub, hub.a)) == 1
    # Nor is another device's code in its state.
    assert hub.signed(neighbour, "GET", STATE).get_json()["qr_contents"] == []


def test_qr_delete_removes_the_devices_own_code(pg_hub: Hub, device: SimDevice):
    hub = pg_hub
    hub.signed(device, "POST", PUSH, body={"entries": [asset(1), qr(2)]})
    hub.signed(device, "POST", PUSH, body={"entries": [entry(3, "qr.delete", qr_id="q1")]})
    assert codes(hub, hub.a) == []
