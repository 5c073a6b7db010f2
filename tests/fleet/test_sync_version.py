"""``tenants.sync_version`` moves with what a tenant's devices pull, in the same transaction.

QR codes of a device's assets (cloud, PostgreSQL), subscription changes, an operator's
plan or limit change, and plan catalogue changes bump it; a rolled-back change does not;
unrelated tenant edits neither bump nor lose a bump made meanwhile.
"""

from __future__ import annotations

import datetime as dt

import pytest

from anthias_edge.errors import ValidationError
from anthias_edge.models import QRContent, Tenant
from anthias_edge.services import sync_version
from anthias_edge.services.billing.plans import set_plan
from anthias_edge.services.billing.state import NO_EVENTS, change_subscription
from anthias_edge.services.fleet.errors import DeviceAssetNotFound, DeviceNotFound
from anthias_edge.services.qr_content import QRContentService
from anthias_edge.timeutil import utcnow
from tests.fleet.conftest import add_asset, as_tenant, call, make_device

QR = "/api/v3/qr-content"


def version(world, tenant):
    with world.db():
        return Tenant.get_by_id(tenant).sync_version


@pytest.fixture
def screen(cloud):
    """alpha's device with an asset ``menu`` in its inventory; beta's with ``beta-menu``."""
    device = make_device(cloud, cloud.a, "Lobby")
    add_asset(cloud, cloud.a, device, "menu", "Menu")
    theirs = make_device(cloud, cloud.b, "Beta")
    add_asset(cloud, cloud.b, theirs, "beta-menu", "Beta menu")
    return {"device": device, "theirs": theirs}


@pytest.mark.postgres
def test_codes_of_a_devices_assets_bump_the_version_on_every_change(cloud, screen):
    before = version(cloud, cloud.a)
    made = call(cloud, "POST", QR, json={"asset_id": "menu", "device_id": screen["device"]})
    assert made.status_code == 201, made.get_json()
    code = made.get_json()
    after_create = version(cloud, cloud.a)
    call(cloud, "PATCH", f"{QR}/{code['qr_code']}", json={"title": "Today's menu"})
    after_update = version(cloud, cloud.a)
    call(cloud, "DELETE", f"{QR}/{code['qr_code']}")
    after_delete = version(cloud, cloud.a)

    assert (code["device_id"], code["asset_id"], code["title"]) == (
        screen["device"], "menu", "Menu")
    assert [after_create, after_update, after_delete] == [before + 1, before + 2, before + 3]
    assert version(cloud, cloud.b) == 0


@pytest.mark.postgres
def test_a_devices_code_needs_an_asset_that_device_has_and_a_device_of_the_tenant(cloud,
                                                                                  screen):
    cases = [({"asset_id": "nope", "device_id": screen["device"]}, "device_asset_not_found"),
             ({"asset_id": "beta-menu", "device_id": screen["device"]},
              "device_asset_not_found"),
             ({"asset_id": "beta-menu", "device_id": screen["theirs"]}, "device_not_found"),
             ({"asset_id": "menu", "device_id": "no-such-device"}, "device_not_found")]
    for body, code in cases:
        response = call(cloud, "POST", QR, json=body)
        assert response.status_code == 404, body
        assert response.get_json()["error"]["code"] == code
    assert call(cloud, "POST", QR, json={"asset_id": "menu", "device_id": ""}
                ).status_code == 400
    with as_tenant(cloud, cloud.a):
        assert QRContent.select().count() == 0
    assert version(cloud, cloud.a) == 0


@pytest.mark.postgres
def test_the_qr_list_filters_by_device(cloud, screen):
    own = call(cloud, "POST", QR, json={"asset_id": "menu", "device_id": screen["device"]})
    cloud_asset = cloud.asset(cloud.a)
    call(cloud, "POST", QR, json={"asset_id": cloud_asset})

    listed = call(cloud, "GET", f"{QR}?device={screen['device']}").get_json()["items"]

    assert [item["qr_code"] for item in listed] == [own.get_json()["qr_code"]]


def test_codes_of_cloud_assets_leave_the_version_alone(cloud):
    asset = cloud.asset(cloud.a)
    assert call(cloud, "POST", QR, json={"asset_id": asset}).status_code == 201
    assert version(cloud, cloud.a) == 0


@pytest.mark.sqlite_only
def test_sqlite_keeps_codes_to_the_tenants_own_assets(cloud, screen):
    response = call(cloud, "POST", QR, json={"asset_id": "menu", "device_id": screen["device"]})
    assert response.status_code == 400
    assert "device_id" in response.get_json()["error"]["details"]


def test_a_subscription_change_bumps_the_version(cloud):
    with as_tenant(cloud, cloud.a):
        change_subscription(None, cloud.a, {"plan": "basic", "status": "trialing"},
                            reason="trial", events=NO_EVENTS, clock=utcnow)
    assert version(cloud, cloud.a) == 1 and version(cloud, cloud.b) == 0


def test_an_operators_limit_change_bumps_it_but_a_rename_does_not(cloud):
    with cloud.db():
        cloud.service(cloud.a).set_plan(max_devices=9)
    after_limit = version(cloud, cloud.a)
    renamed = call(cloud, "PATCH", "/api/v3/tenant", json={"name": "Alpha Screens"})

    assert renamed.status_code == 200
    assert (after_limit, version(cloud, cloud.a)) == (1, 1)


def test_a_tenant_save_keeps_a_bump_made_since_it_was_read(cloud):
    with cloud.db():
        service = cloud.service(cloud.a)
        stale = service.tenant()
        sync_version.bump(cloud.a)
        stale.name = "Renamed"
        service._save_tenant(stale, ["name"])
    assert version(cloud, cloud.a) == 1


def test_a_plan_catalogue_change_bumps_every_tenant(cloud):
    with cloud.db():
        set_plan("basic", {"max_devices": 7})
    assert (version(cloud, cloud.a), version(cloud, cloud.b)) == (1, 1)


def test_a_refused_change_bumps_nothing(cloud, screen):
    with cloud.db(), pytest.raises((ValidationError, DeviceNotFound, DeviceAssetNotFound)):
        QRContentService(cloud.a).create("menu", device_id=screen["device"],
                                         expires_at=dt.datetime(2000, 1, 1))
    with cloud.db(), pytest.raises(ValidationError):
        cloud.service(cloud.a).set_plan(max_devices=-1)
    assert version(cloud, cloud.a) == 0
