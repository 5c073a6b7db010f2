"""API v2 asset create and update: DRF field rules, unique names, play-order renumbering."""

from __future__ import annotations

import pytest

from tests.helpers import v2_asset

TRUE_SPELLINGS = [True, 1, "1", "true", "True", "TRUE", "t", "T", "y", "Y", "yes", "Yes", "YES",
                  "on", "On", "ON"]
FALSE_SPELLINGS = [False, 0, "0", "false", "False", "FALSE", "f", "F", "n", "N", "no", "No", "NO",
                   "off", "Off", "OFF"]


def orders(client) -> dict[str, int]:
    return {a["name"]: a["play_order"] for a in client.get("/api/v2/assets").get_json()}


@pytest.mark.parametrize("spelling", TRUE_SPELLINGS)
def test_every_drf_true_spelling_enables_the_asset(client, runtime, spelling):
    response = client.post("/api/v2/assets", json=v2_asset(is_enabled=spelling))
    assert response.status_code == 201
    assert response.get_json()["is_enabled"] is True


@pytest.mark.parametrize("spelling", FALSE_SPELLINGS)
def test_every_drf_false_spelling_disables_the_asset(client, runtime, spelling):
    response = client.post("/api/v2/assets", json=v2_asset(is_enabled=spelling))
    assert response.status_code == 201
    assert response.get_json()["is_enabled"] is False


def test_is_enabled_2_is_not_a_valid_boolean(client, runtime):
    response = client.post("/api/v2/assets", json=v2_asset(is_enabled=2))
    assert response.status_code == 400
    assert response.get_json() == {"is_enabled": ["Must be a valid boolean."]}
    assert client.get("/api/v2/assets").get_json() == []


def test_a_duration_of_abc_is_not_a_valid_integer(client, runtime):
    response = client.post("/api/v2/assets", json=v2_asset(duration="abc"))
    assert response.status_code == 400
    assert response.get_json() == {"duration": ["A valid integer is required."]}


def test_a_json_body_without_is_enabled_is_told_the_field_is_required(client, runtime):
    body = v2_asset()
    del body["is_enabled"]
    response = client.post("/api/v2/assets", json=body)
    assert response.status_code == 400
    assert response.get_json() == {"is_enabled": ["This field is required."]}


def test_a_form_body_that_omits_the_booleans_creates_them_false(client, runtime):
    body = {k: str(v) for k, v in v2_asset().items()
            if k not in ("is_enabled", "nocache", "skip_asset_check")}
    body["uri"] = "rtsp://198.51.100.7:8554/cam"  # a stream is never probed
    response = client.post("/api/v2/assets", data=body)
    assert response.status_code == 201
    created = response.get_json()
    assert (created["is_enabled"], created["nocache"], created["skip_asset_check"]) == (
        False, False, False)


def test_a_json_body_without_skip_asset_check_defaults_to_false_instead_of_failing(
        client, runtime):
    body = v2_asset(uri="rtsp://198.51.100.7:8554/cam")
    del body["skip_asset_check"]
    response = client.post("/api/v2/assets", json=body)
    assert response.status_code == 201
    assert response.get_json()["skip_asset_check"] is False


def test_the_response_carries_anthias_keys_in_order_then_the_extensions(create):
    created = create()
    assert list(created) == [
        "asset_id", "name", "uri", "start_date", "end_date", "duration", "mimetype",
        "is_enabled", "nocache", "play_order", "skip_asset_check", "is_active", "is_processing",
        "play_days", "play_time_from", "play_time_to", "skip_ssl_verify", "refresh_interval_s",
        "custom_headers", "is_reachable", "last_reachability_check", "metadata"]
    assert created["duration"] == 20
    assert len(created["asset_id"]) == 32


def test_creating_the_same_name_twice_gives_name_dash_one_then_dash_two(create):
    names = [create(name="Anthias")["name"] for _ in range(3)]
    assert names == ["Anthias", "Anthias-1", "Anthias-2"]


def test_amp_entities_in_name_and_uri_are_unescaped_and_html_is_escaped(create):
    created = create(name="Tom &amp; Jerry", uri="https://anthias.screenly.io/?a=1&amp;b=<2>'\"")
    assert created["name"] == "Tom & Jerry"
    assert created["uri"] == "https://anthias.screenly.io/?a=1&b=&lt;2&gt;&apos;&quot;"


def test_the_worked_renumbering_example_ends_with_anthias_play_orders(client, create):
    ids = {name: create(name=name, is_enabled=False)["asset_id"] for name in "ABC"}
    for name in "ABC":
        response = client.put(f"/api/v2/assets/{ids[name]}", json={
            "name": name, "start_date": "2019-08-24T14:15:22Z",
            "end_date": "2099-08-24T14:15:22Z", "duration": 20, "is_enabled": True,
            "play_order": 0})
        assert response.status_code == 200
    assert orders(client) == {"A": 1, "B": 2, "C": 0}
    ids["D"] = create(name="D", is_enabled=True, play_order=1)["asset_id"]
    assert orders(client) == {"A": 0, "D": 1, "B": 2, "C": 3}
    response = client.patch(f"/api/v2/assets/{ids['A']}", json={"is_enabled": False})
    assert response.status_code == 200
    assert orders(client) == {"A": 0, "B": 0, "C": 1, "D": 2}


