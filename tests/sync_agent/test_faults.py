"""The agent's loop against a hub that misbehaves on a real socket: refused, slow, 5xx, 429,
cut answers, invalid batches, revocation; and what a good exchange looks like on the wire.

The device is the test's app (its database: SQLite, or PostgreSQL in that pass), linked with
a real key; the hub is tests/sync_agent/fake_hub.py answering as scripted.
"""

from __future__ import annotations

import json
import random

import pytest

from anthias_edge.db import db
from anthias_edge.messaging import NullMessenger
from cloud_sync.agent import local_state, status
from cloud_sync.agent.errors import CloudRefused
from cloud_sync.agent.http import Timeouts
from cloud_sync.agent.loop import Agent
from cloud_sync.device import link_store, outbox
from cloud_sync.protocol import new_key_pair, save_private_key, verify_request
from tests.helpers import viewer_commands
from tests.sync_agent.fake_hub import Reply, closed_port_url, fake_hub

TIMEOUTS = Timeouts(connect_s=2.0, read_s=0.5, total_s=3.0)
STATE = {"qr_contents": [], "settings": {}, "commands": [], "interval_s": 30,
         "limits": {"plan": "free", "max_assets": 10, "max_devices": 1, "storage_quota_gb": 1,
                    "valid_until": "2099-01-01T00:00:00Z"}}


def answer(status_code: int, body: dict | None = None, **headers: str) -> Reply:
    data = b"" if body is None else json.dumps(body).encode()
    return Reply(status=status_code, body=data,
                 headers={"Content-Type": "application/json", **headers})


def error(status_code: int, code: str, message: str = "No.", **headers: str) -> Reply:
    return answer(status_code, {"error": {"code": code, "message": message, "details": None}},
                  **headers)


@pytest.fixture
def device(app):
    """The app's runtime with its database connected and open for the test."""
    runtime = app.extensions["anthias"]
    with runtime.database.connection_context():
        yield runtime


def link_to(runtime, url: str, plays: int = 0):
    key, _public = new_key_pair()
    path = local_state.key_path(runtime.settings)
    save_private_key(key, path)
    link_store.save_link(cloud_url=url, device_id="device-1", tenant_id="tenant-1",
                         tenant_name="Acme", device_name="Lobby", key_path=path)
    with db.atomic():
        for number in range(plays):
            outbox.record("play", {"asset_id": f"a{number}", "asset_name": "Poster",
                                   "started_at": "2026-12-05T10:00:00Z", "duration_s": 10.0})
    return key.public_key()


def agent_of(runtime) -> Agent:
    return Agent(runtime.settings, messenger=NullMessenger(), timeouts=TIMEOUTS,
                 rng=random.Random(7))


def pending_seqs() -> list[int]:
    return [entry.seq for entry in outbox.pending(500)]


def test_a_refused_connection_backs_off_and_says_so_in_plain_words(device):
    link_to(device, closed_port_url(), plays=2)
    agent = agent_of(device)
    before = pending_seqs()

    delays = [agent.step() for _ in range(4)]

    assert all(1 <= delay <= ceiling for delay, ceiling in zip(delays, (5, 10, 20, 40),
                                                                   strict=True))
    last = link_store.load()
    assert last.last_error.startswith("The cloud could not be reached (connection refused) — "
                                      "retrying in ")
    assert last.last_error.endswith(" s")
    assert pending_seqs() == before  # nothing lost, nothing acknowledged


def test_server_errors_back_off_exponentially_and_a_success_resets_the_delay(device):
    with fake_hub() as hub:
        link_to(device, hub.url, plays=1)
        hub.script(error(503, "unavailable"))
        agent = agent_of(device)
        for _ in range(3):
            agent.step()
        assert agent.backoff.failures == 3
        assert "(it answered with a server error, HTTP 503)" in link_store.load().last_error

        hub.script(answer(200, {"acked_through": 1000, "applied": 1, "duplicates": 0}),
                   answer(200, STATE, ETag='"v1"'))
        delay = agent.step()

    assert agent.backoff.failures == 0
    assert 24 <= delay <= 36  # the jittered 30 s interval again
    assert link_store.load().last_error is None
    assert pending_seqs() == []


def test_a_429_retry_after_is_obeyed(device):
    with fake_hub() as hub:
        link_to(device, hub.url, plays=1)
        hub.script(error(429, "rate_limited", **{"Retry-After": "120"}))

        delay = agent_of(device).step()

    assert delay >= 120
    assert "(it asked to slow down, HTTP 429) — retrying in 2 min" in link_store.load().last_error


