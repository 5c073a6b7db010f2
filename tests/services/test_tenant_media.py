"""services/assets.py and media.py: a tenant's files stay in its own folder."""

from __future__ import annotations

import datetime as dt

import pytest

from anthias_edge.errors import InvalidFilePath
from anthias_edge.models import Asset
from anthias_edge.services.assets import AssetService
from anthias_edge.services.media import tenant_media_dir

NOW = dt.datetime(2024, 6, 3, 12, 0)
TENANT = "2f1c0a4e-5b7d-4d8e-9f00-0123456789ab"


@pytest.fixture
def service(app):
    """The service of a tenant with a folder of its own, as every tenant has in the cloud."""
    runtime = app.extensions["anthias"]
    asset_dir = runtime.settings.asset_dir
    with runtime.database.connection_context():
        yield AssetService(asset_dir=asset_dir, media_dir=asset_dir / TENANT, clock=lambda: NOW)


def image(uri: str) -> dict:
    return {"name": "Picture", "uri": uri, "mimetype": "image", "duration": 10,
            "is_enabled": True, "skip_asset_check": True, "play_order": 0}


@pytest.mark.parametrize("ext", ["/../../escaped", "/../x", "/x"])
def test_an_extension_never_moves_the_file_out_of_the_tenants_folder(service, ext):
    upload = service.own_dir / "upload.tmp"
    upload.parent.mkdir(parents=True)
    upload.write_bytes(b"png")

    with pytest.raises(InvalidFilePath):
        service.create(image(str(upload)), ext=ext)

    assert upload.read_bytes() == b"png"
    assert Asset.select().count() == 0
    assert not (service.asset_dir.parent / "escaped").exists()


def test_files_elsewhere_may_be_allowed_but_never_another_tenants(service):
    other = service.asset_dir / "another-tenant" / "theirs.png"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"theirs")
    service.allow_files_outside_asset_dir = True

    with pytest.raises(InvalidFilePath):
        service.create(image(str(other)), ext=".png")

    assert other.read_bytes() == b"theirs"


@pytest.mark.parametrize("tenant_id", ["..", "a/b", "", "x\0y"])
def test_a_tenant_id_that_is_not_a_plain_name_never_becomes_a_folder(tmp_path, tenant_id):
    with pytest.raises(ValueError):
        tenant_media_dir(tmp_path, tenant_id, own_library=False)


def test_the_devices_own_library_keeps_the_flat_asset_folder(tmp_path):
    assert tenant_media_dir(tmp_path, TENANT, own_library=True) == tmp_path
    assert tenant_media_dir(tmp_path, TENANT, own_library=False) == tmp_path / TENANT
