"""One public key links one active device (migration 0017), whichever way in and tenant.

Whoever holds a key pair's private half signs for every device registered with its public
half, so a second active device with the same key is refused with ``409 device_key_in_use``
and the refused link uses nothing up.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from anthias_edge.models import Device, PairingCode
from anthias_edge.services.fleet import enroll_with_fleet_token, start_device_code
from anthias_edge.services.fleet.errors import DeviceKeyInUse
from tests.fleet.conftest import as_hub, call, public_key
from tests.fleet.test_linking import enroll_code, limit_devices, pairing_code


def enroll_token(world, token, key, name="Screen"):
    with as_hub(world):
        return enroll_with_fleet_token(token, key, name, clock=world.runtime.clock)


def test_a_second_code_with_the_same_key_is_refused_and_stays_usable(cloud):
    key = public_key()
    first = enroll_code(cloud, pairing_code(cloud)["code"], key=key)
    second_code = pairing_code(cloud, "Second")["code"]

    with pytest.raises(DeviceKeyInUse) as caught:
        enroll_code(cloud, second_code, key=key)

    assert (caught.value.status, caught.value.code) == (409, "device_key_in_use")
    with cloud.db():
        assert [d.device_id for d in Device.select()] == [first.device_id]
        assert PairingCode.select().where(PairingCode.used_at.is_null()).count() == 1
    assert enroll_code(cloud, second_code).name == "Second"  # with a key of its own


def test_the_key_of_another_tenants_device_is_refused_with_a_fleet_token(cloud, clock):
    key = public_key()
    enroll_code(cloud, pairing_code(cloud)["code"], key=key)
    expires = (clock() + dt.timedelta(days=1)).isoformat() + "Z"
    token = call(cloud, "POST", "/api/v3/fleet-tokens", tenant=cloud.b, json={
        "name": "Beta", "max_devices": 2, "expires_at": expires}).get_json()

    with pytest.raises(DeviceKeyInUse):
        enroll_token(cloud, token["token"], key)

    assert call(cloud, "GET", "/api/v3/fleet-tokens", tenant=cloud.b).get_json()[
        "items"][0]["used_count"] == 0


def test_claiming_a_screen_whose_key_is_linked_already_is_409(cloud):
    key = public_key()
    enroll_code(cloud, pairing_code(cloud)["code"], key=key)
    with as_hub(cloud):
        ticket = start_device_code(key, "Clone", clock=cloud.runtime.clock)

    claimed = call(cloud, "POST", "/api/v3/devices/claim", json={"code": ticket.code})

    assert claimed.status_code == 409
    assert claimed.get_json()["error"]["code"] == "device_key_in_use"
    with cloud.db():
        assert Device.select().count() == 1


def test_a_revoked_devices_key_may_link_again(cloud):
    key = public_key()
    first = enroll_code(cloud, pairing_code(cloud)["code"], key=key)
    assert call(cloud, "DELETE", f"/api/v3/devices/{first.device_id}").status_code == 200

    again = enroll_code(cloud, pairing_code(cloud)["code"], key=key)

    assert again.device_id != first.device_id and again.status == "active"


def test_concurrent_links_with_one_key_make_one_device(cloud):
    limit_devices(cloud, cloud.a, 50)
    key = public_key()
    codes = [pairing_code(cloud)["code"] for _ in range(6)]
    start = threading.Barrier(len(codes))
    outcomes: list[str] = []
    lock = threading.Lock()

    def link(code: str) -> None:
        start.wait()
        try:
            enroll_code(cloud, code, key=key)
            outcome = "linked"
        except DeviceKeyInUse as exc:
            outcome = exc.code
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=link, args=(code,)) for code in codes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["device_key_in_use"] * 5 + ["linked"]
    with cloud.db():
        assert Device.select().where(Device.public_key == key).count() == 1
