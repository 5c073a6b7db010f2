"""From sharing to scanning on a device: codes made through v3 open at their landing URL,
and sharing or unsharing an asset opens or closes its pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.api.v3.conftest import World
from tests.web.landing_data import scans

QR = "/api/v3/qr-content"


def landing_path(body: dict) -> str:
    return urlsplit(body["landing_url"]).path


def test_a_code_made_through_v3_opens_at_its_landing_url_and_its_count_shows_in_v3(
        world: World):
    asset = world.asset(world.a, name="Lunch menu", uri="https://example.com/lunch")
    made = world.client.post(QR, headers=world.auth(), json={
        "asset_id": asset, "description": "Served 12:00-14:00", "include_barcode": True})
    body = made.get_json()

    page = world.client.get(landing_path(body))
    by_barcode = world.client.get(f"/q/{body['barcode']}")
    shown = world.client.get(f"{QR}/{body['qr_code']}", headers=world.auth()).get_json()

    assert made.status_code == 201, body
    assert landing_path(body) == f"/q/{body['qr_code']}"
    assert page.status_code == 200
    assert "<h1>Lunch menu</h1>" in page.get_data(as_text=True)
    assert "Served 12:00-14:00" in page.get_data(as_text=True)
    assert by_barcode.status_code == 200
    assert shown["access_count"] == 2
    assert shown["last_accessed"] is not None


def test_deactivating_through_v3_closes_the_page_with_410(world: World):
    asset = world.asset(world.a)
    body = world.client.post(QR, headers=world.auth(), json={"asset_id": asset}).get_json()

    changed = world.client.patch(f"{QR}/{body['qr_code']}", headers=world.auth(),
                                 json={"is_active": False})

    assert changed.status_code == 200, changed.get_json()
    assert world.client.get(landing_path(body)).status_code == 410
    assert scans(world.app, body["qr_code"])[0] == 0


def test_sharing_an_asset_opens_its_share_code_and_unsharing_closes_both_codes(world: World):
    asset = world.asset(world.a, name="Fair poster", uri="https://example.com/fair")
    shared = world.client.patch(f"/api/v3/assets/{asset}", json={"is_shared": True},
                                headers=world.auth()).get_json()
    code = world.client.get(f"{QR}?asset={asset}", headers=world.auth()).get_json()["items"][0]

    by_share_code = world.client.get(f"/q/{shared['share_code']}")
    by_qr_code = world.client.get(f"/q/{code['qr_code']}")
    world.client.patch(f"/api/v3/assets/{asset}", json={"is_shared": False},
                       headers=world.auth())

    assert by_share_code.status_code == 200
    assert "<h1>Fair poster</h1>" in by_share_code.get_data(as_text=True)
    assert by_qr_code.status_code == 200
    assert scans(world.app, code["qr_code"])[0] == 2  # both visits count on the asset's code
    assert world.client.get(f"/q/{shared['share_code']}").status_code == 404
    assert world.client.get(f"/q/{code['qr_code']}").status_code == 410
