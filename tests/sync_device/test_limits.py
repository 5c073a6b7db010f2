"""The cloud's limits, cached on a linked device: enforced on creates while valid, in each API
version's error shape; not enforced once expired or unlinked; nothing already there hidden."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from anthias_edge.timeutil import utcnow
from cloud_sync.device import limits as cloud_limits
from cloud_sync.device import link_store
from player.playlist_source import load_items_from_db
from player.rotation import build_playlist
from tests.helpers import v1_model, v2_asset
from tests.sync_device.test_write_paths import CREATES

MESSAGE = ("This device has reached the asset limit of its cloud plan: 2 assets on plan "
           "'starter'. Delete an asset or upgrade the plan to add more.")


def _limits(runtime: Any, max_assets: int = 2, valid_for: dt.timedelta = dt.timedelta(hours=24)
            ) -> None:
    until = utcnow() + valid_for
    with runtime.database.connection_context():
        assert link_store.update(limits_json={
            "plan": "starter", "max_assets": max_assets, "max_devices": 3,
            "storage_quota_gb": 1, "valid_until": until.isoformat() + "Z"},
            limits_valid_until=until)


def _fill(client, count: int = 3) -> None:
    for i in range(count):
        assert client.post("/api/v2/assets", json=v2_asset(name=f"a{i}")).status_code == 201


@pytest.mark.parametrize("path", CREATES)
def test_a_legacy_create_over_the_cached_limit_is_refused_in_anthias_s_shape(
        client, runtime, link, path):
    _fill(client, 2)
    link()
    _limits(runtime)
    over = client.post(path, **CREATES[path]())
    assert over.status_code == 500  # every legacy refusal is Anthias's 500 (legacy-api.md Q0)
    assert over.get_json() == {"error": MESSAGE}
    assert len(client.get("/api/v2/assets").get_json()) == 2


def test_a_v3_create_over_the_cached_limit_is_a_409_naming_the_limit(make_world, link):
    world = make_world()
    for _ in range(2):
        world.asset(world.a)
    link(world.runtime.database)
    _limits(world.runtime)
    over = world.client.post("/api/v3/assets", headers=world.auth(), json={
        "name": "Lobby", "uri": "https://example.com/", "mimetype": "webpage",
        "skip_asset_check": True})
    assert over.status_code == 409
    error = over.get_json()["error"]
    assert error["code"] == "asset_limit_reached" and error["message"] == MESSAGE
    assert error["details"] == {"limit": "max_assets", "plan": "starter", "max_assets": 2,
                                "assets": 2, "source": "cloud"}


def test_expired_limits_are_not_enforced_and_unlinking_drops_them(client, runtime, link):
    _fill(client, 2)
    link()
    _limits(runtime, valid_for=dt.timedelta(seconds=-1))
    with runtime.database.connection_context():
        assert cloud_limits.cached_limits() is None
    assert client.post("/api/v1/assets", data=v1_model()).status_code == 201
    _limits(runtime)
    with runtime.database.connection_context():
        assert cloud_limits.cached_limits().max_assets == 2
        link_store.clear_link()
        assert cloud_limits.cached_limits() is None
    assert client.post("/api/v2/assets", json=v2_asset(name="more")).status_code == 201


def test_assets_over_a_lowered_limit_stay_listed_editable_and_in_the_playlist(
        client, runtime, link):
    _fill(client, 3)
    link()
    _limits(runtime, max_assets=1)
    listed = client.get("/api/v2/assets").get_json()
    assert len(listed) == 3
    edited = client.patch(f"/api/v2/assets/{listed[2]['asset_id']}", json={"name": "still"})
    assert edited.status_code == 200
    with runtime.database.connection_context():
        items = load_items_from_db()
    playlist = build_playlist(items, dt.datetime.now(dt.UTC), dt.UTC)
    assert sorted(item.asset_id for item in playlist) == sorted(a["asset_id"] for a in listed)


def test_limits_read_from_a_state_ignore_what_is_not_a_count():
    limits = cloud_limits.parse({"plan": "x", "max_assets": "10", "max_devices": True,
                                 "storage_quota_gb": 5, "valid_until": "2030-01-01T00:00:00Z"})
    assert limits is not None
    assert (limits.max_assets, limits.max_devices, limits.storage_quota_gb) == (None, None, 5)
    assert limits.valid_until == dt.datetime(2030, 1, 1)
    assert cloud_limits.parse({"max_assets": 1}) is None
    assert cloud_limits.parse({"valid_until": "soon"}) is None
