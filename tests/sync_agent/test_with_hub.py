"""The agent against the real hub on a loopback port: linking, syncing, revoking, unlinking.

Each device is a HOME on SQLite driven through ``anthias-edge`` in a subprocess; the hub is
the cloud app served by waitress (tests/sync_agent/conftest.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import signal
import stat
import subprocess
import sys
import time

from anthias_edge.services.fleet.devices import FleetService
from anthias_edge.services.fleet.enrolment import EnrolmentService
from anthias_edge.services.fleet.linking import claim_device_code
from cloud_sync.protocol import load_private_key, public_key_b64


def pairing_code(served, tenant_id: str) -> str:
    with served.hub.db(tenant_id):
        return EnrolmentService(tenant_id).create_pairing_code().code


def fleet_token(served, tenant_id: str, max_devices: int = 5) -> str:
    expires = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=1)
    with served.hub.db(tenant_id):
        return EnrolmentService(tenant_id).create_fleet_token("Shops", max_devices,
                                                              expires).secret


def test_a_device_links_with_a_code_and_its_library_reaches_the_hub(served_hub, make_device):
    device = make_device("lobby")
    asset_id = device.add_asset("Menu board")
    code = pairing_code(served_hub, served_hub.hub.a)

    linked = device.cli("link", "--cloud", served_hub.url, "--code", code, "--name", "Lobby")
    assert linked.returncode == 0, linked.stderr
    assert f"Linked to {served_hub.url} (Alpha) as Lobby." in linked.stdout

    status = device.status()
    device_id = status["device_id"]
    assert status["linked"] is True and status["tenant_name"] == "Alpha"
    assert status["pending_outbox"] >= 1  # the library snapshot, waiting to be pushed
    key_file = device.home / ".screenly" / "sync" / "device_key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    registered = served_hub.hub.sql("SELECT public_key, name, status FROM devices "
                                    "WHERE device_id = %s", (device_id,), served_hub.hub.a)
    assert registered == [(public_key_b64(load_private_key(key_file)), "Lobby", "active")]

    synced = device.cli("sync", "--once")
    assert synced.returncode == 0, synced.stderr

    inventory = served_hub.hub.sql("SELECT asset_id, name FROM device_assets "
                                   "WHERE device_id = %s", (device_id,), served_hub.hub.a)
    assert inventory == [(asset_id, "Menu board")]
    assert device.sql("SELECT count(*) FROM sync_outbox") == [(0,)]
    after = device.status()
    assert after["pending_outbox"] == 0
    assert after["last_success_at"] is not None and after["last_error"] is None
    assert served_hub.hub.sql("SELECT tenant_id FROM devices WHERE device_id = %s",
                              (device_id,)) == [(served_hub.hub.a,)]


def test_a_wrong_or_used_code_is_refused_with_exit_code_2_and_nothing_is_linked(
        served_hub, make_device):
    first, second = make_device("one"), make_device("two")
    code = pairing_code(served_hub, served_hub.hub.a)
    assert first.cli("link", "--cloud", served_hub.url, "--code", code,
                     "--name", "One").returncode == 0

    again = second.cli("link", "--cloud", served_hub.url, "--code", code, "--name", "Two")

    assert again.returncode == 2
    assert again.stderr.strip().startswith("Error: That pairing code is not valid")
    assert len(again.stderr.strip().splitlines()) == 1
    assert second.status()["linked"] is False
    assert not (second.home / ".screenly" / "sync" / "device_key.pem").exists()


def test_a_fleet_token_file_links_once_and_is_deleted(served_hub, make_device):
    device = make_device("kiosk")
    token = fleet_token(served_hub, served_hub.hub.a)
    token_file = device.home / "anthias-fleet.token"
    token_file.write_text(f"token={token}\ncloud={served_hub.url}\nname=Kiosk 7\n")

    first = device.cli("link", "--fleet-token-file", str(token_file), "--wait")
    assert first.returncode == 0, first.stderr
    assert "as Kiosk 7." in first.stdout
    assert not token_file.exists()

    second = device.cli("link", "--fleet-token-file", str(token_file), "--wait")
    assert second.returncode == 0
    assert f"Nothing to do: {token_file} holds no fleet token." in second.stdout
    token_file.write_text(f"{token}\n")  # a card put back in: linked already, nothing happens
    third = device.cli("link", "--fleet-token-file", str(token_file), "--wait")
    assert third.returncode == 0
    assert third.stdout.startswith(f"Nothing to do: this device is already linked to "
                                   f"{served_hub.url} (Alpha) as Kiosk 7.")
    assert device.status()["device_name"] == "Kiosk 7"


def test_a_fleet_token_past_its_cap_exits_2_and_leaves_the_file(served_hub, make_device):
    token = fleet_token(served_hub, served_hub.hub.a, max_devices=1)
    first, second = make_device("first"), make_device("second")
    for device in (first, second):
        (device.home / "anthias-fleet.token").write_text(f"{token}\n")

    assert first.cli("link", "--cloud", served_hub.url, "--fleet-token-file",
                     str(first.home / "anthias-fleet.token")).returncode == 0
    refused = second.cli("link", "--cloud", served_hub.url, "--fleet-token-file",
                         str(second.home / "anthias-fleet.token"), "--wait")

    assert refused.returncode == 2
    assert "refused the fleet token" in refused.stderr
    assert (second.home / "anthias-fleet.token").read_text() == f"{token}\n"


def test_the_agent_enrolls_from_the_token_file_by_itself(served_hub, make_device):
    device = make_device("boot")
    token = fleet_token(served_hub, served_hub.hub.a)
    (device.home / "anthias-fleet.token").write_text(f"token={token}\ncloud={served_hub.url}\n")

    result = device.cli("sync", "--once")

    assert result.returncode == 0, result.stderr
    assert device.status()["linked"] is True
    assert not (device.home / "anthias-fleet.token").exists()


def test_a_device_revoked_in_the_cloud_stops_syncing_and_keeps_its_assets(served_hub,
                                                                          make_device):
    device = make_device("revoked")
    asset_id = device.add_asset("Poster")
    code = pairing_code(served_hub, served_hub.hub.a)
    assert device.cli("link", "--cloud", served_hub.url, "--code", code,
                      "--name", "Door").returncode == 0
    device_id = device.status()["device_id"]
    with served_hub.hub.db(served_hub.hub.a):
        FleetService(served_hub.hub.a).revoke(device_id)

    result = device.cli("sync", "--once")

    assert result.returncode == 1
    assert "unlinked in the cloud" in result.stderr
    status = device.status()
    assert status["linked"] is False and status["unlinked_by_cloud"] is True
    assert "unlinked in the cloud" in status["last_error"]
    assert device.sql("SELECT asset_id FROM assets") == [(asset_id,)]
    assert device.sql("SELECT count(*) FROM sync_link") == [(0,)]


def test_unlink_tells_the_cloud_which_then_refuses_the_device(served_hub, make_device):
    device = make_device("leaving")
    code = pairing_code(served_hub, served_hub.hub.a)
    assert device.cli("link", "--cloud", served_hub.url, "--code", code,
                      "--name", "Gone").returncode == 0
    device_id = device.status()["device_id"]

    result = device.cli("unlink")

    assert result.returncode == 0, result.stderr
    assert "Unlinked, here and in the cloud." in result.stdout
    assert served_hub.hub.sql("SELECT status FROM devices WHERE device_id = %s", (device_id,),
                              served_hub.hub.a) == [("revoked",)]
    assert device.status()["linked"] is False
    assert not (device.home / ".screenly" / "sync" / "device_key.pem").exists()


def test_a_shared_file_is_uploaded_once_and_named_in_the_inventory(served_hub, make_device):
    device = make_device("media")
    media = device.home / "screenly_assets"
    media.mkdir(exist_ok=True)
    picture = media / "poster.png"
    picture.write_bytes(bytes(range(256)) * 40_000)  # 10 MB: more than two upload chunks
    sha = hashlib.sha256(picture.read_bytes()).hexdigest()
    asset_id = device.add_asset("Poster", uri=str(picture), shared=True, mimetype="image")
    code = pairing_code(served_hub, served_hub.hub.a)
    assert device.cli("link", "--cloud", served_hub.url, "--code", code,
                      "--name", "Media").returncode == 0

    first = device.cli("sync", "--once")
    assert first.returncode == 0, first.stderr
    second = device.cli("sync", "--once")  # pushes the asset.upsert naming the file's hash
    assert second.returncode == 0, second.stderr

    hub = served_hub.hub
    assert hub.sql("SELECT size, complete FROM media_objects WHERE sha256 = %s", (sha,),
                   hub.a) == [(picture.stat().st_size, True)]
    stored = hub.runtime.settings.asset_dir / hub.a / "shared" / sha
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == sha
    device_id = device.status()["device_id"]
    assert hub.sql("SELECT media_sha256 FROM device_assets WHERE device_id = %s "
                   "AND asset_id = %s", (device_id, asset_id), hub.a) == [(sha,)]


def test_a_device_code_shown_here_and_claimed_in_the_cloud_links_the_device(served_hub,
                                                                           make_device):
    device = make_device("claimed")
    shown = subprocess.Popen(
        [sys.executable, "-m", "anthias_edge.cli", "link", "--cloud", served_hub.url,
         "--device-code", "--name", "Entrance"],
        env=device.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first_line = shown.stdout.readline()
        code = re.search(r"the code (\w{4}-\w{4})", first_line).group(1)
        with served_hub.hub.db(served_hub.hub.a):
            claimed = claim_device_code(served_hub.hub.a, code)
        out, err = shown.communicate(timeout=60)
    finally:
        if shown.poll() is None:
            shown.kill()
            shown.wait()

    assert shown.returncode == 0, err
    assert "Linked to" in out and "as Entrance." in out
    status = device.status()
    assert status["device_id"] == claimed.device_id
    key_file = device.home / ".screenly" / "sync" / "device_key.pem"
    assert public_key_b64(load_private_key(key_file)) == claimed.public_key


def test_the_daemon_syncs_a_linked_device_and_stops_cleanly(served_hub, make_device):
    device = make_device("daemon")
    asset_id = device.add_asset("Welcome")
    code = pairing_code(served_hub, served_hub.hub.a)
    assert device.cli("link", "--cloud", served_hub.url, "--code", code,
                      "--name", "Hall").returncode == 0
    daemon = subprocess.Popen([sys.executable, "-m", "anthias_edge.cli", "sync"],
                              env=device.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    try:
        deadline = time.monotonic() + 60  # a bound on waiting, not a speed
        status = device.status()
        while not (status["last_success_at"] and status["agent_running"]):
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
            status = device.status()
        daemon.send_signal(signal.SIGTERM)
        _out, err = daemon.communicate(timeout=30)
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()

    assert daemon.returncode == 0, err
    assert status["pending_outbox"] == 0
    assert status["next_attempt_at"] is not None
    device_id = status["device_id"]
    assert served_hub.hub.sql("SELECT asset_id FROM device_assets WHERE device_id = %s",
                              (device_id,), served_hub.hub.a) == [(asset_id,)]
    assert served_hub.hub.sql("SELECT last_seen_at IS NOT NULL FROM devices "
                              "WHERE device_id = %s", (device_id,), served_hub.hub.a) == [(True,)]
    assert device.status()["agent_running"] is False
