"""API v1.1: v1's ``model`` wrapper with unique names on create
(docs/legacy-api.md §3.2, §3.6, §4.4)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.clients import create_asset
from tests.helpers import ACTIVE, V1_KEYS, v1_model


@pytest.mark.parametrize("encoding", ["form", "multipart", "json_object", "double_encoded_json"])
def test_every_encoding_of_the_model_creates_an_asset_in_v1_format(
        client: FlaskClient, encoding: str) -> None:
    model = v1_model()["model"]
    kwargs: dict[str, Any] = {
        "form": {"data": {"model": model}},
        "multipart": {"data": {"model": model}, "content_type": "multipart/form-data"},
        "json_object": {"json": {"model": model}},
        "double_encoded_json": {"data": json.dumps(model), "content_type": "application/json"},
    }[encoding]

    response = client.post("/api/v1.1/assets", **kwargs)

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    body = response.get_json()
    assert list(body) == V1_KEYS
    assert (body["duration"], body["is_enabled"], body["is_active"]) == ("20", 1, 1)


def test_v1_1_makes_names_unique_with_numbered_suffixes(client: FlaskClient) -> None:
    names = [create_asset(client, "v1.1", name="Anthias")["name"] for _ in range(3)]
    assert names == ["Anthias", "Anthias-1", "Anthias-2"]


def test_v1_1_fills_the_first_free_suffix(client: FlaskClient) -> None:
    create_asset(client, "v1.1", name="Anthias")
    create_asset(client, "v1.1", name="Anthias-2")
    assert create_asset(client, "v1.1", name="Anthias")["name"] == "Anthias-1"


def test_v1_1_keeps_the_uri_and_the_amp_entity_verbatim(client: FlaskClient) -> None:
    uri = "https://anthias.screenly.io/?a=1&amp;b=<2>'\""
    body = create_asset(client, "v1.1", name="Tom &amp; Jerry", uri=uri)
    assert (body["name"], body["uri"]) == ("Tom &amp; Jerry", uri)


def test_updating_to_a_taken_name_does_not_rename(client: FlaskClient) -> None:
    create_asset(client, "v1.1", name="Anthias")
    other = create_asset(client, "v1.1", name="Other")["asset_id"]
    model = {"name": "Anthias", **ACTIVE, "duration": "20", "is_enabled": 1}
    response = client.put(f"/api/v1.1/assets/{other}", data={"model": json.dumps(model)})
    assert response.status_code == 200
    assert response.get_json()["name"] == "Anthias"


def test_an_empty_update_model_lists_the_five_required_fields(client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1.1")["asset_id"]
    response = client.put(f"/api/v1.1/assets/{asset_id}", json={"model": "{}"})
    assert response.status_code == 400
    assert list(response.get_json()) == ["name", "start_date", "end_date", "duration", "is_enabled"]


def test_a_create_without_model_answers_500_naming_the_key(client: FlaskClient) -> None:
    response = client.post("/api/v1.1/assets", json={"name": "x"})
    assert (response.status_code, response.data) == (500, b"{\"error\":\"'model'\"}")


def test_patch_is_not_a_v1_1_method(client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1.1")["asset_id"]
    response = client.patch(f"/api/v1.1/assets/{asset_id}", json={"name": "x"})
    assert response.status_code == 500
    assert response.get_json() == {"error": 'Method "PATCH" not allowed.'}


def test_delete_answers_an_empty_204(client: FlaskClient) -> None:
    asset_id = create_asset(client, "v1.1")["asset_id"]
    response = client.delete(f"/api/v1.1/assets/{asset_id}")
    assert (response.status_code, response.data) == (204, b"")
    assert client.get("/api/v1.1/assets").data == b"[]"


@pytest.mark.parametrize("path", ["/api/v1.1/assets/abc/content", "/api/v1.1/info",
                                  "/api/v1.1/assets/control/next", "/api/v1.1/file_asset"])
def test_device_endpoints_exist_only_in_v1_and_v2(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "<title>Not Found</title>" in response.get_data(as_text=True)
