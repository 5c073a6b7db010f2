"""Every local write path puts its outbox row in the change's own transaction, when linked.

Each path is driven the way a client drives it (the legacy v1, v1.1, v1.2 and v2 APIs, which
the web UI uses too; v3; the services the CLI and the player call). "Rolled back" tests make
the outbox write itself fail after its INSERT, so the change and the row must vanish together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from anthias_edge.models import Asset, QRContent
from anthias_edge.models.play_log import PlayLog
from anthias_edge.services import play_log
from anthias_edge.services.device.default_assets import add_default_assets, remove_default_assets
from anthias_edge.services.qr_content import QRContentService
from cloud_sync.device import outbox
from tests.api.v2.test_youtube import yt_dlp_on_path  # noqa: F401  (a stand-in yt-dlp)
from tests.helpers import ACTIVE, v1_model, v2_asset
from tests.sync_device.conftest import kinds

V12 = {"name": "Anthias", "uri": "https://anthias.screenly.io", **ACTIVE, "duration": "20",
       "mimetype": "webpage", "is_enabled": 1, "nocache": 0, "play_order": 0,
       "skip_asset_check": 1}
CREATES: dict[str, Callable[[], dict[str, Any]]] = {
    "/api/v1/assets": lambda: {"data": v1_model()},
    "/api/v1.1/assets": lambda: {"data": v1_model()},
    "/api/v1.2/assets": lambda: {"json": dict(V12)},
    "/api/v2/assets": lambda: {"json": v2_asset()},
}


class Boom(Exception):
    """The failure a test injects after the outbox row was written."""


@pytest.fixture
def failing_outbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every outbox write inserts its rows, then fails: its transaction must roll back."""
    real = outbox.record_many

    def write_then_fail(kind: str, payloads: Any) -> int:
        if real(kind, payloads):
            raise Boom(kind)
        return 0

    monkeypatch.setattr(outbox, "record_many", write_then_fail)


def _count(runtime, model) -> int:
    with runtime.database.connection_context():
        return model.select().count()


@pytest.mark.parametrize("path", CREATES)
def test_an_unlinked_device_writes_no_outbox_rows(client, runtime, outbox_rows, path):
    response = client.post(path, **CREATES[path]())
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    asset_id = response.get_json()["asset_id"]
    assert client.delete(f"{path}/{asset_id}").status_code in (200, 204)
    assert outbox_rows() == []


@pytest.mark.parametrize("path", CREATES)
def test_each_legacy_version_records_create_update_and_delete(client, runtime, link,
                                                              outbox_rows, path):
    link()
    created = client.post(path, **CREATES[path]())
    assert created.status_code in (200, 201), created.get_data(as_text=True)
    asset_id = created.get_json()["asset_id"]
    if path.startswith(("/api/v1/", "/api/v1.1/")):
        update = {"data": v1_model(name="Renamed")}
    else:
        update = {"json": {**CREATES[path]()["json"], "name": "Renamed"}}
    assert client.put(f"{path}/{asset_id}", **update).status_code == 200
    assert client.delete(f"{path}/{asset_id}").status_code in (200, 204)
    rows = outbox_rows()
    assert kinds(rows) == ["asset.upsert", "asset.upsert", "asset.delete"]
    assert rows[0][1]["asset_id"] == asset_id and rows[0][1]["name"] == "Anthias"
    assert rows[1][1]["name"] == "Renamed" and rows[1][1]["is_enabled"] is True
    assert rows[2][1] == {"asset_id": asset_id}


@pytest.mark.parametrize("path", CREATES)
def test_a_failed_create_leaves_neither_the_asset_nor_an_outbox_row(
        client, runtime, link, outbox_rows, failing_outbox, path):
    link()  # an empty library: the snapshot writes nothing
    assert client.post(path, **CREATES[path]()).status_code == 500
    assert _count(runtime, Asset) == 0
    assert outbox_rows() == []


