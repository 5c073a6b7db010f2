"""POST /api/v3/sync/push: effects, exactly once, order, batch refusal, isolation."""

from __future__ import annotations

import json
import threading
import uuid

import pytest

from cloud_sync.protocol import sign_request
from tests.sync_hub.conftest import Hub, SimDevice

PUSH = "/api/v3/sync/push"
AT = "2026-12-05T10:00:00Z"


def entry(seq: int, kind: str, key: str | None = None, **payload) -> dict:
    return {"seq": seq, "key": key or str(uuid.uuid4()), "kind": kind, "at": AT,
            "payload": payload}


def asset(seq: int, asset_id: str = "a1", name: str = "Menu", key: str | None = None,
          **extra) -> dict:
    fields = {"uri": "/home/pi/screenly_assets/menu.png", "mimetype": "image", "duration": 10,
              "start_date": "2026-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z",
              "is_enabled": True, "play_order": 0, "is_shared": False, **extra}
    return entry(seq, "asset.upsert", key, asset_id=asset_id, name=name, **fields)


def play(seq: int, key: str | None = None, asset_id: str = "a1") -> dict:
    return entry(seq, "play", key, asset_id=asset_id, asset_name="Menu",
                 started_at="2026-12-05T09:59:00Z", duration_s=10.0)


def inventory(hub: Hub, device: SimDevice) -> list[tuple]:
    return hub.sql("SELECT asset_id, name, seq FROM device_assets WHERE device_id = %s "
                   "ORDER BY asset_id", (device.device_id,), device.tenant_id)


def plays(hub: Hub, device: SimDevice) -> int:
    return hub.sql("SELECT count(*) FROM device_plays WHERE device_id = %s",
                   (device.device_id,), device.tenant_id)[0][0]


