"""v3's ``qr_overlay`` asset field (issue 13): shape, defaults, bad input, and v1-v2 untouched."""

from __future__ import annotations

import re

import pytest

from anthias_edge.messaging import ViewerCommand
from anthias_edge.models import Asset
from tests.api.v3.conftest import World

NEW = {"name": "Menu", "uri": "https://example.com/menu", "mimetype": "webpage",
       "skip_asset_check": True}


def _stored(world: World, asset_id: str):
    with world.db():
        return Asset.get_by_id(asset_id).qr_overlay


def test_an_asset_is_made_with_an_overlay_and_shows_it_with_defaults_filled_in(world: World):
    response = world.client.post("/api/v3/assets", headers=world.auth("editor"),
                                 json={**NEW, "qr_overlay": {"enabled": True}})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["qr_overlay"] == {"enabled": True, "corner": "bottom-right", "size": 18}
    assert _stored(world, body["asset_id"]) == body["qr_overlay"]
    plain = world.client.post("/api/v3/assets", headers=world.auth("editor"), json=NEW)
    assert plain.get_json()["qr_overlay"] is None


def test_patch_moves_resizes_switches_off_and_clears_the_overlay(world: World):
    asset_id = world.asset(world.a)
    url = f"/api/v3/assets/{asset_id}"
    steps = [
        ({"enabled": True, "corner": "top-left", "size": 30},
         {"enabled": True, "corner": "top-left", "size": 30}),
        ({"enabled": False, "corner": "top-left", "size": 30},
         {"enabled": False, "corner": "top-left", "size": 30}),
        (None, None),
    ]
    for sent, shown in steps:
        response = world.client.patch(url, headers=world.auth("editor"),
                                      json={"qr_overlay": sent})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["qr_overlay"] == shown
        assert world.client.get(url, headers=world.auth("viewer")).get_json()["qr_overlay"] \
            == shown
    listed = world.client.get("/api/v3/assets", headers=world.auth("viewer")).get_json()
    assert [item["qr_overlay"] for item in listed["items"]] == [None]


@pytest.mark.parametrize("bad", [
    {"corner": "top-left"},                      # enabled is required
    {"enabled": "yes"},
    {"enabled": True, "corner": "middle"},
    {"enabled": True, "size": 4},
    {"enabled": True, "size": 41},
    {"enabled": True, "size": -18},
    {"enabled": True, "size": "18"},
    {"enabled": True, "size": 18.5},
    {"enabled": True, "size": True},
    {"enabled": True, "colour": "red"},
    [True, "top-left", 18],
    "on",
])
def test_a_bad_overlay_is_a_400_naming_the_field_and_nothing_is_written(world: World, bad):
    asset_id = world.asset(world.a, qr_overlay={"enabled": True, "corner": "top-right",
                                                "size": 20})
    response = world.client.patch(f"/api/v3/assets/{asset_id}", headers=world.auth("editor"),
                                  json={"qr_overlay": bad, "name": "changed"})
    assert response.status_code == 400
    assert "qr_overlay" in response.get_json()["error"]["details"]
    assert _stored(world, asset_id) == {"enabled": True, "corner": "top-right", "size": 20}
    with world.db():
        assert Asset.get_by_id(asset_id).name != "changed"


def test_a_viewer_cannot_set_an_overlay(world: World):
    asset_id = world.asset(world.a)
    response = world.client.patch(f"/api/v3/assets/{asset_id}", headers=world.auth("viewer"),
                                  json={"qr_overlay": {"enabled": True}})
    assert response.status_code == 403
    assert _stored(world, asset_id) is None


def test_v1_to_v2_never_show_or_take_the_overlay(world: World):
    overlay = {"enabled": True, "corner": "top-left", "size": 20}
    asset_id = world.asset(world.runtime.local_tenant_id, qr_overlay=overlay)
    for version in ("v1", "v1.1", "v1.2", "v2"):
        response = world.client.get(f"/api/{version}/assets/{asset_id}")
        body = response.get_json()
        assert response.status_code == 200, (version, body)
        assert "qr_overlay" not in body, version
    response = world.client.patch(f"/api/v2/assets/{asset_id}",
                                  json={"name": "renamed", "qr_overlay": None})
    assert response.status_code == 200, response.get_json()
    assert _stored(world, asset_id) == overlay


def test_the_openapi_document_describes_the_field(world: World):
    spec = world.client.get("/api/v3/openapi.json").get_json()
    shown = spec["components"]["schemas"]["Asset"]["properties"]["qr_overlay"]
    assert shown["properties"]["corner"]["enum"] == ["top-left", "top-right", "bottom-left",
                                                     "bottom-right"]
    assert (shown["properties"]["size"]["minimum"], shown["properties"]["size"]["maximum"]) \
        == (5, 40)


# -- on a device: the dashboard sets the overlay, and the screen hears of every code change --

MARK = "X-CSRFToken"  # what the dashboard's pages send with every request (static/js/api.js)
LOCAL = {**NEW, "start_date": "2024-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z",
         "duration": 10, "is_enabled": True}


def _page_token(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]*)"', page).group(1)


def _drain(viewer) -> None:
    while viewer.receive(timeout_s=0.2) is not None:
        pass


def test_the_device_dashboard_sets_the_overlay_through_v3(client, viewer):
    asset_id = client.post("/api/v2/assets", json=LOCAL).get_json()["asset_id"]
    _drain(viewer)
    response = client.patch(f"/api/v3/assets/{asset_id}",
                            headers={MARK: _page_token(client)},
                            json={"qr_overlay": {"enabled": True, "corner": "top-left"}})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["qr_overlay"] == {"enabled": True, "corner": "top-left",
                                                 "size": 18}
    assert viewer.receive(timeout_s=5) == ViewerCommand("refresh")


def test_the_player_is_told_when_a_code_is_made_changed_or_deleted(client, viewer):
    asset_id = client.post("/api/v2/assets", json=LOCAL).get_json()["asset_id"]
    headers = {MARK: _page_token(client)}
    _drain(viewer)
    created = client.post("/api/v3/qr-content", headers=headers, json={"asset_id": asset_id})
    assert created.status_code == 201, created.get_json()
    assert viewer.receive(timeout_s=5) == ViewerCommand("refresh")
    code = created.get_json()["qr_code"]
    changed = client.patch(f"/api/v3/qr-content/{code}", headers=headers,
                           json={"is_active": False})
    assert changed.status_code == 200
    assert viewer.receive(timeout_s=5) == ViewerCommand("refresh")
    assert client.delete(f"/api/v3/qr-content/{code}", headers=headers).status_code == 204
    assert viewer.receive(timeout_s=5) == ViewerCommand("refresh")
