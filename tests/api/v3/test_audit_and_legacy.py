"""The audit log records v3 changes and logins; /api/v3/legacy acts on the caller's tenant."""

from __future__ import annotations

from tests.api.v3.conftest import World

NEW = {"name": "Lobby", "uri": "https://example.com/", "mimetype": "webpage",
       "skip_asset_check": True}


def _actions(world: World) -> list[tuple[str, str]]:
    body = world.client.get("/api/v3/audit-log?limit=200", headers=world.auth()).get_json()
    return [(item["action"], item["object_id"]) for item in body["items"]]


def test_creates_updates_deletes_and_logins_are_audited(world: World):
    editor = world.auth("editor")
    asset_id = world.client.post("/api/v3/assets", headers=editor, json=NEW).get_json()[
        "asset_id"]
    world.client.patch(f"/api/v3/assets/{asset_id}", headers=editor, json={"name": "x"})
    world.client.delete(f"/api/v3/assets/{asset_id}", headers=editor)
    user = world.client.post("/api/v3/users", headers=world.auth(), json={
        "username": "carol", "password": "long enough", "role": "viewer"}).get_json()["id"]
    actions = _actions(world)
    for expected in (("asset.create", asset_id), ("asset.update", asset_id),
                     ("asset.delete", asset_id), ("user.create", user),
                     ("auth.login", world.users[(world.a, "editor")])):
        assert expected in actions
    assert actions[0] == ("user.create", user)  # newest first


def test_the_audit_log_pages_with_a_cursor_and_names_the_actor(world: World):
    for _ in range(3):
        world.client.post("/api/v3/assets", headers=world.auth("editor"), json=NEW)
    first = world.client.get("/api/v3/audit-log?limit=2", headers=world.auth()).get_json()
    second = world.client.get(f"/api/v3/audit-log?limit=2&cursor={first['next_cursor']}",
                              headers=world.auth()).get_json()
    ids = [i["id"] for i in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 4
    creates = [i for i in first["items"] + second["items"] if i["action"] == "asset.create"]
    assert creates and {i["actor"] for i in creates} == {world.users[(world.a, "editor")]}


def test_the_legacy_list_shows_only_the_callers_tenant(world: World):
    mine = world.asset(world.a, name="mine")
    theirs = world.asset(world.b, name="theirs")
    device = world.asset(None, name="device")  # the local tenant's
    body = world.client.get("/api/v3/legacy/assets", headers=world.auth("viewer")).get_json()
    ids = [item["asset_id"] for item in body]
    assert ids == [mine]
    assert theirs not in ids and device not in ids


def test_legacy_writes_land_in_the_callers_tenant_and_are_audited(world: World):
    response = world.client.post("/api/v3/legacy/assets", headers=world.auth("editor"), json={
        "name": "old script", "uri": "https://example.com/", "mimetype": "webpage",
        "start_date": "2024-01-01T00:00:00Z", "end_date": "2030-01-01T00:00:00Z",
        "duration": 10, "is_enabled": True, "skip_asset_check": True})
    asset_id = response.get_json()["asset_id"]
    assert response.status_code == 201
    assert world.asset_row(asset_id).tenant == world.a
    assert ("asset.create", asset_id) in _actions(world)


def test_legacy_errors_use_the_v3_body(world: World):
    missing = world.client.get("/api/v3/legacy/assets/nope", headers=world.auth())
    unknown = world.client.get("/api/v3/legacy/no/such/route", headers=world.auth())
    invalid = world.client.post("/api/v3/legacy/assets", headers=world.auth(), json={})
    assert missing.status_code == unknown.status_code == 404
    assert missing.get_json()["error"]["code"] == "asset_not_found"
    assert invalid.status_code == 400 and "name" in invalid.get_json()["error"]["details"]


def test_host_endpoints_are_device_only_and_need_devices_manage(world: World):
    editor = world.client.post("/api/v3/legacy/reboot", headers=world.auth("editor"))
    owner_info = world.client.get("/api/v3/legacy/info", headers=world.auth("viewer"))
    assert editor.status_code == 403
    assert owner_info.status_code == 200


def test_host_endpoints_do_not_exist_in_the_cloud(make_world):
    world = make_world(ANTHIAS_MODE="cloud",
                       ANTHIAS_SECRET_KEY="Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=")
    reboot = world.client.post("/api/v3/legacy/reboot", headers=world.auth())
    assets = world.client.get("/api/v3/legacy/assets", headers=world.auth())
    assert reboot.status_code == 404
    assert assets.status_code == 200


def test_no_asset_may_point_at_a_host_file_through_v3(world: World, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    native = world.client.post("/api/v3/assets", headers=world.auth(), json={
        "name": "x", "uri": str(secret), "mimetype": "webpage", "skip_asset_check": True})
    legacy = world.client.post("/api/v3/legacy/assets", headers=world.auth(), json={
        "name": "x", "uri": str(secret), "mimetype": "webpage",
        "start_date": "2024-01-01T00:00:00Z", "end_date": "2030-01-01T00:00:00Z",
        "duration": 10, "is_enabled": True, "skip_asset_check": True})
    assert native.status_code == legacy.status_code == 400
    assert legacy.get_json()["error"]["code"] == "invalid_file_path"
