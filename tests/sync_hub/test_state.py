"""GET /api/v3/sync/state: the body, the ETag and 304, signatures refused as they should be."""

from __future__ import annotations

import datetime as dt
import time

from werkzeug.test import EnvironBuilder

from anthias_edge.timeutil import utcnow
from cloud_sync.hub.fast_path import StateFastPath
from cloud_sync.protocol import sign_request, validate_state
from tests.sync_hub.conftest import Hub, SimDevice

STATE = "/api/v3/sync/state"


def test_state_answers_the_body_and_an_etag(hub: Hub, device: SimDevice):
    response = hub.signed(device, "GET", STATE)
    assert response.status_code == 200, response.get_json()
    body = validate_state(response.get_json())
    assert body["qr_contents"] == [] and body["commands"] == []
    assert body["interval_s"] == 30
    assert body["limits"]["valid_until"].endswith("Z")
    assert response.headers["ETag"].startswith('"')


def test_an_unchanged_state_is_304_and_a_change_makes_it_200(hub: Hub, device: SimDevice):
    etag = hub.signed(device, "GET", STATE).headers["ETag"]
    again = hub.signed(device, "GET", STATE, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    hub.sql("UPDATE tenants SET sync_version = sync_version + 1 WHERE id = %s", (hub.a,))
    changed = hub.signed(device, "GET", STATE, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_a_queued_command_changes_the_etag_and_is_in_the_body(hub: Hub, device: SimDevice):
    etag = hub.signed(device, "GET", STATE).headers["ETag"]
    queue(hub, device, "c1", "show_asset", '{"asset_id": "a1"}', "2026-12-05 10:00:00",
          utcnow() + dt.timedelta(hours=1))
    response = hub.signed(device, "GET", STATE, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response.get_json()["commands"] == [
        {"command_id": "c1", "command": "show_asset", "args": {"asset_id": "a1"},
         "created_at": "2026-12-05T10:00:00Z"}]


def test_an_expired_command_is_never_handed_out(hub: Hub, device: SimDevice):
    # Queued a month ago for a day, while the screen was away; and one still waiting.
    month_ago = utcnow() - dt.timedelta(days=30)
    queue(hub, device, "old", "reboot", "{}", month_ago, month_ago + dt.timedelta(days=1))
    queue(hub, device, "fresh", "next", "{}", utcnow(), utcnow() + dt.timedelta(minutes=5))

    body = validate_state(hub.signed(device, "GET", STATE).get_json())

    assert [command["command_id"] for command in body["commands"]] == ["fresh"]


def queue(hub: Hub, device: SimDevice, command_id: str, command: str, args: str,
          created_at: object, expires_at: dt.datetime) -> None:
    """A pending command written as v3 queues it (and the bump that tells the device)."""
    hub.sql("INSERT INTO device_commands (command_id, tenant_id, device_id, command, args, "
            "status, created_at, expires_at) VALUES (%s, %s, %s, %s, %s, 'pending', %s, %s)",
            (command_id, hub.a, device.device_id, command, args, created_at, expires_at), hub.a)
    hub.sql("UPDATE devices SET command_version = command_version + 1 WHERE device_id = %s",
            (device.device_id,), hub.a)


def test_another_devices_etag_is_not_mine(hub: Hub, device: SimDevice):
    other = hub.add_device(hub.a, "hall")
    mine = hub.signed(device, "GET", STATE).headers["ETag"]
    theirs = hub.signed(other, "GET", STATE).headers["ETag"]
    assert mine != theirs
    assert hub.signed(other, "GET", STATE, headers={"If-None-Match": mine}).status_code == 200


def test_a_pull_marks_the_device_seen(hub: Hub, device: SimDevice):
    hub.signed(device, "GET", STATE)
    assert hub.sql("SELECT last_seen_at FROM devices WHERE device_id = %s",
                   (device.device_id,), hub.a)[0][0] is not None


def test_a_replayed_pull_is_refused_also_when_not_modified(hub: Hub, device: SimDevice):
    etag = hub.signed(device, "GET", STATE).headers["ETag"]
    auth = sign_request(device.key, device.device_id, "GET", STATE, b"")
    first = hub.signed(device, "GET", STATE, authorization=auth,
                       headers={"If-None-Match": etag})
    assert first.status_code == 304
    again = hub.signed(device, "GET", STATE, authorization=auth,
                       headers={"If-None-Match": etag})
    assert again.status_code == 401
    assert again.get_json()["error"]["code"] == "device_auth_replayed"


def test_expired_tampered_and_foreign_signatures_are_refused(hub: Hub, device: SimDevice):
    etag = hub.signed(device, "GET", STATE).headers["ETag"]
    conditional = {"If-None-Match": etag}
    old = hub.signed(device, "GET", STATE, now=time.time() - 200, headers=conditional)
    assert old.get_json()["error"]["code"] == "device_auth_expired"
    other = hub.add_device(hub.b, "elsewhere")
    # Signed by B's key but naming A's device: the signature does not match A's key.
    forged = sign_request(other.key, device.device_id, "GET", STATE, b"")
    refused = hub.signed(device, "GET", STATE, authorization=forged, headers=conditional)
    assert refused.get_json()["error"]["code"] == "device_auth_invalid"
    for_push = sign_request(device.key, device.device_id, "POST", "/api/v3/sync/push", b"")
    assert hub.signed(device, "GET", STATE, authorization=for_push, headers=conditional
                      ).get_json()["error"]["code"] == "device_auth_invalid"
    missing = hub.client.get(STATE, headers=conditional)
    assert missing.status_code == 401
    assert missing.get_json()["error"]["code"] == "device_auth_missing"


def test_an_unknown_device_is_refused(hub: Hub, device: SimDevice):
    hub.sql("DELETE FROM devices WHERE device_id = %s", (device.device_id,), hub.a)
    response = hub.signed(device, "GET", STATE, headers={"If-None-Match": '"x"'})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "device_auth_invalid"


def test_a_revoked_device_is_refused_at_once(hub: Hub, device: SimDevice):
    etag = hub.signed(device, "GET", STATE).headers["ETag"]
    hub.sql("UPDATE devices SET status = 'revoked' WHERE device_id = %s", (device.device_id,),
            hub.a)
    response = hub.signed(device, "GET", STATE, headers={"If-None-Match": etag})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "device_revoked"


def test_unlink_revokes_the_device(hub: Hub, device: SimDevice):
    assert hub.signed(device, "POST", "/api/v3/sync/unlink").status_code == 204
    assert hub.sql("SELECT status FROM devices WHERE device_id = %s", (device.device_id,),
                   hub.a) == [("revoked",)]
    assert hub.signed(device, "GET", STATE).get_json()["error"]["code"] == "device_revoked"


def test_on_postgresql_an_unchanged_pull_is_answered_before_flask(pg_hub: Hub):
    hub = pg_hub
    device = hub.add_device(hub.a)
    etag = hub.signed(device, "GET", STATE).headers["ETag"]
    reached_flask: list[str] = []

    def flask_app(environ, start_response):
        reached_flask.append(environ["PATH_INFO"])
        start_response("200 OK", [])
        return [b""]

    fast = StateFastPath(flask_app, hub.app.extensions["sync_hub"])
    answered: list[str] = []

    def call(authorization: str, tag: str) -> None:
        environ = EnvironBuilder(path=STATE, headers={
            "Authorization": authorization, "If-None-Match": tag}).get_environ()
        fast(environ, lambda status, headers: answered.append(status))

    good = sign_request(device.key, device.device_id, "GET", STATE, b"")
    call(good, etag)
    assert answered == ["304 Not Modified"] and reached_flask == []
    call(good, etag)  # the same token again: a replay, which Flask refuses
    call(sign_request(device.key, device.device_id, "GET", STATE, b""), '"stale"')
    assert reached_flask == [STATE, STATE]
    hub.sql("UPDATE devices SET status = 'revoked' WHERE device_id = %s", (device.device_id,))
    call(sign_request(device.key, device.device_id, "GET", STATE, b""), etag)
    assert reached_flask == [STATE, STATE, STATE]  # the remembered key does not outlive it
    assert answered.count("304 Not Modified") == 1
