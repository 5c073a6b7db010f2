"""End to end on loopback: a cloud on PostgreSQL, two devices in two tenants, real agents.

Device A (tenant alpha) links with a pairing code typed into ``anthias-edge link``; device B
(tenant beta) enrolls by itself from a fleet token file when its agent starts. Both run
``anthias-edge serve`` and ``anthias-edge sync``; A also runs the headless player, and a
ZeroMQ subscriber of the test listens to what A's server publishes to it. Both reach the cloud
through the fault proxy (in ``pass`` mode here); the last test stops the cloud for good.

The tests run in order and build on each other (one cloud per module keeps CI time down).
The agent pulls every 30 s (the hub's interval; the device setting's minimum is 5 s and the
longer one wins), so each wait for "the next cycle" is bounded generously, never asserted as
a speed.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from typing import Any

import pytest
import zmq

from cloud_sync.protocol import load_private_key, new_key_pair, sign_request
from tests.sync_e2e.harness import (
    CYCLE_WAIT_S,
    Cloud,
    Device,
    assert_exactly_once,
    http,
    stop_process,
    v2_asset,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


class Subscriber:
    """A real ZeroMQ SUB on a device server's publisher: every ``viewer`` message, in order."""

    def __init__(self, endpoint: str) -> None:
        self.messages: list[str] = []
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.setsockopt_string(zmq.SUBSCRIBE, "viewer")
        self._socket.connect(endpoint)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if self._socket.poll(100):
                self.messages.append(self._socket.recv_string())

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()
        self._context.term()


class World:
    """What the tests share: the cloud, the proxy, the devices and their ids."""

    def __init__(self, cloud: Cloud, proxy: Any, a: Device, b: Device) -> None:
        self.cloud, self.proxy, self.a, self.b = cloud, proxy, a, b
        self.ids: dict[str, str] = {}
        self.assets: dict[str, str] = {}
        self.qr_code = ""
        self.token_b = ""
        self.subscriber: Subscriber | None = None


@pytest.fixture(scope="module")
def world(cloud, proxy, devices):
    a = devices("device-a", proxy.url)
    b = devices("device-b", proxy.url)
    a.start_server()
    b.start_server()
    built = World(cloud, proxy, a, b)
    built.subscriber = Subscriber(a.publisher)
    yield built
    built.subscriber.close()


def _listed(cloud: Cloud, tenant: str) -> dict[str, dict]:
    status, body = cloud.api(tenant, "GET", "/api/v3/devices")
    assert status == 200, body
    return {item["device_id"]: item for item in body["items"]}


def _inventory(cloud: Cloud, tenant: str, device_id: str) -> dict[str, dict]:
    status, body = cloud.api(tenant, "GET", f"/api/v3/devices/{device_id}/inventory")
    assert status == 200, body
    return {item["asset_id"]: item for item in body["items"]}


def test_devices_link_by_code_and_by_fleet_token_and_each_tenant_sees_its_own(world):
    cloud, a, b = world.cloud, world.a, world.b
    for name in ("Menu", "Prices"):  # a library before linking: the link snapshots it
        status, body = a.api("POST", "/api/v2/assets", v2_asset(name, duration=3))
        assert status == 201, body
        world.assets[name] = body["asset_id"]

    code = cloud.pairing_code("alpha")
    linked = a.cli("link", "--cloud", world.proxy.url, "--code", code, "--name", "Lobby A")
    assert linked.returncode == 0, linked.stderr
    assert "(Alpha) as Lobby A." in linked.stdout
    a.start_player()
    a.start_agent()

    status, body = b.api("POST", "/api/v2/assets", v2_asset("Kiosk welcome"))
    assert status == 201, body
    world.assets["Kiosk welcome"] = body["asset_id"]
    token_file = b.home / "anthias-fleet.token"
    world.token_b = cloud.fleet_token("beta", max_devices=1)
    token_file.write_text(f"token={world.token_b}\n"
                          f"cloud={world.proxy.url}\nname=Kiosk B\n")
    b.start_agent()  # enrolls from the file by itself, then deletes it
    wait_until(lambda: not token_file.exists(), CYCLE_WAIT_S, "B enrolled from its token file")

    world.ids["a"] = a.status()["device_id"]
    world.ids["b"] = wait_until(lambda: b.status()["device_id"], 30, "B's device id")

    def seen_alpha() -> dict | None:
        listed = _listed(cloud, "alpha")
        row = listed.get(world.ids["a"])
        return listed if row and row["last_seen_at"] else None

    alpha = wait_until(seen_alpha, CYCLE_WAIT_S, "A seen by the cloud")
    beta = _listed(cloud, "beta")
    assert set(alpha) == {world.ids["a"]} and alpha[world.ids["a"]]["name"] == "Lobby A"
    assert alpha[world.ids["a"]]["linked_via"] == "code"
    assert set(beta) == {world.ids["b"]} and beta[world.ids["b"]]["name"] == "Kiosk B"
    assert beta[world.ids["b"]]["linked_via"] == "fleet_token"
    # Neither tenant can reach the other's screen by id.
    assert cloud.api("alpha", "GET", f"/api/v3/devices/{world.ids['b']}")[0] == 404
    assert cloud.api("beta", "GET", f"/api/v3/devices/{world.ids['a']}/inventory")[0] == 404
    inventory = wait_until(lambda: len(inv := _inventory(cloud, "alpha", world.ids["a"])) == 2
                           and inv, CYCLE_WAIT_S, "A's library in the cloud")
    assert {row["name"] for row in inventory.values()} == {"Menu", "Prices"}