def test_creating_an_inactive_asset_still_renumbers_the_active_ones(client, create):
    first = create(name="first")["asset_id"]
    second = create(name="second")["asset_id"]
    client.post("/api/v2/assets/order", data={"ids": f"{second},{first}"})
    assert orders(client) == {"first": 1, "second": 0}
    create(name="off", is_enabled=False, play_order=5)
    assert orders(client) == {"first": 0, "second": 1, "off": 5}


def test_patch_with_only_a_name_renames_and_keeps_everything_else(client, create):
    created = create()
    response = client.patch(f"/api/v2/assets/{created['asset_id']}", json={"name": "patched"})
    assert response.status_code == 200
    assert response.get_json() == {**created, "name": "patched"}
    assert client.get(f"/api/v2/assets/{created['asset_id']}").get_json()["name"] == "patched"


def test_put_without_the_required_fields_lists_every_one(client, create):
    created = create()
    response = client.put(f"/api/v2/assets/{created['asset_id']}", json={})
    assert response.status_code == 400
    assert response.get_json() == {f: ["This field is required."] for f in (
        "name", "start_date", "end_date", "duration", "is_enabled")}


def test_patch_with_a_bad_boolean_is_a_400_and_changes_nothing(client, create):
    created = create()
    response = client.patch(f"/api/v2/assets/{created['asset_id']}", json={"nocache": "maybe"})
    assert response.status_code == 400
    assert response.get_json() == {"nocache": ["Must be a valid boolean."]}
    assert client.get(f"/api/v2/assets/{created['asset_id']}").get_json() == created


def test_uri_and_mimetype_never_change_on_update(client, create):
    created = create()
    response = client.patch(f"/api/v2/assets/{created['asset_id']}",
                            json={"uri": "https://other.example", "mimetype": "image"})
    assert response.status_code == 200
    assert (response.get_json()["uri"], response.get_json()["mimetype"]) == (
        created["uri"], created["mimetype"])


def test_an_unknown_asset_id_is_anthias_500(client, runtime):
    for method in ("get", "patch", "put", "delete"):
        response = getattr(client, method)("/api/v2/assets/nope", json={})
        assert response.status_code == 500
        assert response.get_json() == {"error": "Asset matching query does not exist."}


def test_delete_answers_204_with_no_body_and_the_asset_is_gone(client, create):
    created = create()
    response = client.delete(f"/api/v2/assets/{created['asset_id']}")
    assert (response.status_code, response.data) == (204, b"")
    assert "Content-Type" not in response.headers
    assert client.get("/api/v2/assets").get_json() == []


def test_order_sets_positions_and_unknown_ids_still_use_their_index(client, create):
    a = create(name="a")["asset_id"]
    response = client.post("/api/v2/assets/order", json={"ids": f"zzz,{a}"})
    assert response.status_code == 204
    assert orders(client) == {"a": 1}


def test_get_on_the_order_url_is_method_not_allowed(client, runtime):
    response = client.get("/api/v2/assets/order")
    assert response.status_code == 500
    assert response.get_json() == {"error": 'Method "GET" not allowed.'}


def test_control_forwards_the_command_to_the_viewer(client, viewer):
    response = client.get("/api/v2/assets/control/asset&6ee2394e760643748b9353f06f405424")
    assert response.get_json() == "Asset switched"
    message = viewer.receive(timeout_s=5)
    assert (message.command, message.parameter) == ("asset", "6ee2394e760643748b9353f06f405424")


def test_control_by_post_is_method_not_allowed(client, runtime):
    response = client.post("/api/v2/assets/control/next")
    assert response.status_code == 500
    assert response.get_json() == {"error": 'Method "POST" not allowed.'}


def test_a_web_page_asset_content_is_its_url(client, create):
    created = create()
    response = client.get(f"/api/v2/assets/{created['asset_id']}/content")
    assert response.get_json() == {"type": "url", "url": "https://anthias.screenly.io"}


def test_a_form_put_that_omits_the_booleans_sets_them_false(client, create):
    created = create(nocache=True)
    response = client.put(f"/api/v2/assets/{created['asset_id']}", data={
        "name": "form", "start_date": "2019-08-24T14:15:22Z",
        "end_date": "2099-08-24T14:15:22Z", "duration": "30"})
    assert response.status_code == 200, response.get_data(as_text=True)
    shown = response.get_json()
    assert (shown["name"], shown["duration"], shown["is_enabled"], shown["nocache"]) == (
        "form", 30, False, False)


def test_a_form_patch_leaves_omitted_booleans_alone(client, create):
    created = create(nocache=True)
    response = client.patch(f"/api/v2/assets/{created['asset_id']}", data={"name": "form"})
    assert response.status_code == 200
    assert (response.get_json()["is_enabled"], response.get_json()["nocache"]) == (True, True)