def test_a_push_applies_its_entries_and_acks_the_highest_seq(hub: Hub, device: SimDevice):
    response = hub.signed(device, "POST", PUSH, body={"entries": [
        asset(1), asset(2, "a2", "Video"), play(3)]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"acked_through": 3, "applied": 3, "duplicates": 0}
    assert inventory(hub, device) == [("a1", "Menu", 1), ("a2", "Video", 2)]
    assert plays(hub, device) == 1
    row = hub.sql("SELECT last_push_at, last_seen_at, last_play_at, acked_seq FROM devices "
                  "WHERE device_id = %s", (device.device_id,), device.tenant_id)[0]
    assert row[0] is not None and row[1] is not None and row[2] is not None
    assert row[3] == 3


def test_a_repeated_push_has_no_second_effect(hub: Hub, device: SimDevice):
    batch = {"entries": [asset(1, key="k1"), play(2, key="k2")]}
    hub.signed(device, "POST", PUSH, body=batch)
    again = hub.signed(device, "POST", PUSH, body=batch)
    assert again.get_json() == {"acked_through": 2, "applied": 0, "duplicates": 2}
    assert plays(hub, device) == 1
    assert hub.sql("SELECT count(*) FROM sync_receipts WHERE device_id = %s",
                   (device.device_id,), device.tenant_id) == [(2,)]


def test_a_later_entry_wins_and_a_late_older_copy_does_not(hub: Hub, device: SimDevice):
    hub.signed(device, "POST", PUSH, body={"entries": [asset(5, name="New")]})
    hub.signed(device, "POST", PUSH, body={"entries": [asset(4, name="Old")]})
    assert inventory(hub, device) == [("a1", "New", 5)]


def test_deleting_an_asset_removes_it_from_the_inventory(hub: Hub, device: SimDevice):
    hub.signed(device, "POST", PUSH, body={"entries": [
        asset(1), entry(2, "asset.delete", asset_id="a1")]})
    assert inventory(hub, device) == []


def test_an_unknown_kind_refuses_the_whole_batch(hub: Hub, device: SimDevice):
    response = hub.signed(device, "POST", PUSH, body={"entries": [
        asset(1), entry(2, "asset.teleport", asset_id="a1")]})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert "entries[1].kind" in error["details"]
    assert inventory(hub, device) == []


@pytest.mark.parametrize("body", [
    {"entries": []}, {"entries": "no"}, {"entries": [asset(2), asset(1)]},
    {"entries": [asset(1)] * 501}, {"entries": [play(1) | {"payload": {}}]}, [],
])
def test_bad_batches_are_refused_with_nothing_applied(hub: Hub, device: SimDevice, body):
    response = hub.signed(device, "POST", PUSH, body=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "validation_error"
    assert inventory(hub, device) == []


def test_a_body_that_is_not_json_is_refused(hub: Hub, device: SimDevice):
    response = hub.signed(device, "POST", PUSH, raw=b"{not json",
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_request"


def test_health_alone_updates_the_device(hub: Hub, device: SimDevice):
    response = hub.signed(device, "POST", PUSH, body={"entries": [], "health": {
        "software_version": "1.2.3", "address": "192.168.1.20", "free_disk_bytes": 1234,
        "on_screen": {"asset_id": "a1", "name": "Menu"}, "uptime_s": 50}})
    assert response.get_json() == {"acked_through": 0, "applied": 0, "duplicates": 0}
    assert hub.sql("SELECT software_version, address, free_disk_bytes, on_screen_asset_id, "
                   "on_screen_name FROM devices WHERE device_id = %s", (device.device_id,),
                   device.tenant_id) == [("1.2.3", "192.168.1.20", 1234, "a1", "Menu")]


def test_a_tampered_push_is_refused(hub: Hub, device: SimDevice):
    auth = sign_request(device.key, device.device_id, "POST", PUSH, b'{"entries": []}')
    response = hub.signed(device, "POST", PUSH, body={"entries": [asset(1)]},
                          authorization=auth)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "device_auth_invalid"
    assert inventory(hub, device) == []


def test_a_replayed_push_is_refused(hub: Hub, device: SimDevice):
    raw = json.dumps({"entries": [play(1)]}).encode()
    auth = sign_request(device.key, device.device_id, "POST", PUSH, raw)
    headers = {"Content-Type": "application/json"}
    assert hub.signed(device, "POST", PUSH, raw=raw, authorization=auth,
                      headers=headers).status_code == 200
    again = hub.signed(device, "POST", PUSH, raw=raw, authorization=auth, headers=headers)
    assert again.get_json()["error"]["code"] == "device_auth_replayed"


def test_devices_keep_apart_even_with_the_same_keys_and_asset_ids(hub: Hub, device: SimDevice):
    other = hub.add_device(hub.b, "beta screen")
    same_key = "shared-key"
    hub.signed(device, "POST", PUSH, body={"entries": [asset(1, key=same_key, name="A's")]})
    response = hub.signed(other, "POST", PUSH, body={"entries": [
        asset(1, key=same_key, name="B's")]})
    assert response.get_json()["applied"] == 1  # another device's key is not a duplicate
    assert inventory(hub, device) == [("a1", "A's", 1)]
    assert inventory(hub, other) == [("a1", "B's", 1)]


def test_a_command_result_closes_only_this_devices_command(hub: Hub, device: SimDevice):
    other = hub.add_device(hub.a, "hall")
    for command_id, owner in (("c-mine", device), ("c-other", other)):
        hub.sql("INSERT INTO device_commands (command_id, tenant_id, device_id, command, args, "
                "status, created_at) VALUES (%s, %s, %s, 'next', '{}', 'pending', "
                "'2026-12-05 10:00:00')", (command_id, hub.a, owner.device_id), hub.a)
    version = hub.sql("SELECT command_version FROM devices WHERE device_id = %s",
                      (device.device_id,), hub.a)[0][0]
    hub.signed(device, "POST", PUSH, body={"entries": [
        entry(1, "command.result", command_id="c-mine", ok=True),
        entry(2, "command.result", command_id="c-other", ok=False, error="no")]})
    statuses = dict(hub.sql("SELECT command_id, status FROM device_commands", (), hub.a))
    assert statuses == {"c-mine": "done", "c-other": "pending"}
    assert hub.sql("SELECT command_version FROM devices WHERE device_id = %s",
                   (device.device_id,), hub.a)[0][0] == version + 1
    errors = hub.sql("SELECT seq, error FROM sync_receipts WHERE device_id = %s ORDER BY seq",
                     (device.device_id,), hub.a)
    assert errors[0] == (1, None) and errors[1][1]  # acknowledged, with the reason


def test_concurrent_duplicate_pushes_apply_each_entry_once(make_hub):
    hub = make_hub()
    device = hub.add_device(hub.a)
    batch = {"entries": [play(seq, key=f"play-{seq}") for seq in range(1, 41)]}
    results: list[dict] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            client = hub.app.test_client()
            raw = json.dumps(batch).encode()
            response = client.post(PUSH, data=raw, headers={
                "Content-Type": "application/json",
                "Authorization": sign_request(device.key, device.device_id, "POST", PUSH, raw)})
            results.append((response.status_code, response.get_json()))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    ok = [body for status, body in results if status == 200]
    # SQLite may refuse a writer that waited too long (503, retried by the agent); PostgreSQL
    # makes the later transactions wait for the first receipt and then skip.
    assert ok, results
    assert all(status in (200, 503) for status, _ in results), results
    assert sum(body["applied"] for body in ok) == 40
    assert plays(hub, device) == 40
    assert all(body["acked_through"] == 40 for body in ok)