def test_a_hub_slower_than_the_timeout_counts_as_unreachable_and_nothing_is_acknowledged(device):
    with fake_hub() as hub:
        link_to(device, hub.url, plays=3)
        hub.script(Reply(delay_s=2.0, body=b'{"acked_through": 3}'))
        before = pending_seqs()

        agent_of(device).step()

    assert "(no answer within 0.5 s)" in link_store.load().last_error
    assert pending_seqs() == before


@pytest.mark.parametrize(("reply", "words"), [
    (Reply(body=b'{"acked_through": 3, "applied": 3, "duplicates": 0}', cut_after=7),
     "the answer was cut off"),
    (Reply(close=True), "it closed the connection without answering"),
    (Reply(body=b"<html>oops</html>", headers={"Content-Type": "text/html"}),
     "its answer could not be read"),
])
def test_an_answer_cut_short_or_unreadable_keeps_every_entry_for_the_next_push(device, reply,
                                                                               words):
    with fake_hub() as hub:
        link_to(device, hub.url, plays=3)
        hub.script(reply)
        before = pending_seqs()

        agent_of(device).step()

    assert f"({words})" in link_store.load().last_error
    assert pending_seqs() == before  # sent again next time; the hub keeps each once


def test_a_push_is_signed_ordered_and_acknowledged_only_through_what_the_hub_applied(device):
    with fake_hub() as hub:
        public = link_to(device, hub.url, plays=3)
        seqs = pending_seqs()
        hub.script(answer(200, {"acked_through": seqs[1], "applied": 2, "duplicates": 0}),
                   answer(200, {"acked_through": seqs[2], "applied": 1, "duplicates": 0}),
                   answer(200, STATE, ETag='"v1"'))

        agent_of(device).step()
        pushes = [r for r in hub.received if r.path == "/api/v3/sync/push"]

    first = json.loads(pushes[0].body)
    assert [entry["seq"] for entry in first["entries"]] == seqs
    assert {entry["kind"] for entry in first["entries"]} == {"play"}
    assert set(first["health"]) >= {"software_version", "free_disk_bytes", "uptime_s"}
    claims = verify_request(pushes[0].headers["authorization"], public, "POST",
                            "/api/v3/sync/push", pushes[0].body)
    assert claims.device_id == "device-1"
    # The second push carries only what the first left unacknowledged.
    assert [entry["seq"] for entry in json.loads(pushes[1].body)["entries"]] == seqs[2:]
    assert pending_seqs() == []
    assert link_store.load().last_push_at is not None


def test_the_state_is_pulled_with_its_etag_and_a_304_changes_nothing(device):
    with fake_hub() as hub:
        link_to(device, hub.url)
        hub.script(answer(200, {"acked_through": 0, "applied": 0, "duplicates": 0}),
                   answer(200, STATE, ETag='"v1"'), Reply(status=304))
        agent = agent_of(device)
        agent.step()
        assert link_store.load().state_etag == '"v1"'
        agent.step()
        pulls = [r for r in hub.received if r.path == "/api/v3/sync/state"]

    assert "if-none-match" not in pulls[0].headers
    assert pulls[1].headers["if-none-match"] == '"v1"'
    assert link_store.load().last_pull_at is not None


def test_an_entry_the_hub_can_never_accept_is_found_by_halving_and_skipped(device):
    with fake_hub() as hub:
        link_to(device, hub.url, plays=3)
        seqs = pending_seqs()
        refusal = error(400, "validation_error", "entries[0].payload.asset_id: too long")
        hub.script(refusal, refusal,
                   answer(200, {"acked_through": seqs[2], "applied": 2, "duplicates": 0}),
                   answer(200, STATE, ETag='"v1"'))

        agent_of(device).step()
        pushes = [json.loads(r.body) for r in hub.received if r.path == "/api/v3/sync/push"]

    assert [len(push["entries"]) for push in pushes] == [3, 1, 2]
    assert pending_seqs() == []
    words = link_store.load().last_error
    assert words.startswith(f"A change the cloud cannot accept was skipped (play, number "
                            f"{seqs[0]}): entries[0].payload.asset_id: too long")


