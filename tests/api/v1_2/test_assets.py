"""API v1.2: direct fields, 0/1 flags, escaping, PATCH
(docs/legacy-api.md §3.3, §3.7, §4.5, §4.6)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.clients import create_asset
from tests.helpers import ACTIVE, V1_KEYS, in_asset_folder, v1_2_asset


# -- create ----------------------------------------------------------------
def test_a_json_create_answers_201_in_the_v1_format(client: FlaskClient) -> None:
    response = client.post("/api/v1.2/assets", json=v1_2_asset(duration=20, is_enabled=1))
    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    body = response.get_json()
    assert list(body) == V1_KEYS
    assert {k: body[k] for k in V1_KEYS[1:]} == {
        "name": "Anthias", "uri": "https://anthias.screenly.io", **ACTIVE, "duration": "20",
        "mimetype": "webpage", "is_enabled": 1, "nocache": 0, "play_order": 0,
        "skip_asset_check": 1, "is_active": 1, "is_processing": 0}


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded",
                                          "multipart/form-data"])
def test_a_form_create_reads_the_fields_directly(client: FlaskClient, content_type: str) -> None:
    form = {k: str(v) for k, v in v1_2_asset(name="Form").items()}
    response = client.post("/api/v1.2/assets", data=form, content_type=content_type)
    assert response.status_code == 201
    body = response.get_json()
    assert (body["name"], body["duration"], body["is_enabled"]) == ("Form", "20", 0)


def test_names_lose_the_amp_entity_and_are_made_unique(client: FlaskClient) -> None:
    names = [create_asset(client, "v1.2", name="Tom &amp; Jerry")["name"] for _ in range(3)]
    assert names == ["Tom & Jerry", "Tom & Jerry-1", "Tom & Jerry-2"]


def test_the_uri_is_escaped_exactly_as_anthias_does(client: FlaskClient) -> None:
    body = create_asset(client, "v1.2", uri="https://anthias.screenly.io/?a=1&amp;b=<2>'\"")
    assert body["uri"] == "https://anthias.screenly.io/?a=1&b=&lt;2&gt;&apos;&quot;"


def test_is_processing_sent_on_create_is_ignored(client: FlaskClient) -> None:
    assert create_asset(client, "v1.2", is_processing=1)["is_processing"] == 0


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_a_missing_skip_asset_check_means_check_the_url(
        client: FlaskClient, web_server: str, encoding: str) -> None:
    body = v1_2_asset(uri=f"{web_server}/ok")
    del body["skip_asset_check"]  # Anthias answered 500 here (docs/legacy-api.md Q8, fixed)
    response = (client.post("/api/v1.2/assets", json=body) if encoding == "json"
                else client.post("/api/v1.2/assets", data={k: str(v) for k, v in body.items()}))
    assert response.status_code == 201
    assert response.get_json()["skip_asset_check"] == 0


def test_an_unreachable_url_is_refused_when_the_check_is_on(
        client: FlaskClient, web_server: str) -> None:
    response = client.post("/api/v1.2/assets",
                           json=v1_2_asset(uri=f"{web_server}/gone", skip_asset_check=0))
    assert response.status_code == 500
    assert response.data == b'{"error":"Could not retrieve file. Check the asset URL."}'


def test_a_stream_is_created_without_skipping_the_check(client: FlaskClient) -> None:
    body = create_asset(client, "v1.2", uri="rtmp://127.0.0.1:1/live", mimetype="streaming",
                        skip_asset_check=0)
    assert body["mimetype"] == "streaming"


@pytest.mark.parametrize(("overrides", "status", "body"), [
    ({"duration": "abc"}, 500, {"error": "invalid literal for int() with base 10: 'abc'"}),
    ({"duration": None}, 400, {"duration": ["This field may not be null."]}),
    ({"is_enabled": True}, 400, {"is_enabled": ["A valid integer is required."]}),
    ({"is_enabled": "yes"}, 400, {"is_enabled": ["A valid integer is required."]}),
    ({"is_enabled": 2}, 400, {"is_enabled": ["Ensure this value is less than or equal to 1."]}),
    ({"nocache": -1}, 400, {"nocache": ["Ensure this value is greater than or equal to 0."]}),
    ({"name": ""}, 400, {"name": ["This field may not be blank."]}),
    ({"name": ["x"]}, 400, {"name": ["Not a valid string."]}),
    ({"uri": "ftp://x"}, 500, {"error": "Invalid URL. Failed to add asset."}),
    ({"uri": "/nowhere.png"}, 500, {"error": "Invalid file path. Failed to add asset."}),
    ({"mimetype": "video", "duration": "5"}, 500,
     {"error": "Duration must be zero for video assets."}),
])
def test_a_bad_field_gets_anthias_status_and_message(
        client: FlaskClient, overrides: dict, status: int, body: dict) -> None:
    response = client.post("/api/v1.2/assets", json=v1_2_asset(**overrides))
    assert (response.status_code, response.get_json()) == (status, body)
    assert client.get("/api/v1.2/assets").data == b"[]"


def test_every_required_field_is_reported_at_once(client: FlaskClient) -> None:
    response = client.post("/api/v1.2/assets", json={})
    assert response.status_code == 400
    assert response.get_json() == {
        name: ["This field is required."]
        for name in ("name", "uri", "start_date", "end_date", "duration", "mimetype", "is_enabled")}


def test_malformed_json_is_a_500_json_parse_error(client: FlaskClient) -> None:
    response = client.post("/api/v1.2/assets", data="{'name': 1}", content_type="application/json")
    assert response.status_code == 500
    assert response.data == (b'{"error":"JSON parse error - Expecting property name enclosed in '
                             b'double quotes: line 1 column 2 (char 1)"}')


def test_a_json_list_body_is_a_non_field_error(client: FlaskClient) -> None:
    response = client.post("/api/v1.2/assets", json=[v1_2_asset()])
    assert response.status_code == 400
    assert response.data == (
        b'{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}')


def test_an_uploaded_file_is_moved_to_the_asset_id_with_its_extension(
        client: FlaskClient, app: Flask, video_file: Path) -> None:
    uploaded = client.post("/api/v1/file_asset", content_type="multipart/form-data",
                           data={"file_upload": (io.BytesIO(video_file.read_bytes()), "clip.mp4")}
                           ).get_json()

    body = create_asset(client, "v1.2", name="clip.mp4", uri=uploaded["uri"], ext=uploaded["ext"],
                        mimetype="video", duration="0")

    asset_dir = app.extensions["anthias"].settings.asset_dir
    assert body["uri"] == str(asset_dir / f"{body['asset_id']}{uploaded['ext']}")
    assert body["duration"] == "2"
    assert Path(body["uri"]).read_bytes() == video_file.read_bytes()

    assert client.delete(f"/api/v1.2/assets/{body['asset_id']}").status_code == 204
    assert not Path(body["uri"]).exists()


# -- update ----------------------------------------------------------------
def test_patch_changes_only_the_fields_sent(client: FlaskClient) -> None:
    before = create_asset(client, "v1.2")
    response = client.patch(f"/api/v1.2/assets/{before['asset_id']}", json={"name": "patched"})
    assert response.status_code == 200
    assert response.get_json() == {**before, "name": "patched"}


def test_patch_with_a_json_boolean_flag_is_a_400(client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1.2")["asset_id"]
    response = client.patch(f"/api/v1.2/assets/{asset_id}", json={"is_enabled": True})
    assert response.status_code == 400
    assert response.data == b'{"is_enabled":["A valid integer is required."]}'


def test_put_requires_the_five_update_fields(client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1.2")["asset_id"]
    response = client.put(f"/api/v1.2/assets/{asset_id}", json={})
    assert response.status_code == 400
    assert response.data == (
        b'{"name":["This field is required."],"start_date":["This field is required."],'
        b'"end_date":["This field is required."],"duration":["This field is required."],'
        b'"is_enabled":["This field is required."]}')


def test_put_never_changes_uri_mimetype_or_id(client: FlaskClient) -> None:
    before = create_asset(client, "v1.2")
    response = client.put(f"/api/v1.2/assets/{before['asset_id']}", json={
        "name": "New", **ACTIVE, "duration": "45", "is_enabled": 0, "uri": "https://x.example",
        "mimetype": "image", "asset_id": "f" * 32})
    assert response.status_code == 200
    assert response.get_json() == {**before, "name": "New", "duration": "45"}


def test_put_keeps_the_measured_duration_of_a_video(
        client: FlaskClient, video_file: Path) -> None:
    asset_id = create_asset(client, "v1.2", uri=str(in_asset_folder(client, video_file)),
                            mimetype="video", duration=0)["asset_id"]
    response = client.put(f"/api/v1.2/assets/{asset_id}", json={
        "name": "clip", **ACTIVE, "duration": "99", "is_enabled": 1})
    assert response.status_code == 200
    assert response.get_json()["duration"] == "2"


def test_an_unknown_id_answers_500_does_not_exist(client: FlaskClient) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        response = client.open("/api/v1.2/assets/nope", method=method, json={})
        assert response.status_code == 500
        assert response.data == b'{"error":"Asset matching query does not exist."}'


def test_v1_2_has_no_content_endpoint(client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1.2")["asset_id"]
    assert client.get(f"/api/v1.2/assets/{asset_id}/content").status_code == 404
