"""v3 assets: filters with cursor pages, share codes, the asset limit, no renumbering."""

from __future__ import annotations

import datetime as dt

from anthias_edge.models import Tenant
from tests.api.v3.conftest import World

NEW = {"name": "Lobby", "uri": "https://example.com/", "mimetype": "webpage",
       "skip_asset_check": True}


def _flat(pages: list[list[str]]) -> list[str]:
    return [asset_id for page in pages for asset_id in page]


def _all_pages(world: World, query: str, limit: int) -> list[list[str]]:
    pages, cursor = [], None
    while True:
        url = f"/api/v3/assets?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        body = world.client.get(url, headers=world.auth("viewer")).get_json()
        pages.append([item["asset_id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_cursor_pages_cover_every_match_once_in_order(world: World):
    made = [world.asset(world.a, name=f"n{i}", is_enabled=i % 2 == 0,
                        tags=["news"] if i % 3 == 0 else ["misc"]) for i in range(11)]
    world.asset(world.b, name="n0", tags=["news"])
    pages = _all_pages(world, "", 4)
    assert [len(p) for p in pages] == [4, 4, 3]
    assert _flat(pages) == made
    enabled = _flat(_all_pages(world, "&enabled=true", 2))
    assert enabled == made[0::2]
    news = _flat(_all_pages(world, "&tag=news", 2))
    assert news == [made[i] for i in range(11) if i % 3 == 0]
    both = _flat(_all_pages(world, "&tag=news&enabled=false", 1))
    assert both == [made[3], made[9]]


def test_the_name_search_is_case_insensitive_and_literal(world: World):
    hit = world.asset(world.a, name="Front 100% Window")
    world.asset(world.a, name="Front 1000 Window")
    body = world.client.get("/api/v3/assets?q=100%25", headers=world.auth()).get_json()
    assert [item["asset_id"] for item in body["items"]] == [hit]
    fronts = world.client.get("/api/v3/assets?q=front", headers=world.auth()).get_json()
    assert len(fronts["items"]) == 2


def test_the_mimetype_filter_and_a_bad_cursor(world: World):
    image = world.asset(world.a, mimetype="image")
    world.asset(world.a)
    body = world.client.get("/api/v3/assets?mimetype=image", headers=world.auth()).get_json()
    bad = world.client.get("/api/v3/assets?cursor=zzz", headers=world.auth())
    assert [item["asset_id"] for item in body["items"]] == [image]
    assert bad.status_code == 400 and "cursor" in bad.get_json()["error"]["details"]


def test_a_page_survives_a_deletion_between_requests(world: World):
    made = [world.asset(world.a) for _ in range(4)]
    first = world.client.get("/api/v3/assets?limit=2", headers=world.auth()).get_json()
    world.client.delete(f"/api/v3/assets/{made[2]}", headers=world.auth())
    rest = world.client.get(f"/api/v3/assets?limit=2&cursor={first['next_cursor']}",
                            headers=world.auth()).get_json()
    assert [i["asset_id"] for i in rest["items"]] == [made[3]]


def test_a_created_asset_has_the_v3_fields(world: World):
    response = world.client.post("/api/v3/assets", headers=world.auth("editor"),
                                 json={**NEW, "tags": ["a", "a", "b"], "metadata": {"k": 1}})
    body = response.get_json()
    assert response.status_code == 201
    assert body["tenant_id"] == world.a
    assert body["created_by"] == world.users[(world.a, "editor")]
    assert body["tags"] == ["a", "b"] and body["metadata"] == {"k": 1}
    assert body["is_shared"] is False and body["share_code"] is None
    assert body["duration"] == 10 and body["created_at"] and body["updated_at"]


def test_sharing_generates_a_unique_unguessable_code_and_unsharing_removes_it(world: World):
    one = world.client.post("/api/v3/assets", headers=world.auth(),
                            json={**NEW, "is_shared": True}).get_json()
    two = world.client.post("/api/v3/assets", headers=world.auth(),
                            json={**NEW, "is_shared": True}).get_json()
    assert one["share_code"] and two["share_code"] and one["share_code"] != two["share_code"]
    assert len(one["share_code"]) >= 12
    again = world.client.patch(f"/api/v3/assets/{one['asset_id']}", headers=world.auth(),
                               json={"is_shared": True}).get_json()
    assert again["share_code"] == one["share_code"]
    off = world.client.patch(f"/api/v3/assets/{one['asset_id']}", headers=world.auth(),
                             json={"is_shared": False}).get_json()
    assert off["is_shared"] is False and off["share_code"] is None


def test_the_asset_limit_is_a_clear_409(world: World):
    with world.db():
        Tenant.update(max_assets=2).where(Tenant.id == world.a).execute()
    world.asset(world.a)
    ok = world.client.post("/api/v3/assets", headers=world.auth(), json=NEW)
    over = world.client.post("/api/v3/assets", headers=world.auth(), json=NEW)
    legacy = world.client.post("/api/v3/legacy/assets", headers=world.auth(), json={
        "name": "x", "uri": "https://example.com/", "mimetype": "webpage",
        "start_date": "2024-01-01T00:00:00Z", "end_date": "2030-01-01T00:00:00Z",
        "duration": 10, "is_enabled": True, "skip_asset_check": True})
    assert ok.status_code == 201
    assert over.status_code == legacy.status_code == 409
    assert over.get_json()["error"] == {
        "code": "asset_limit_reached",
        "message": "This tenant has reached the asset limit of its plan: 2 assets on plan "
                   "'free'.",
        "details": {"limit": "max_assets", "plan": "free", "max_assets": 2, "assets": 2}}


def test_v3_writes_do_not_renumber_the_playlist_or_rename(world: World):
    first = world.asset(world.a, name="same", play_order=5,
                        start_date=dt.datetime(2020, 1, 1), end_date=dt.datetime(2099, 1, 1))
    made = world.client.post("/api/v3/assets", headers=world.auth(), json={
        **NEW, "name": "same", "play_order": 0, "start_date": "2020-01-01T00:00:00Z",
        "end_date": "2099-01-01T00:00:00Z"}).get_json()
    assert made["name"] == "same"
    assert world.asset_row(first).play_order == 5


def test_unknown_fields_and_wrong_types_are_400_with_details(world: World):
    response = world.client.post("/api/v3/assets", headers=world.auth(),
                                 json={**NEW, "duration": "10", "colour": "red"})
    details = response.get_json()["error"]["details"]
    assert response.status_code == 400
    assert set(details) == {"duration", "colour"}


def test_a_non_json_body_is_415(world: World):
    response = world.client.post("/api/v3/assets", headers=world.auth(), data="name=x",
                                 content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_unknown_urls_and_methods_answer_v3_json(world: World):
    missing = world.client.get("/api/v3/nothing-here")
    wrong = world.client.delete("/api/v3/tenant", headers=world.auth())
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "PATCH" in wrong.headers["Allow"]