def test_a_revoked_device_forgets_its_link_keeps_its_data_and_says_why(device):
    with fake_hub() as hub:
        link_to(device, hub.url, plays=2)
        hub.script(error(401, "device_revoked", "This device was unlinked by the cloud."))

        agent_of(device).step()
        requests_made = len(hub.received)
        agent_of(device).step()  # unlinked now: it asks the hub nothing more

    assert len(hub.received) == requests_made
    assert link_store.load() is None
    assert outbox.count() == 0
    state = status(device.settings)
    assert state["linked"] is False and state["unlinked_by_cloud"] is True
    assert state["last_error"].startswith(f"This device was unlinked in the cloud ({hub.url})")
    assert not local_state.key_path(device.settings).exists()


def test_codes_pulled_from_the_cloud_land_locally_and_the_player_is_told(device, viewer):
    from anthias_edge.models import Asset, QRContent

    asset = Asset.create(asset_id="a1", name="Poster", uri="https://example.com",
                         mimetype="webpage", tenant=device.local_tenant_id)
    qr_code = "QR00112233445566AB"
    code = {"qr_id": "q1", "qr_code": qr_code, "barcode": None, "asset_id": asset.asset_id,
            "title": "Take me", "description": "", "expires_at": None, "is_active": True,
            "updated_at": "2026-12-05T10:00:00Z", "landing_url": f"https://c.example/q/{qr_code}"}
    with fake_hub() as hub:
        link_to(device, hub.url)
        hub.script(answer(200, {"acked_through": 1000, "applied": 1, "duplicates": 0}),
                   answer(200, {**STATE, "qr_contents": [code]}, ETag='"v2"'))
        agent = Agent(device.settings, messenger=device.messenger, timeouts=TIMEOUTS,
                      rng=random.Random(7))

        agent.step()

    assert agent.last_problem is None
    assert QRContent.get_by_id("q1").qr_code == qr_code
    assert "refresh" in viewer_commands(viewer, timeout_s=1.0)


def test_a_device_code_called_expired_long_before_its_time_is_polled_once_more(device):
    from cloud_sync.agent import poll_device_code, start_device_code

    expires = "2099-01-01T00:00:00Z"
    ticket_body = {"code": "K7QHMX4P", "expires_at": expires, "poll_token": "p" * 32,
                   "claim_url": "https://c.example/#/screens/claim/K7QHMX4P"}
    claimed = {"status": "claimed", "device_id": "d-9", "tenant_id": "t-1",
               "tenant_name": "Acme", "name": "Hall", "interval_s": 30}
    gone = error(410, "device_code_expired", "Expired.")
    with fake_hub() as hub:
        hub.script(answer(201, ticket_body), gone, answer(200, claimed))
        ticket = start_device_code(device.settings, hub.url, "Hall")
        result = poll_device_code(ticket)
        assert (result.status, result.link.device_id) == ("claimed", "d-9")

        link_store.clear_link()
        hub.script(answer(201, ticket_body), gone, gone)
        ticket = start_device_code(device.settings, hub.url, "Hall")
        with pytest.raises(CloudRefused) as refused:
            poll_device_code(ticket)

    assert refused.value.code == "device_code_expired"
    assert link_store.load() is None


def test_an_acknowledgement_past_the_batch_never_drops_entries_it_did_not_carry(device):
    # A device whose database went back to an older copy numbers its changes from lower
    # values than the hub has seen; the hub's higher acked_through must not make the change
    # written while the push was on the way look sent.
    from cloud_sync.agent.http import HubClient, Signer
    from cloud_sync.agent.push import push_all
    from cloud_sync.protocol import load_private_key

    with fake_hub() as hub:
        link_to(device, hub.url, plays=2)
        sent = pending_seqs()
        hub.script(answer(200, {"acked_through": 10_000, "applied": 2, "duplicates": 0}))
        written_meanwhile: list[int] = []

        def fill(wire: dict) -> dict:
            if not written_meanwhile:
                with db.atomic():
                    outbox.record("play", {"asset_id": "late", "asset_name": "Poster",
                                           "started_at": "2026-12-05T10:01:00Z",
                                           "duration_s": 5.0})
                written_meanwhile.extend(set(pending_seqs()) - set(sent))
            return wire

        link = link_store.load()
        signer = Signer(link.device_id, load_private_key(link.key_path))
        with HubClient(hub.url, signer, TIMEOUTS) as client:
            push_all(client, None, fill=fill)

    assert written_meanwhile and pending_seqs() == written_meanwhile
