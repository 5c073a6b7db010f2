"""Applying a pulled state: cloud QR contents in the local table (so /q/<code> answers on the
LAN, offline), limits cached, commands once each through the real ZeroMQ path to the player."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from anthias_edge.messaging import ViewerCommand
from anthias_edge.models import QRContent
from anthias_edge.models.sync_device import SyncAppliedCommand
from anthias_edge.services.qr_content import QRContentService, new_barcode, new_qr_code
from cloud_sync.device import apply as apply_module
from cloud_sync.device import limits as cloud_limits
from cloud_sync.device import link_store
from cloud_sync.device.apply import apply_state
from cloud_sync.device.health import snapshot
from tests.helpers import v2_asset
from tests.sync_device.conftest import kinds


def _code(asset_id: str, **values: Any) -> dict[str, Any]:
    body = {"qr_id": str(uuid.uuid4()), "qr_code": new_qr_code(), "barcode": new_barcode(),
            "asset_id": asset_id, "device_id": "device-1", "title": "Lunch menu",
            "description": "Soup & bread", "expires_at": None, "is_active": True,
            "updated_at": "2026-12-05T10:00:00Z", "landing_url": "https://cloud.example/q/x"}
    body.update(values)
    return body


def _apply(runtime, state: dict[str, Any], **kwargs: Any):
    with runtime.database.connection_context():
        return apply_state(state, runtime.messenger, **kwargs)


@pytest.fixture
def asset_id(client) -> str:
    return client.post("/api/v2/assets", json=v2_asset(name="menu")).get_json()["asset_id"]


def test_cloud_codes_land_locally_and_open_on_the_lan(client, runtime, link, asset_id,
                                                      outbox_rows):
    link()
    before = outbox_rows()
    ours, orphan = _code(asset_id), _code("no-such-asset")
    result = _apply(runtime, {"qr_contents": [ours, orphan]})
    assert result.qr_upserted == 1
    assert result.qr_skipped == [{"qr_id": orphan["qr_id"], "qr_code": orphan["qr_code"],
                                  "asset_id": "no-such-asset",
                                  "reason": "the asset is no longer on this device"}]
    page = client.get(f"/q/{ours['qr_code']}")
    assert page.status_code == 200
    assert "<h1>Lunch menu</h1>" in page.get_data(as_text=True)
    assert outbox_rows() == before  # what came from the cloud is not sent back

    again = _apply(runtime, {"qr_contents": [{**ours, "title": "Dinner"}]})
    assert again.qr_upserted == 1 and again.qr_deactivated == 0
    assert "<h1>Dinner</h1>" in client.get(f"/q/{ours['qr_code']}").get_data(as_text=True)
    with runtime.database.connection_context():
        assert QRContent.get_by_id(ours["qr_id"]).access_count == 2  # scans kept on update


def test_codes_turned_off_or_gone_in_the_cloud_are_deactivated_unless_still_unsent(
        client, runtime, link, asset_id):
    link()
    off, gone = _code(asset_id), _code(asset_id)
    _apply(runtime, {"qr_contents": [off, gone]})
    with runtime.database.connection_context():
        unsent = QRContentService(runtime.local_tenant_id).create(asset_id, "Made here")
    result = _apply(runtime, {"qr_contents": [{**off, "is_active": False}]})
    assert result.qr_deactivated == 1  # ``gone``; ``off`` was updated to inactive
    assert client.get(f"/q/{off['qr_code']}").status_code == 410
    assert client.get(f"/q/{gone['qr_code']}").status_code == 410
    assert client.get(f"/q/{unsent.qr_code}").status_code == 200


def test_a_cloud_code_clashing_with_a_local_one_is_skipped(client, runtime, link, asset_id):
    link()
    with runtime.database.connection_context():
        local = QRContentService(runtime.local_tenant_id).create(asset_id, "Local")
    clash = _code(asset_id, qr_code=local.qr_code)
    result = _apply(runtime, {"qr_contents": [clash]})
    assert result.qr_upserted == 0
    assert result.qr_skipped[0]["reason"] == "another local code already uses this code"
    with runtime.database.connection_context():
        assert QRContent.select().count() == 1


def test_a_state_that_fails_half_way_changes_no_code(runtime, link, asset_id, monkeypatch):
    link()

    def fail(*_args: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(apply_module, "_cache_limits", fail)  # after the codes, same transaction
    with pytest.raises(RuntimeError), runtime.database.connection_context():
        apply_state({"qr_contents": [_code(asset_id)]}, runtime.messenger)
    with runtime.database.connection_context():
        assert QRContent.select().count() == 0


def test_unusable_codes_are_skipped_and_the_rest_applied(runtime, link, asset_id):
    link()
    with pytest.raises(ValueError), runtime.database.connection_context():
        apply_state({"qr_contents": "nope"}, runtime.messenger)
    bad_late = [_code(asset_id), _code(asset_id, qr_id=None), _code(asset_id, qr_code="x")]
    result = _apply(runtime, {"qr_contents": bad_late})
    assert result.qr_upserted == 1
    assert [s["reason"] for s in result.qr_skipped] == [
        "not a QR content object", "not a QR code this device can serve"]


def test_limits_and_interval_are_cached_on_the_link(runtime, link):
    link()
    _apply(runtime, {"limits": {"plan": "starter", "max_assets": 5, "max_devices": 2,
                                "storage_quota_gb": 1, "valid_until": "2099-01-01T00:00:00Z"},
                     "interval_s": 60})
    with runtime.database.connection_context():
        assert cloud_limits.cached_limits().max_assets == 5
        assert link_store.load().interval_s == 60


def _command(name: str, **args: Any) -> dict[str, Any]:
    return {"command_id": str(uuid.uuid4()), "command": name, "args": args,
            "created_at": "2026-12-05T10:00:00Z"}


def _received(viewer, runtime, marker: str = "marker") -> list[ViewerCommand]:
    """Everything the player got before a marker sent now (so nothing is waited for blindly)."""
    runtime.messenger.send_to_viewer(marker)
    got = []
    while (message := viewer.receive(timeout_s=10)) is not None:
        if message.command == marker:
            return got
        got.append(message)
    pytest.fail("the marker never arrived")


def test_commands_reach_the_player_over_zeromq_once_each(runtime, link, viewer, asset_id,
                                                         outbox_rows):
    link()
    _received(viewer, runtime, "flush")  # the asset's own "refresh" is not a command's
    snapshot = len(outbox_rows())
    commands = [_command("next"), _command("previous"), _command("reload"),
                _command("show_asset", asset_id=asset_id),
                _command("show_asset", asset_id="not-here"), _command("dance")]
    result = _apply(runtime, {"commands": commands})
    assert _received(viewer, runtime) == [
        ViewerCommand("next"), ViewerCommand("previous"), ViewerCommand("reload"),
        ViewerCommand("asset", asset_id)]
    assert result.commands_done == [c["command_id"] for c in commands[:4]]
    assert result.commands_failed == [c["command_id"] for c in commands[4:]]
    results = [payload for kind, payload in outbox_rows()[snapshot:]]
    assert kinds(outbox_rows()[snapshot:]) == ["command.result"] * 6
    assert [r["ok"] for r in results] == [True, True, True, True, False, False]
    assert results[4]["error"] == "asset not-here is not on this device"
    assert results[5]["error"] == "unknown command 'dance'"

    repeat = _apply(runtime, {"commands": commands})  # the same pull again
    assert _received(viewer, runtime) == []
    assert repeat.commands_already_applied == [c["command_id"] for c in commands]
    assert len(outbox_rows()) == snapshot + 6


def test_reboot_runs_the_configured_host_command_once(runtime, link, tmp_path: Path,
                                                      outbox_rows):
    link()
    marker = tmp_path / "rebooted"
    reboot = _command("reboot")
    _apply(runtime, {"commands": [reboot]}, reboot_command=f"touch {marker}")
    for _ in range(500):  # the host command is started, not waited for
        if marker.exists():
            break
        time.sleep(0.02)
    assert marker.exists()
    with runtime.database.connection_context():
        assert SyncAppliedCommand.get_by_id(reboot["command_id"]).ok is True
    marker.unlink()
    _apply(runtime, {"commands": [reboot]}, reboot_command=f"touch {marker}")
    assert not marker.exists()  # applied before it ran: a rebooted device never reboots again

    unset = _command("reboot")
    result = _apply(runtime, {"commands": [unset]}, reboot_command="")
    assert result.commands_failed == [unset["command_id"]]
    last = outbox_rows()[-1][1]
    assert last["command_id"] == unset["command_id"] and last["ok"] is False
    assert "No host command is configured" in last["error"]


def test_health_names_what_the_player_shows(runtime, viewer, asset_id):
    def answer() -> None:
        while (message := viewer.receive(timeout_s=10)) is not None:
            if message.command == "current_asset_id":
                viewer.reply_current_asset(asset_id)
                return

    player = threading.Thread(target=answer)
    player.start()
    with runtime.database.connection_context():
        health = snapshot(runtime.settings.asset_dir, runtime.messenger,
                          environ={"MY_IP": "192.168.1.20"})
    player.join()
    assert health["on_screen"] == {"asset_id": asset_id, "name": "menu"}
    assert health["address"] == "192.168.1.20"
    assert health["software_version"].startswith("edge@")
    assert isinstance(health["free_disk_bytes"], int) and health["free_disk_bytes"] > 0
    assert health["uptime_s"] > 0
    with runtime.database.connection_context():
        assert snapshot(runtime.settings.asset_dir)["on_screen"] is None
