"""``POST /api/v3/uploads`` names the stored file by a reference, never by its server path.

A client learns ``upload:<id>`` and gives it back as the new asset's ``uri``; the id is only
ever looked up in the caller's own folder.
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable

import pytest

from tests.api.v3.conftest import World

PNG = b"\x89PNG\r\n\x1a\n" + b"a shop window" * 8
SECRET_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="


@pytest.fixture
def cloud(make_world: Callable[..., World]) -> World:
    """A cloud-mode server: tenants a and b each with their own media folder."""
    return make_world(ANTHIAS_MODE="cloud", ANTHIAS_SECRET_KEY=SECRET_KEY)


def upload(world: World, tenant: str | None = None, data: bytes = PNG):
    return world.client.post(
        "/api/v3/uploads", headers=world.auth("owner", tenant),
        data={"file": (io.BytesIO(data), "shop.png")}, content_type="multipart/form-data")


def create(world: World, uri: str, tenant: str | None = None):
    return world.client.post("/api/v3/assets", headers=world.auth("owner", tenant), json={
        "name": "shop", "uri": uri, "mimetype": "image", "skip_asset_check": True})


def shown_bytes(world: World, asset_id: str, tenant: str | None = None) -> bytes:
    """The file the asset plays, as its owner downloads it."""
    body = world.client.get(f"/api/v3/legacy/assets/{asset_id}/content",
                            headers=world.auth("owner", tenant)).get_json()
    assert body["type"] == "file", body
    return base64.b64decode(body["content"])


def test_the_answer_is_a_reference_and_tells_nothing_of_the_servers_folders(world: World):
    response = upload(world)

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert re.fullmatch(r"upload:[0-9a-f]{32}", body["uri"]), body
    assert (body["ext"], body["complete"]) == (".png", True)
    text = response.get_data(as_text=True)
    assert str(world.runtime.settings.asset_dir) not in text and "/" not in text


def test_the_reference_makes_an_asset_that_plays_the_uploaded_file(world: World):
    reference = upload(world).get_json()["uri"]

    created = create(world, reference)

    assert created.status_code == 201, created.get_json()
    assert shown_bytes(world, created.get_json()["asset_id"]) == PNG


def test_a_reference_makes_one_asset_only(world: World):
    reference = upload(world).get_json()["uri"]
    assert create(world, reference).status_code == 201

    again = create(world, reference)

    assert again.status_code == 400
    assert again.get_json()["error"]["code"] == "unknown_upload"


@pytest.mark.parametrize("reference", [
    "upload:", "upload:../../etc/passwd", "upload:0123456789ABCDEF0123456789ABCDEF",
    "upload:0123456789abcdef0123456789abcdef", "upload:0123456789abcdef0123456789abcdef/x",
    "upload:0123456789abcdef0123456789abcdef\n"])
def test_a_reference_to_no_upload_is_refused(world: World, reference: str):
    response = create(world, reference)

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "unknown_upload"
    assert world.client.get("/api/v3/assets", headers=world.auth()).get_json()["items"] == []


def test_another_tenant_cannot_use_a_tenants_reference(cloud: World):
    reference = upload(cloud, cloud.a).get_json()["uri"]

    taken = create(cloud, reference, cloud.b)
    kept = create(cloud, reference, cloud.a)

    assert taken.status_code == 400
    assert taken.get_json()["error"]["code"] == "unknown_upload"
    assert kept.status_code == 201, kept.get_json()
    assert shown_bytes(cloud, kept.get_json()["asset_id"], cloud.a) == PNG
