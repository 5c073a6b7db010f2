"""Each tenant's media live apart: no tenant may take, read or delete another tenant's file.

In the cloud every tenant's files lie in ``<assetdir>/<tenant_id>/`` and a local ``uri``
is accepted only inside the caller's own folder (links and ``..`` resolved). The device's
own library keeps Anthias's flat asset folder (tests/api/test_local_files.py).
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from anthias_edge.models import Asset
from tests.api.v3.conftest import PASSWORD, World
from tests.helpers import basic

BASE_DOMAIN = "signage.test"
SECRET_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="
PNG = b"\x89PNG\r\n\x1a\n tenant A's picture"
WINDOW = {"start_date": "2024-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z"}


@pytest.fixture
def cloud(make_world: Callable[..., World]) -> World:
    """A cloud-mode server with tenants alpha (a) and beta (b) on ``<sub>.signage.test``."""
    world = make_world(ANTHIAS_MODE="cloud", ANTHIAS_SECRET_KEY=SECRET_KEY)
    world.app.config["ANTHIAS_BASE_DOMAIN"] = BASE_DOMAIN
    return world


def asset_dir(world: World) -> Path:
    return world.runtime.settings.asset_dir


def tenant_folder(world: World, tenant: str) -> Path:
    folder = asset_dir(world) / tenant
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def v2_body(uri: str, name: str = "picture") -> dict:
    return {"name": name, "uri": uri, "mimetype": "image", "duration": 10, "is_enabled": True,
            "skip_asset_check": True, **WINDOW}


def create_via(world: World, route: str, tenant: str, uri: str):
    """B's attempt through one of the three ways an asset is created in the cloud."""
    client = world.client
    if route == "v3":
        return client.post("/api/v3/assets", headers=world.auth("owner", tenant), json={
            "name": "taken", "uri": uri, "mimetype": "image", "skip_asset_check": True})
    if route == "v3-legacy":
        return client.post("/api/v3/legacy/assets", headers=world.auth("owner", tenant),
                           json=v2_body(uri, "taken"))
    subdomain = "alpha" if tenant == world.a else "beta"
    return client.post("/api/v2/assets", json=v2_body(uri, "taken"),
                       headers=basic(f"{subdomain}-owner", PASSWORD),
                       base_url=f"http://{subdomain}.{BASE_DOMAIN}")


def assert_refused(route: str, response) -> None:
    """The API's own refusal of a file path, identical to a path that does not exist."""
    if route == "v2":
        # Anthias's answer to a file path it will not use (docs/legacy-api.md §4.5).
        assert (response.status_code, response.get_json()) == (
            500, {"error": "Invalid file path. Failed to add asset."})
    else:
        assert response.status_code == 400, response.get_data(as_text=True)
        assert response.get_json()["error"]["code"] == "invalid_file_path"


def a_files_asset(world: World) -> tuple[str, Path]:
    """Tenant A's image asset made from a file in A's folder: (asset id, its stored file)."""
    source = tenant_folder(world, world.a) / "upload.tmp"
    source.write_bytes(PNG)
    made = world.client.post("/api/v3/legacy/assets", headers=world.auth("owner", world.a),
                             json={**v2_body(str(source)), "ext": ".png"})
    assert made.status_code == 201, made.get_data(as_text=True)
    stored = Path(made.get_json()["uri"])
    assert stored.read_bytes() == PNG
    return made.get_json()["asset_id"], stored


def a_reads(world: World, asset_id: str) -> bytes | None:
    body = world.client.get(f"/api/v3/legacy/assets/{asset_id}/content",
                            headers=world.auth("owner", world.a)).get_json()
    return base64.b64decode(body["content"]) if body["type"] == "file" else None


ROUTES = ("v3", "v3-legacy", "v2")


@pytest.mark.parametrize("route", ROUTES)
def test_another_tenant_cannot_take_a_tenants_asset_file(cloud: World, route: str):
    asset_id, stored = a_files_asset(cloud)

    response = create_via(cloud, route, cloud.b, str(stored))

    assert_refused(route, response)
    assert stored.read_bytes() == PNG  # neither moved nor touched
    assert a_reads(cloud, asset_id) == PNG
    with cloud.db():
        assert Asset.select().where(Asset.tenant == cloud.b).count() == 0


@pytest.mark.parametrize("route", ROUTES)
def test_another_tenant_cannot_take_a_tenants_pending_upload(cloud: World, route: str):
    upload = tenant_folder(cloud, cloud.a) / "0123456789abcdef0123456789abcdef.tmp"
    upload.write_bytes(PNG)

    response = create_via(cloud, route, cloud.b, str(upload))

    assert_refused(route, response)
    assert upload.read_bytes() == PNG