def test_v3_create_share_update_and_delete_are_recorded(make_world, link, outbox_rows):
    world = make_world()
    link(world.runtime.database)
    made = world.client.post("/api/v3/assets", headers=world.auth(), json={
        "name": "Lobby", "uri": "https://example.com/", "mimetype": "webpage",
        "skip_asset_check": True, "is_shared": True})
    assert made.status_code == 201, made.get_json()
    asset_id = made.get_json()["asset_id"]
    changed = world.client.patch(f"/api/v3/assets/{asset_id}", headers=world.auth(),
                                 json={"name": "Hall", "is_shared": False})
    assert changed.status_code == 200, changed.get_json()
    assert world.client.delete(f"/api/v3/assets/{asset_id}",
                               headers=world.auth()).status_code == 204
    rows = outbox_rows(world.runtime.database)
    assert kinds(rows) == ["asset.upsert", "qr.upsert", "asset.upsert", "qr.upsert",
                           "qr.delete", "asset.delete"]
    assert rows[0][1]["is_shared"] is True and rows[1][1]["asset_id"] == asset_id
    assert rows[1][1]["is_active"] is True
    assert rows[2][1]["name"] == "Hall" and rows[2][1]["is_shared"] is False
    assert rows[3][1]["is_active"] is False  # unsharing deactivated the code
    assert rows[4][1] == {"qr_id": rows[1][1]["qr_id"]}  # it went with its asset


def test_v2_renumbering_records_every_moved_asset_with_its_new_position(client, link,
                                                                        outbox_rows):
    ids = [client.post("/api/v2/assets", json=v2_asset(name=f"a{i}", play_order=i))
           .get_json()["asset_id"] for i in range(3)]
    link()
    snapshot = len(outbox_rows())
    moved = client.post("/api/v2/assets", json=v2_asset(name="first", play_order=0))
    new_id = moved.get_json()["asset_id"]
    rows = outbox_rows()[snapshot:]
    positions = {payload["asset_id"]: payload["play_order"] for _, payload in rows}
    assert kinds(rows) == ["asset.upsert"] * 4
    assert positions == {new_id: 0, ids[0]: 1, ids[1]: 2, ids[2]: 3}
    assert rows[-1][1]["asset_id"] == new_id  # the written asset once, after the others


def test_the_order_endpoint_records_only_the_assets_it_moved(client, link, outbox_rows):
    ids = [client.post("/api/v2/assets", json=v2_asset(name=f"a{i}", play_order=i))
           .get_json()["asset_id"] for i in range(3)]
    link()
    snapshot = len(outbox_rows())
    order = [ids[0], ids[2], ids[1]]
    assert client.post("/api/v2/assets/order", json={"ids": ",".join(order)}).status_code == 204
    rows = outbox_rows()[snapshot:]
    assert sorted((p["asset_id"], p["play_order"]) for _, p in rows) == sorted(
        [(ids[2], 1), (ids[1], 2)])


def test_a_failed_reorder_rolls_back_positions_and_rows(client, runtime, link, outbox_rows,
                                                        monkeypatch):
    ids = [client.post("/api/v2/assets", json=v2_asset(name=f"a{i}", play_order=i))
           .get_json()["asset_id"] for i in range(2)]
    link()
    before = outbox_rows()
    real = outbox.record_many
    monkeypatch.setattr(outbox, "record_many",
                        lambda kind, payloads: real(kind, payloads) and (_ for _ in ()).throw(
                            Boom(kind)))
    assert client.post("/api/v2/assets/order",
                       json={"ids": f"{ids[1]},{ids[0]}"}).status_code == 500
    with runtime.database.connection_context():
        assert [a.asset_id for a in Asset.select().order_by(Asset.play_order)] == ids
    assert outbox_rows() == before