def test_edits_reach_the_hub_and_qr_limits_and_commands_reach_the_device(world):
    cloud, a = world.cloud, world.a
    device_id = world.ids["a"]
    # In the cloud: a code for one of A's assets, a lower limit, and a command.
    status, qr = cloud.api("alpha", "POST", "/api/v3/qr-content",
                           {"asset_id": world.assets["Menu"], "device_id": device_id,
                            "title": "Menu of the day"})
    assert status == 201, qr
    world.qr_code = qr["qr_code"]
    status, command = cloud.api("alpha", "POST", f"/api/v3/devices/{device_id}/commands",
                                {"command": "next"})
    assert status == 201, command

    # On the device, through each API family: v1 (form), v1.2, v2 and v3.
    v1 = {"name": "From v1", "uri": "https://example.com/v1", "mimetype": "webpage",
          "start_date": "2020-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z",
          "duration": "3", "is_enabled": 1, "skip_asset_check": 1}
    status, body = a.api("POST", "/api/v1/assets", form={"model": json.dumps(v1)})
    assert status == 201, body
    world.assets["From v1"] = body["asset_id"]
    status, body = a.api("POST", "/api/v1.2/assets", {**v1, "name": "From v1.2"})
    assert status == 201, body
    world.assets["From v1.2"] = body["asset_id"]
    status, body = a.api("POST", "/api/v3/assets", {
        "name": "From v3", "uri": "https://example.com/v3", "mimetype": "webpage",
        "duration": 3, "is_enabled": True, "skip_asset_check": True})
    assert status == 201, body
    world.assets["From v3"] = body["asset_id"]
    prices = world.assets["Prices"]
    status, body = a.api("PATCH", f"/api/v2/assets/{prices}", {"name": "Prices (new)"})
    assert status == 200, body
    status, _ = a.api("DELETE", f"/api/v1.2/assets/{world.assets['From v1.2']}")
    assert status == 204
    local = {row[0] for row in a.sql("SELECT asset_id FROM assets")}
    cloud.set_limits("alpha", max_assets=len(local))  # full: the next create is over it

    # One pull later: the hub holds the edits, the device the code, limits and command.
    def synced() -> dict | None:
        inventory = _inventory(cloud, "alpha", device_id)
        return inventory if set(inventory) == local else None

    inventory = wait_until(synced, CYCLE_WAIT_S, "the device's edits in the hub")
    assert inventory[prices]["name"] == "Prices (new)"
    assert world.assets["From v1.2"] not in inventory
    wait_until(lambda: a.sql("SELECT qr_code FROM qr_contents WHERE qr_code = ?",
                             (world.qr_code,)), CYCLE_WAIT_S, "the cloud's QR code on A")
    wait_until(lambda: "viewer next" in world.subscriber.messages, CYCLE_WAIT_S,
               "the cloud's command at the player's socket")
    done = wait_until(lambda: (rows := cloud.api("alpha", "GET",
                                                 f"/api/v3/devices/{device_id}/commands")[1])
                      and rows["items"][0]["status"] == "done" and rows["items"][0],
                      CYCLE_WAIT_S, "the command marked done")
    assert done["command_id"] == command["command_id"]

    def refused() -> Any:
        status, body = a.api("POST", "/api/v2/assets", v2_asset("One too many"))
        return body if status != 201 else a.api("DELETE", f"/api/v2/assets/{body['asset_id']}")
    over = wait_until(lambda: isinstance(body := refused(), dict) and "error" in str(body)
                      and body, CYCLE_WAIT_S, "the cloud's limit enforced on A")
    assert "asset limit of its cloud plan" in json.dumps(over)

    # The LAN landing of the code answers from the device itself.
    status, page, _ = http("GET", f"{a.base}/q/{world.qr_code}")
    assert status == 200 and "Menu of the day" in page

    # Plays of the headless player reach the proof-of-play report.
    def played() -> list[dict]:
        status, body = cloud.api("alpha", "GET", f"/api/v3/reports/plays?device={device_id}")
        assert status == 200, body
        return body["items"]

    rows = wait_until(played, CYCLE_WAIT_S * 2, "plays in the report")
    assert {row["device_id"] for row in rows} == {device_id}
    ever = {payload["asset_id"] for _seq, _key, kind, payload in a.history()
            if kind == "asset.upsert"}
    assert {row["asset_id"] for row in rows} <= ever  # the player may have shown a deleted one
    assert sum(row["plays"] for row in rows) >= 1
    status, csv_text, headers = http("GET", cloud.url + f"/api/v3/reports/plays?format=csv"
                                     f"&device={device_id}",
                                     headers={"Authorization": f"Bearer {cloud.token('alpha')}"})
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert device_id in csv_text
    wait_until(lambda: a.pending() == 0, CYCLE_WAIT_S, "A's outbox emptied")
    assert_exactly_once(a, cloud, device_id)


