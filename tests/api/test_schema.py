"""``/api/schema/`` and ``/api/docs/``: the generated OpenAPI document and Redoc
(docs/legacy-api.md §3.0, §6.1)."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from openapi_spec_validator import validate

from anthias_edge.api.schema import CACHE_KEY
from tests.helpers import basic, serve_wsgi

SCHEMA_TYPE = "application/vnd.oai.openapi; charset=utf-8"
REDOC_URL = "/static/vendor/redoc/redoc.standalone.js"
IGNORED = {"HEAD", "OPTIONS"}
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def auth_app(make_app: Callable[..., Flask]) -> Flask:
    """A server with Basic auth on for admin / secret."""
    return make_app(ANTHIAS_AUTH_BACKEND="auth_basic", ANTHIAS_USER="admin",
                    ANTHIAS_PASSWORD=hashlib.sha256(b"secret").hexdigest())


def _document(app: Flask) -> dict[str, Any]:
    response = app.test_client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.get_data(as_text=True))


def _v2_operations(app: Flask) -> set[tuple[str, str]]:
    """Every (path, method) the app routes under ``v2.``, in OpenAPI spelling."""
    expected = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("v2."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            expected |= {(path, m.lower()) for m in rule.methods - IGNORED}
    return expected


def test_the_schema_is_open_even_when_auth_is_on(auth_app: Flask) -> None:
    response = auth_app.test_client().get("/api/schema/")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == SCHEMA_TYPE


def test_the_schema_is_openapi_3_0_3_yaml_titled_anthias_api(app: Flask) -> None:
    document = _document(app)

    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"] == "Anthias API"
    assert document["info"]["version"] == "2.0.0"


def test_the_schema_is_a_valid_openapi_document(app: Flask) -> None:
    validate(_document(app))


def test_the_schema_has_every_v2_route_with_its_methods(app: Flask) -> None:
    document = _document(app)
    documented = {(path, method) for path, item in document["paths"].items()
                  for method in item}

    assert _v2_operations(app) <= documented
    assert ("/api/v2/assets/{asset_id}", "patch") in documented


def test_the_schema_has_no_path_outside_v2(app: Flask) -> None:
    document = _document(app)

    assert document["paths"]
    assert all(path.startswith("/api/v2/") for path in document["paths"])
    assert {(p, m) for p, item in document["paths"].items() for m in item} == _v2_operations(app)


def test_path_parameters_are_declared(app: Flask) -> None:
    operation = _document(app)["paths"]["/api/v2/assets/{asset_id}"]["get"]

    assert operation["parameters"] == [
        {"name": "asset_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def test_operations_are_named_after_the_drf_views_and_their_docstrings(app: Flask) -> None:
    operation = _document(app)["paths"]["/api/v2/assets"]["get"]

    assert operation["operationId"] == "AssetListViewV2_get"
    assert operation["tags"] == ["Asset List View V2"]
    assert operation["summary"] == "List every asset in playlist order."


def test_the_asset_create_body_requires_anthias_seven_fields(app: Flask) -> None:
    document = _document(app)
    body = document["paths"]["/api/v2/assets"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]

    assert set(schema["required"]) == {"name", "uri", "start_date", "end_date", "duration",
                                       "mimetype", "is_enabled"}
    assert schema["properties"]["start_date"] == {"type": "string", "format": "date-time"}
    assert schema["properties"]["duration"]["type"] == "integer"
    assert schema["properties"]["play_days"]["items"]["maximum"] == 7
    assert set(body["content"]) == {"application/json", "application/x-www-form-urlencoded",
                                    "multipart/form-data"}


def test_a_patch_body_requires_nothing(app: Flask) -> None:
    document = _document(app)
    body = document["paths"]["/api/v2/device_settings"]["patch"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[1]]

    assert "required" not in schema
    assert schema["properties"]["auth_backend"]["enum"] == ["", "auth_basic"]


def test_the_asset_answer_lists_the_v2_fields_with_types(app: Flask) -> None:
    document = _document(app)
    asset = document["components"]["schemas"]["Asset"]
    listed = document["paths"]["/api/v2/assets"]["get"]["responses"]["200"]

    assert listed["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/Asset"}
    assert asset["required"][:3] == ["asset_id", "name", "uri"]
    assert asset["properties"]["is_active"] == {"type": "boolean"}
    assert asset["properties"]["duration"] == {"type": "integer", "nullable": True}
    assert asset["properties"]["custom_headers"]["type"] == "object"


def test_errors_are_documented_in_anthias_shapes(app: Flask) -> None:
    document = _document(app)
    responses = document["paths"]["/api/v2/assets"]["post"]["responses"]
    schemas = document["components"]["schemas"]

    assert responses["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/FieldErrors")
    assert responses["500"]["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert schemas["Error"]["properties"] == {"error": {"type": "string"}}
    assert schemas["FieldErrors"]["additionalProperties"]["type"] == "array"


def test_the_schema_is_built_at_the_first_request_and_kept(app: Flask) -> None:
    client = app.test_client()
    assert CACHE_KEY not in app.extensions

    first = client.get("/api/schema/").get_data()

    assert app.extensions[CACHE_KEY].encode() == first
    assert client.get("/api/schema/").get_data() == first


def test_the_docs_ask_for_credentials_when_auth_is_on(auth_app: Flask) -> None:
    response = auth_app.test_client().get("/api/docs/")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="Anthias')


def test_the_docs_are_a_redoc_page_on_the_local_bundle(auth_app: Flask) -> None:
    response = auth_app.test_client().get("/api/docs/", headers=basic("admin", "secret"))
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert 'spec-url="/api/schema/"' in page
    assert f'<script src="{REDOC_URL}"></script>' in page
    assert "http://" not in page and "https://" not in page


def test_the_docs_without_a_slash_redirect(app: Flask) -> None:
    response = app.test_client().get("/api/docs")

    assert response.status_code == 301
    assert response.headers["Location"] == "/api/docs/"


def test_the_redoc_bundle_is_served_as_javascript(auth_app: Flask) -> None:
    response = auth_app.test_client().get(REDOC_URL)

    assert response.status_code == 200
    assert response.mimetype in ("text/javascript", "application/javascript")
    assert b"spec-url" in response.get_data()
    response.close()


@pytest.fixture
def live_url(app: Flask) -> Iterator[str]:
    """``app`` served by waitress on a free 127.0.0.1 port in a thread."""
    with serve_wsgi(app, threads=2) as url:
        yield url


def test_chromium_renders_the_docs_page(live_url: str, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or CHROMIUM
    if not Path(chromium).exists():
        pytest.fail("chromium is missing: install it (apt-get install chromium) to run this test")
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
               "--virtual-time-budget=5000", "--dump-dom", f"{live_url}/api/docs/"]

    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)

    assert result.returncode == 0, result.stderr[-2000:]
    assert "Asset List View V2" in result.stdout
    assert "List every asset in playlist order." in result.stdout