@pytest.mark.parametrize("route", ROUTES)
def test_dot_dot_and_links_out_of_the_own_folder_are_refused(cloud: World, route: str):
    _asset_id, stored = a_files_asset(cloud)
    b_folder = tenant_folder(cloud, cloud.b)
    link = b_folder / "link.png"
    os.symlink(stored, link)
    dotted = f"{b_folder}/../{cloud.a}/{stored.name}"

    for uri in (str(link), dotted):
        assert_refused(route, create_via(cloud, route, cloud.b, uri))

    assert stored.read_bytes() == PNG


@pytest.mark.parametrize("route", ROUTES)
def test_a_tenant_uses_a_file_in_its_own_folder(cloud: World, route: str):
    own = tenant_folder(cloud, cloud.b) / "mine.tmp"
    own.write_bytes(b"B's own")

    response = create_via(cloud, route, cloud.b, str(own))

    assert response.status_code == 201, response.get_data(as_text=True)
    stored = Path(response.get_json()["uri"])
    assert stored.parent == asset_dir(cloud) / cloud.b
    assert stored.read_bytes() == b"B's own"


@pytest.mark.parametrize("route", ROUTES)
def test_a_file_of_the_host_is_no_tenants_to_take(cloud: World, route: str):
    host_file = asset_dir(cloud).parent / "host-secret.png"
    host_file.write_bytes(PNG)

    assert_refused(route, create_via(cloud, route, cloud.b, str(host_file)))

    assert host_file.read_bytes() == PNG
    with cloud.db():
        assert Asset.select().where(Asset.tenant == cloud.b).count() == 0


@pytest.mark.parametrize("route", ("v3", "v3-legacy"))
def test_on_a_device_v3_takes_no_file_of_the_host(world: World, route: str):
    """v3 callers are tenant members, not the device's administrator."""
    host_file = asset_dir(world).parent / "host-secret.png"
    host_file.write_bytes(PNG)

    assert_refused(route, create_via(world, route, world.a, str(host_file)))

    assert host_file.read_bytes() == PNG


def test_a_tenant_row_naming_another_tenants_file_neither_reads_nor_deletes_it(cloud: World):
    _asset_id, stored = a_files_asset(cloud)
    mine = cloud.asset(cloud.b)
    with cloud.db():  # a row written before tenants had folders, or by a bug elsewhere
        Asset.update(uri=str(stored)).where(Asset.asset_id == mine).execute()
    headers = cloud.auth("owner", cloud.b)

    content = cloud.client.get(f"/api/v3/legacy/assets/{mine}/content", headers=headers)
    deleted = cloud.client.delete(f"/api/v3/assets/{mine}", headers=headers)

    assert content.get_json() == {"type": "url", "url": str(stored)}
    assert deleted.status_code == 204
    assert stored.read_bytes() == PNG


def test_files_at_the_top_of_the_asset_folder_from_before_still_work(cloud: World):
    """Cloud data made before tenant folders keeps its files where they are."""
    old = asset_dir(cloud) / "f00d0000000000000000000000000000.png"
    old.write_bytes(PNG)
    # Such a file is no tenant's to take for a new asset...
    assert_refused("v3", create_via(cloud, "v3", cloud.b, str(old)))
    assert old.read_bytes() == PNG
    # ...but the row that already names it still reads and deletes it.
    asset_id = cloud.asset(cloud.a)
    with cloud.db():
        Asset.update(uri=str(old), mimetype="image").where(Asset.asset_id == asset_id).execute()

    assert a_reads(cloud, asset_id) == PNG
    deleted = cloud.client.delete(f"/api/v3/assets/{asset_id}", headers=cloud.auth())
    assert deleted.status_code == 204
    assert not old.exists()


def test_on_a_device_a_second_tenants_upload_is_its_own(world: World):
    """A device holding extra tenants (``tenant create``) keeps their uploads apart too."""
    uploaded = world.client.post(
        "/api/v3/legacy/file_asset", headers=world.auth("owner", world.a),
        data={"file_upload": (io.BytesIO(PNG), "shop.png")}, content_type="multipart/form-data")
    assert uploaded.status_code == 200, uploaded.get_data(as_text=True)
    path = Path(uploaded.get_json()["uri"])

    taken = create_via(world, "v3", world.b, str(path))

    assert_refused("v3", taken)
    assert path.parent == asset_dir(world) / world.a
    own = world.client.post("/api/v3/assets", headers=world.auth("owner", world.a), json={
        "name": "shop", "uri": str(path), "mimetype": "image", "skip_asset_check": True})
    assert own.status_code == 201
    assert Path(own.get_json()["uri"]).read_bytes() == PNG