def _state_call(cloud: Cloud, authorization: str) -> tuple[int, Any]:
    status, answer, _ = http("GET", cloud.url + "/api/v3/sync/state",
                             headers={"Authorization": authorization})
    return status, answer


def _error_code(answer: Any) -> str:
    return answer["error"]["code"] if isinstance(answer, dict) else str(answer)


def test_signed_requests_are_bound_to_their_device_and_refused_when_replayed_or_revoked(world):
    cloud, a, b = world.cloud, world.a, world.b
    key_a = load_private_key(a.home / ".screenly" / "sync" / "device_key.pem")
    path = "/api/v3/sync/state"

    # A's key cannot speak for B (another tenant's device).
    status, answer = _state_call(cloud, sign_request(key_a, world.ids["b"], "GET", path, b""))
    assert (status, _error_code(answer)) == (401, "device_auth_invalid")
    # A's own request works once; the same signed request again is a replay.
    header = sign_request(key_a, world.ids["a"], "GET", path, b"")
    status, state = _state_call(cloud, header)
    assert status == 200
    assert {row["qr_code"] for row in state["qr_contents"]} == {world.qr_code}
    status, answer = _state_call(cloud, header)
    assert (status, _error_code(answer)) == (401, "device_auth_replayed")
    # Expired, and a body that is not the one signed.
    old = sign_request(key_a, world.ids["a"], "GET", path, b"", now=time.time() - 600)
    assert _error_code(_state_call(cloud, old)[1]) == "device_auth_expired"
    push = json.dumps({"entries": []}).encode()
    signed = sign_request(key_a, world.ids["a"], "POST", "/api/v3/sync/push", push)
    status, answer, _ = http("POST", cloud.url + "/api/v3/sync/push",
                             {"entries": [{"seq": 1, "key": str(uuid.uuid4()),
                                           "kind": "asset.delete", "at": "2026-01-01T00:00:00Z",
                                           "payload": {"asset_id": world.assets["Menu"]}}]},
                             headers={"Authorization": signed})
    assert (status, _error_code(answer)) == (401, "device_auth_invalid")
    assert world.assets["Menu"] in _inventory(cloud, "alpha", world.ids["a"])
    # A validly signed push naming B's asset touches only A's own inventory.
    welcome = world.assets["Kiosk welcome"]
    wait_until(lambda: welcome in _inventory(cloud, "beta", world.ids["b"]), CYCLE_WAIT_S,
               "B's library in the cloud")
    push = json.dumps({"entries": [{"seq": 1, "key": str(uuid.uuid4()),
                                    "kind": "asset.delete", "at": "2026-01-01T00:00:00Z",
                                    "payload": {"asset_id": welcome}}]}).encode()
    status, answer, _ = http("POST", cloud.url + "/api/v3/sync/push", json.loads(push),
                             headers={"Authorization": sign_request(
                                 key_a, world.ids["a"], "POST", "/api/v3/sync/push", push)})
    assert status == 200, answer
    assert welcome in _inventory(cloud, "beta", world.ids["b"])

    # A fleet token past its cap is refused; guessing pairing codes runs into the
    # per-address limit.
    answers, (_key, public) = [], new_key_pair()
    status, answer, _ = http("POST", cloud.url + "/api/v3/sync/enroll",
                             {"fleet_token": world.token_b, "public_key": public,
                              "name": "one more"})
    assert (status, _error_code(answer)) == (403, "fleet_token_invalid"), answer
    assert answer["error"]["details"]["reason"] == "cap_reached", answer
    for _ in range(70):
        status, answer, _ = http("POST", cloud.url + "/api/v3/sync/enroll",
                                 {"code": "ZZZZ2345", "public_key": public, "name": "guess"})
        answers.append(status)
        if status == 429:
            break
    assert answers[-1] == 429 and set(answers[:-1]) <= {404}

    # Revoked in the cloud: refused at once, and B's agent says so.
    status, revoked = cloud.api("beta", "DELETE", f"/api/v3/devices/{world.ids['b']}")
    assert status == 200 and revoked["status"] == "revoked"
    key_b = load_private_key(b.home / ".screenly" / "sync" / "device_key.pem")
    status, answer = _state_call(cloud, sign_request(key_b, world.ids["b"], "GET", path, b""))
    assert (status, _error_code(answer)) == (401, "device_revoked")
    status_b = wait_until(lambda: (s := b.status())["unlinked_by_cloud"] and s,
                          CYCLE_WAIT_S, "B's agent noticing the revocation")
    assert "unlinked in the cloud" in status_b["last_error"]
    assert status_b["linked"] is False


