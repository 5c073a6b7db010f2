"""API v1 assets as a client sees them: list, create, get, update, delete, content
(docs/legacy-api.md §3.1-3.9)."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from anthias_edge.models import Asset
from tests.clients import create_asset
from tests.helpers import ACTIVE, V1_KEYS, in_asset_folder, v1_model

HEX32 = re.compile(r"^[0-9a-f]{32}$")
NOT_FOUND = b'{"error":"Asset matching query does not exist."}'


def put(client: FlaskClient, target: str, **fields: Any) -> Any:
    """PUT a full v1 update model to the asset ``target``."""
    model = {"name": "Renamed", **ACTIVE, "duration": "30", "is_enabled": 1}
    model.update(fields)
    return client.put(f"/api/v1/assets/{target}", data={"model": json.dumps(model)})


def upload(client: FlaskClient, content: bytes, filename: str) -> dict[str, str]:
    """Upload a file through ``/file_asset`` as the web UI does; return ``{"uri","ext"}``."""
    response = client.post("/api/v1/file_asset", content_type="multipart/form-data",
                           data={"file_upload": (io.BytesIO(content), filename)})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# -- list ------------------------------------------------------------------
def test_an_empty_library_lists_as_an_empty_json_array(client: FlaskClient) -> None:
    response = client.get("/api/v1/assets")
    assert response.status_code == 200
    assert response.data == b"[]"
    assert response.headers["Content-Type"] == "application/json"


def test_the_list_is_in_insertion_order_not_play_order(client: FlaskClient) -> None:
    ids = [create_asset(client, "v1", name=name)["asset_id"] for name in ("C", "A", "B")]
    client.post("/api/v1/assets/order", data={"ids": ",".join(reversed(ids))})

    listed = client.get("/api/v1/assets").get_json()

    assert [a["name"] for a in listed] == ["C", "A", "B"]
    assert [a["play_order"] for a in listed] == [2, 1, 0]


# -- create: encodings -----------------------------------------------------
def test_a_model_in_a_urlencoded_form_creates_the_asset_in_the_exact_v1_shape(
        client: FlaskClient) -> None:
    response = client.post("/api/v1/assets", data=v1_model(is_enabled=0, skip_asset_check=1))

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    body = response.get_json()
    assert list(body) == V1_KEYS
    assert HEX32.match(body["asset_id"])
    expected = (
        '{"asset_id":"' + body["asset_id"] + '","name":"Anthias","uri":"https://anthias.screenly.io",'
        '"start_date":"2019-08-24T14:15:22Z","end_date":"2099-08-24T14:15:22Z","duration":"20",'
        '"mimetype":"webpage","is_enabled":0,"nocache":0,"play_order":0,"skip_asset_check":1,'
        '"is_active":0,"is_processing":0}'
    )
    assert response.get_data(as_text=True) == expected


@pytest.mark.parametrize("encoding", ["multipart", "json_object", "double_encoded_json"])
def test_every_encoding_of_the_model_creates_the_same_asset(
        client: FlaskClient, encoding: str) -> None:
    model = v1_model(name="Encoded")["model"]
    if encoding == "multipart":
        response = client.post("/api/v1/assets", data={"model": model},
                               content_type="multipart/form-data")
    elif encoding == "json_object":
        response = client.post("/api/v1/assets", json={"model": model})
    else:
        response = client.post("/api/v1/assets", data=json.dumps(model),
                               content_type="application/json")

    assert response.status_code == 201
    assert response.get_json()["name"] == "Encoded"
    assert [a["name"] for a in client.get("/api/v1/assets").get_json()] == ["Encoded"]


def test_an_enabled_asset_is_created_with_201_and_shown_active(client: FlaskClient) -> None:
    # Anthias answered 500 here (docs/legacy-api.md Q1, fixed)
    body = create_asset(client, "v1", is_enabled=1)
    assert (body["is_enabled"], body["is_active"]) == (1, 1)
    assert client.get(f"/api/v1/assets/{body['asset_id']}").get_json() == body


def test_v1_keeps_duplicate_names_as_they_are(client: FlaskClient) -> None:
    names = [create_asset(client, "v1", name="Anthias")["name"] for _ in range(3)]
    assert names == ["Anthias", "Anthias", "Anthias"]


def test_v1_stores_the_uri_and_name_verbatim(client: FlaskClient) -> None:
    uri = "https://anthias.screenly.io/?a=1&amp;b=<2>'\""
    body = create_asset(client, "v1", name="Tom &amp; Jerry", uri=uri)
    assert (body["name"], body["uri"]) == ("Tom &amp; Jerry", uri)


def test_play_order_sent_on_create_is_ignored_and_is_processing_is_copied(
        client: FlaskClient) -> None:
    body = create_asset(client, "v1", play_order=5, is_processing=1, nocache=1)
    assert (body["play_order"], body["is_processing"], body["nocache"]) == (0, 1, 1)


@pytest.mark.parametrize("dates", [{}, {"start_date": "", "end_date": ""}])
def test_missing_or_blank_dates_are_stored_as_null(client: FlaskClient, dates: dict) -> None:
    model = {"name": "n", "uri": "https://anthias.screenly.io", "duration": "5",
             "mimetype": "webpage", "skip_asset_check": 1, **dates}
    response = client.post("/api/v1/assets", data={"model": json.dumps(model)})
    assert response.status_code == 201
    body = response.get_json()
    assert (body["start_date"], body["end_date"], body["is_active"]) == (None, None, 0)


# -- create: refusals ------------------------------------------------------
def test_a_create_without_model_answers_500_naming_the_key(client: FlaskClient) -> None:
    response = client.post("/api/v1/assets", data={"name": "x"})
    assert (response.status_code, response.data) == (500, b"{\"error\":\"'model'\"}")


def test_a_model_that_is_not_json_answers_500_with_pythons_message(client: FlaskClient) -> None:
    response = client.post("/api/v1/assets", data={"model": "{bad"})
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}


def test_a_model_without_duration_answers_500_with_the_int_none_message(
        client: FlaskClient) -> None:
    model = json.loads(v1_model()["model"])
    del model["duration"]
    response = client.post("/api/v1/assets", data={"model": json.dumps(model)})
    assert response.status_code == 500
    assert response.get_json() == {"error": "int() argument must be a string, a bytes-like object "
                                            "or a real number, not 'NoneType'"}
    assert client.get("/api/v1/assets").get_json() == []


def test_is_enabled_2_is_a_400_range_error(client: FlaskClient) -> None:
    response = client.post("/api/v1/assets", data=v1_model(is_enabled=2))
    assert response.status_code == 400
    assert response.data == b'{"is_enabled":["Ensure this value is less than or equal to 1."]}'


def test_a_model_that_is_a_list_is_a_400_non_field_error(client: FlaskClient) -> None:
    response = client.post("/api/v1/assets", data={"model": "[1]"})
    assert response.status_code == 400
    assert response.get_json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}


@pytest.mark.parametrize(("uri", "message"), [
    ("ftp://x", "Invalid URL. Failed to add asset."),
    ("anthias.screenly.io", "Invalid URL. Failed to add asset."),
    ("/no/such/file.png", "Invalid file path. Failed to add asset."),
])
def test_an_invalid_uri_answers_500_with_anthias_message(
        client: FlaskClient, uri: str, message: str) -> None:
    response = client.post("/api/v1/assets", data=v1_model(uri=uri))
    assert (response.status_code, response.get_json()) == (500, {"error": message})


def test_an_unreachable_url_is_refused_when_the_check_is_on(
        client: FlaskClient, web_server: str) -> None:
    response = client.post("/api/v1/assets",
                           data=v1_model(uri=f"{web_server}/missing", skip_asset_check=0))
    assert response.status_code == 500
    assert response.get_json() == {"error": "Could not retrieve file. Check the asset URL."}
    assert client.get("/api/v1/assets").get_json() == []


def test_a_reachable_url_passes_the_check(client: FlaskClient, web_server: str) -> None:
    body = create_asset(client, "v1", uri=f"{web_server}/ok", skip_asset_check=0)
    assert (body["uri"], body["skip_asset_check"]) == (f"{web_server}/ok", 0)


def test_a_stream_is_created_without_skipping_the_check(client: FlaskClient) -> None:
    body = create_asset(client, "v1", uri="rtsp://127.0.0.1:1/live", mimetype="streaming",
                        skip_asset_check=0)  # Anthias 500ed (docs/legacy-api.md Q3)
    assert (body["uri"], body["mimetype"]) == ("rtsp://127.0.0.1:1/live", "streaming")


def test_a_video_with_a_non_zero_duration_is_refused_clearly(client: FlaskClient) -> None:
    response = client.post("/api/v1/assets", data=v1_model(mimetype="video", duration="5"))
    assert response.status_code == 500
    assert response.get_json() == {"error": "Duration must be zero for video assets."}
    assert client.get("/api/v1/assets").get_json() == []


def test_an_uploaded_video_with_duration_0_is_measured_by_ffprobe(
        client: FlaskClient, app: Flask, video_file: Path) -> None:
    uploaded = upload(client, video_file.read_bytes(), "clip.mp4")

    body = create_asset(client, "v1", name="clip.mp4", uri=uploaded["uri"], ext=uploaded["ext"],
                        mimetype="video", duration=0)

    assert body["duration"] == "2"
    stored = Path(body["uri"])
    assert stored.parent == app.extensions["anthias"].settings.asset_dir
    assert stored.read_bytes() == video_file.read_bytes()
    assert not Path(uploaded["uri"]).exists()


# -- get -------------------------------------------------------------------
def test_get_returns_the_body_create_returned(client: FlaskClient) -> None:
    body = create_asset(client, "v1")
    response = client.get(f"/api/v1/assets/{body['asset_id']}")
    assert response.status_code == 200
    assert response.get_json() == body


@pytest.mark.parametrize(("method", "suffix"), [
    ("GET", ""), ("PUT", ""), ("DELETE", ""), ("GET", "/content")])
def test_an_unknown_id_answers_500_does_not_exist(
        client: FlaskClient, method: str, suffix: str) -> None:
    response = client.open(f"/api/v1/assets/0123456789abcdef0123456789abcdef{suffix}",
                           method=method, data=v1_model())
    assert (response.status_code, response.data) == (500, NOT_FOUND)
    assert response.headers["Content-Type"] == "application/json"


# -- update ----------------------------------------------------------------
def test_put_applies_the_editable_fields_and_ignores_uri_mimetype_and_id(
        client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1", is_enabled=0)["asset_id"]

    response = put(client, asset_id, name="Renamed", duration="30", is_enabled=1, nocache=1,
                   play_order=4, uri="https://elsewhere.example", mimetype="image",
                   asset_id="f" * 32, start_date="2020-01-01T00:00:00Z")

    assert response.status_code == 200
    body = response.get_json()
    assert body == {
        "asset_id": asset_id, "name": "Renamed", "uri": "https://anthias.screenly.io",
        "start_date": "2020-01-01T00:00:00Z", "end_date": ACTIVE["end_date"], "duration": "30",
        "mimetype": "webpage", "is_enabled": 1, "nocache": 1, "play_order": 4,
        "skip_asset_check": 1, "is_active": 1, "is_processing": 0,
    }
    assert client.get(f"/api/v1/assets/{asset_id}").get_json() == body


def test_an_empty_update_model_lists_the_five_required_fields(client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1")["asset_id"]
    response = client.put(f"/api/v1/assets/{asset_id}", data={"model": "{}"})
    assert response.status_code == 400
    assert response.data == (
        b'{"name":["This field is required."],"start_date":["This field is required."],'
        b'"end_date":["This field is required."],"duration":["This field is required."],'
        b'"is_enabled":["This field is required."]}')


def test_a_non_numeric_duration_on_update_answers_500(client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1")["asset_id"]
    response = put(client, asset_id, duration="abc")
    assert response.status_code == 500
    assert response.get_json() == {"error": "invalid literal for int() with base 10: 'abc'"}
    assert client.get(f"/api/v1/assets/{asset_id}").get_json()["duration"] == "20"


def test_put_does_not_change_the_duration_of_a_video(
        client: FlaskClient, video_file: Path) -> None:
    asset_id = create_asset(client, "v1", uri=str(in_asset_folder(client, video_file)),
                            mimetype="video", duration=0)["asset_id"]
    response = put(client, asset_id, duration="99")
    assert response.status_code == 200
    assert response.get_json()["duration"] == "2"


def test_put_in_v1_does_not_renumber_the_playlist(client: FlaskClient) -> None:
    first = create_asset(client, "v1", name="A")["asset_id"]
    second = create_asset(client, "v1", name="B")["asset_id"]
    assert put(client, second, name="B", play_order=0).status_code == 200
    orders = {a["name"]: a["play_order"] for a in client.get("/api/v1/assets").get_json()}
    assert orders == {"A": 0, "B": 0}
    assert client.get(f"/api/v1/assets/{first}").get_json()["play_order"] == 0


def test_patch_is_not_a_v1_method(client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1")["asset_id"]
    response = client.patch(f"/api/v1/assets/{asset_id}", json={"name": "x"})
    assert response.status_code == 500
    assert response.get_json() == {"error": 'Method "PATCH" not allowed.'}
    assert client.get(f"/api/v1/assets/{asset_id}").get_json()["name"] == "Anthias"


# -- delete ----------------------------------------------------------------
def test_delete_answers_an_empty_204_and_removes_the_uploaded_file(client: FlaskClient) -> None:
    uploaded = upload(client, b"\x89PNG\r\n\x1a\nnot really", "photo.png")
    body = create_asset(client, "v1", name="photo.png", uri=uploaded["uri"], ext=uploaded["ext"],
                        mimetype="image")
    stored = Path(body["uri"])
    assert stored.is_file()

    response = client.delete(f"/api/v1/assets/{body['asset_id']}")

    assert (response.status_code, response.data) == (204, b"")
    assert "Content-Type" not in response.headers
    assert not stored.exists()
    assert client.get("/api/v1/assets").get_json() == []


def test_delete_leaves_a_file_outside_the_asset_folder_alone(
        client: FlaskClient, app: Flask, tmp_path: Path) -> None:
    outside = tmp_path / "usb-stick.png"
    outside.write_bytes(b"png")
    asset_id = create_asset(client, "v1")["asset_id"]
    # An older Anthias may have stored any path; such a row can still be deleted.
    with app.extensions["anthias"].database.connection_context():
        Asset.update(uri=str(outside)).where(Asset.asset_id == asset_id).execute()
    assert client.delete(f"/api/v1/assets/{asset_id}").status_code == 204
    assert outside.read_bytes() == b"png"


# -- content ---------------------------------------------------------------
def test_content_of_a_url_asset_is_the_url(client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1")["asset_id"]
    response = client.get(f"/api/v1/assets/{asset_id}/content")
    assert response.status_code == 200
    assert response.data == b'{"type":"url","url":"https://anthias.screenly.io"}'


def test_content_of_a_file_asset_is_the_file_in_base64(client: FlaskClient) -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x01binary"
    uploaded = upload(client, data, "photo.png")
    asset_id = create_asset(client, "v1", name="photo.png", uri=uploaded["uri"],
                            ext=uploaded["ext"], mimetype="image")["asset_id"]

    body = client.get(f"/api/v1/assets/{asset_id}/content").get_json()

    assert list(body) == ["type", "filename", "content", "mimetype"]
    assert body == {"type": "file", "filename": "photo.png",
                    "content": base64.b64encode(data).decode(), "mimetype": "image/png"}
