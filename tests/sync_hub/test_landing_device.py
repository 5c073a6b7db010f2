"""The cloud's /q/<code> for a linked device's code: the asset from the device's inventory,
the file from the hub's store once uploaded (PostgreSQL, in both passes of the suite)."""

from __future__ import annotations

import hashlib

import pytest

from tests.sync_hub.conftest import Hub, SimDevice
from tests.sync_hub.test_push import PUSH, asset, entry
from tests.sync_hub.test_qr_push import qr

PICTURE = b"\x89PNG\r\n\x1a\n a picture the screen shows"
SHA = hashlib.sha256(PICTURE).hexdigest()
CODE = "QR00000000000000B2"


@pytest.fixture
def shared(pg_hub: Hub) -> tuple[Hub, SimDevice]:
    device = pg_hub.add_device(pg_hub.a, "lobby")
    response = pg_hub.signed(device, "POST", PUSH, body={"entries": [
        asset(1, uri="/home/pi/screenly_assets/menu.png", media_sha256=SHA,
              media_size=len(PICTURE), is_shared=True),
        qr(2, code=CODE, title="Lunch menu")]})
    assert response.get_json()["applied"] == 2
    return pg_hub, device


def upload(hub: Hub, device: SimDevice) -> None:
    response = hub.signed(device, "PUT", f"/api/v3/sync/media/{SHA}", raw=PICTURE, headers={
        "Content-Type": "application/octet-stream",
        "Content-Range": f"bytes 0-{len(PICTURE) - 1}/{len(PICTURE)}"})
    assert response.status_code == 201


def test_before_the_upload_the_page_says_not_yet(shared):
    hub, _ = shared
    page = hub.client.get(f"/q/{CODE}")
    assert page.status_code == 404
    assert b"Not available yet" in page.data
    assert hub.client.get(f"/q/{CODE}/media").status_code == 404


def test_after_the_upload_the_page_and_file_are_served(shared):
    hub, device = shared
    upload(hub, device)
    page = hub.client.get(f"/q/{CODE}")
    assert page.status_code == 200
    assert b"Lunch menu" in page.data
    assert f"/q/{CODE}/media".encode() in page.data
    with hub.client.get(f"/q/{CODE}/media") as media:
        assert media.status_code == 200
        assert media.data == PICTURE
        assert media.mimetype == "image/png"  # from the device's file name, not the hash
    assert hub.sql("SELECT access_count FROM qr_contents WHERE qr_code = %s", (CODE,),
                   hub.a) == [(1,)]


def test_a_web_page_asset_needs_no_upload(pg_hub: Hub):
    device = pg_hub.add_device(pg_hub.a, "hall")
    pg_hub.signed(device, "POST", PUSH, body={"entries": [
        asset(1, asset_id="w1", uri="https://example.com/menu"),
        qr(2, qr_id="qw", code="QR00000000000000C3", asset_id="w1", title="Menu online")]})
    page = pg_hub.client.get("/q/QR00000000000000C3")
    assert page.status_code == 200
    assert b"https://example.com/menu" in page.data


def test_a_deleted_asset_makes_its_code_gone(shared):
    hub, device = shared
    upload(hub, device)
    hub.signed(device, "POST", PUSH, body={"entries": [entry(3, "asset.delete",
                                                             asset_id="a1")]})
    assert hub.client.get(f"/q/{CODE}").status_code == 404  # its inventory row is gone


def test_a_deactivated_code_is_gone(shared):
    hub, device = shared
    hub.signed(device, "POST", PUSH, body={"entries": [qr(3, code=CODE, is_active=False)]})
    assert hub.client.get(f"/q/{CODE}").status_code == 410


def test_another_tenants_host_does_not_show_it(shared):
    hub, _ = shared
    hub.app.config["ANTHIAS_BASE_DOMAIN"] = "signage.test"
    assert hub.client.get(f"/q/{CODE}", headers={"Host": "beta.signage.test"}
                          ).status_code == 404
