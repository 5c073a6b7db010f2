"""How v2 reads a request without a body or with a body it cannot parse
(docs/legacy-api.md §3.4)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.helpers import v2_asset

REQUIRED = ("name", "uri", "start_date", "end_date", "duration", "mimetype", "is_enabled")
EVERY_REQUIRED_FIELD = (
    "{" + ",".join(f'"{name}":["This field is required."]' for name in REQUIRED) + "}")


def test_a_create_with_no_body_at_all_lists_every_required_field(client: FlaskClient) -> None:
    response = client.post("/api/v2/assets")

    assert response.status_code == 400
    assert response.get_data(as_text=True) == EVERY_REQUIRED_FIELD
    assert client.get("/api/v2/assets").get_json() == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/octet-stream"])
def test_an_empty_body_of_any_type_reads_as_an_empty_object(client: FlaskClient,
                                                           content_type: str) -> None:
    response = client.post("/api/v2/assets", data=b"", content_type=content_type)

    assert response.status_code == 400
    assert response.get_data(as_text=True) == EVERY_REQUIRED_FIELD


def test_an_empty_form_still_counts_omitted_booleans_as_false(client: FlaskClient) -> None:
    response = client.post("/api/v2/assets", data=b"",
                           content_type="application/x-www-form-urlencoded")

    assert response.status_code == 400
    assert "is_enabled" not in response.get_json()


@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8",
                                          "application/xml"])
def test_a_body_of_an_unsupported_type_is_anthias_s_500_naming_the_type_as_sent(
        client: FlaskClient, content_type: str) -> None:
    body = '{"name": "x"}'
    response = client.post("/api/v2/assets", data=body, content_type=content_type)

    assert response.status_code == 500
    assert response.get_json() == {"error": f'Unsupported media type "{content_type}" in request.'}
    assert client.get("/api/v2/assets").get_json() == []


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/api/v2/assets/{id}"), ("PATCH", "/api/v2/assets/{id}"),
    ("POST", "/api/v1.2/assets"), ("POST", "/api/v2/assets/order"),
    ("PATCH", "/api/v2/device_settings"), ("POST", "/api/v1/assets"),
])
def test_every_view_that_reads_a_body_refuses_an_unsupported_type_alike(
        client: FlaskClient, method: str, path: str) -> None:
    created = client.post("/api/v2/assets", json=v2_asset()).get_json()
    response = client.open(path.replace("{id}", created["asset_id"]), method=method,
                           data="name=x", content_type="text/plain")

    assert response.status_code == 500
    assert response.get_json() == {"error": 'Unsupported media type "text/plain" in request.'}
    assert client.get("/api/v2/assets").get_json() == [created]