def test_qr_content_create_update_delete_are_recorded_and_roll_back_together(
        runtime, link, outbox_rows, monkeypatch):
    with runtime.database.connection_context():
        asset = runtime.assets().create(
            {"name": "Menu", "uri": "https://example.com/", "mimetype": "webpage",
             "duration": 10, "skip_asset_check": True}, renumber=False)
    link()
    snapshot = len(outbox_rows())
    with runtime.database.connection_context():
        service = QRContentService(runtime.local_tenant_id)
        row = service.create(asset.asset_id, "Menu", include_barcode=True)
        service.update(row.qr_code, {"title": "Lunch"})
        service.delete(row.qr_code)
    rows = outbox_rows()[snapshot:]
    assert kinds(rows) == ["qr.upsert", "qr.upsert", "qr.delete"]
    assert rows[0][1]["qr_code"] == row.qr_code and rows[0][1]["barcode"] == row.barcode
    assert rows[0][1]["asset_id"] == asset.asset_id
    assert rows[1][1]["title"] == "Lunch" and rows[2][1] == {"qr_id": row.qr_id}

    real = outbox.record_many
    monkeypatch.setattr(outbox, "record_many",
                        lambda kind, payloads: real(kind, payloads) and (_ for _ in ()).throw(
                            Boom(kind)))
    with runtime.database.connection_context(), pytest.raises(Boom):
        QRContentService(runtime.local_tenant_id).create(asset.asset_id, "Again")
    assert _count(runtime, QRContent) == 0
    assert len(outbox_rows()) == snapshot + 3


def test_a_shown_play_is_recorded_when_it_ends_and_a_skip_is_not(runtime, link, outbox_rows):
    start = dt.datetime(2026, 12, 5, 10, 0, 0)
    with runtime.database.connection_context():
        unlinked = play_log.record_start("a1", "Before", "browser", now=start)
        play_log.record_end(unlinked, "completed", now=start + dt.timedelta(seconds=5))
    link()
    with runtime.database.connection_context():
        entry = play_log.record_start("a1", "Menu", "browser", now=start)
        assert outbox_rows() == []  # a play is told once, when it ends
        play_log.record_end(entry, "completed", now=start + dt.timedelta(seconds=12.5))
        play_log.record_skip("a2", "Down", "browser", now=start)
        failed = play_log.record_start("a3", "Broken", "mpv", now=start)
        play_log.record_end(failed, "failed", now=start)
        play_log.record_start("a4", "Cut", "mpv", now=start)
        assert play_log.close_unfinished() == 1
    rows = outbox_rows()
    assert kinds(rows) == ["play", "play"]
    assert rows[0][1] == {"asset_id": "a1", "asset_name": "Menu",
                          "started_at": "2026-12-05T10:00:00Z", "duration_s": 12.5}
    assert rows[1][1]["asset_id"] == "a4" and rows[1][1]["duration_s"] is None


def test_a_play_whose_outbox_write_fails_keeps_its_row_open(runtime, link, outbox_rows,
                                                            failing_outbox):
    link()
    with runtime.database.connection_context():
        entry = play_log.record_start("a1", "Menu", "browser")
        with pytest.raises(Boom):
            play_log.record_end(entry, "completed")
        assert PlayLog.get_by_id(entry).outcome == "playing"
    assert outbox_rows() == []


def test_default_assets_added_and_removed_are_recorded(runtime, link, outbox_rows, tmp_path):
    definitions = tmp_path / "default_assets.yml"
    definitions.write_text("assets:\n  - name: Clock\n    uri: https://example.com/clock\n"
                           "    mimetype: webpage\n")
    link()
    with runtime.database.connection_context():
        assert add_default_assets(definitions, 10, runtime.local_tenant_id) == 1
        assert remove_default_assets(runtime.local_tenant_id) == 1
    rows = outbox_rows()
    assert kinds(rows) == ["asset.upsert", "asset.delete"]
    assert rows[0][1]["name"] == "Clock" and rows[1][1] == {"asset_id": rows[0][1]["asset_id"]}


def test_a_youtube_asset_is_recorded_when_made_and_again_once_downloaded(
        client, link, outbox_rows, yt_dlp_on_path):  # noqa: F811
    link()
    made = client.post("/api/v2/assets", json=v2_asset(
        name="ignored", uri="https://www.youtube.com/watch?v=aqz-KE-bpKQ",
        mimetype="youtube_asset", duration=10))
    assert made.status_code == 201, made.get_json()
    rows = outbox_rows()
    assert kinds(rows) == ["asset.upsert", "asset.upsert"]  # the download ran inline here
    assert rows[0][1]["name"] == "Big Buck Bunny" and rows[0][1]["media_size"] is None
    assert rows[1][1]["media_size"] == len(b"downloaded mp4")