def test_offline_the_device_keeps_playing_and_serving_with_its_last_limits(world):
    a = world.a
    world.proxy.mode = "down"  # the cloud is gone for good
    stop_process(world.cloud.process)  # a bare waitress script: SIGTERM ends it
    assert world.cloud.process.poll() is not None
    local = a.sql("SELECT count(*) FROM assets")[0][0]
    status, body = a.api("POST", "/api/v2/assets", v2_asset("Offline over the limit"))
    assert status != 201 and "asset limit of its cloud plan" in json.dumps(body)

    # The player goes on: the asset on screen changes with the 3-s durations.
    def on_screen() -> str | None:
        status, body = a.api("GET", "/api/v1/viewer_current_asset")
        assert status == 200, body
        return body["asset_id"] if body else None

    first = wait_until(on_screen, 60, "something on A's screen")
    wait_until(lambda: on_screen() not in (None, first), 60, "the player moving on")
    status, page, _ = http("GET", f"{a.base}/q/{world.qr_code}")
    assert status == 200 and "Menu of the day" in page

    # Past the cached limits' validity the device stops enforcing, and hides nothing.
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    limits = json.loads(a.sql("SELECT limits_json FROM sync_link")[0][0])
    limits["valid_until"] = past
    a.sql("UPDATE sync_link SET limits_json = ?, limits_valid_until = ?",
          (json.dumps(limits), past.replace("T", " ").rstrip("Z")))
    status, body = a.api("POST", "/api/v2/assets", v2_asset("Offline, limits lapsed"))
    assert status == 201, body
    status, listed = a.api("GET", "/api/v2/assets")
    assert status == 200 and len(listed) == local + 1
    # The agent says in words that it cannot reach the cloud (at its next attempt).
    words = wait_until(lambda: a.status()["last_error"], CYCLE_WAIT_S, "A's sync error")
    assert "cloud" in words.lower() or "reach" in words.lower(), words
