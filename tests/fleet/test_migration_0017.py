"""Migration 0017 on a cloud that already has commands and devices: old commands get their
expiry, and of two active devices sharing a key only the newest stays linked."""

from __future__ import annotations

import datetime as dt
import importlib

from anthias_edge.models import Device, DeviceCommand
from tests.fleet.conftest import as_tenant, make_device

MIGRATION = importlib.import_module("anthias_edge.migrations.0017_fleet_leftovers")
KEY = "k" * 43


def as_before_0017(world) -> None:
    """Drop the index 0017 made, so the duplicate keys 0017 must mend can be written."""
    database = world.runtime.database
    with world.db():
        database.execute_sql('DROP INDEX IF EXISTS "devices_public_key_active"')


def device(world, tenant_id: str, name: str, status: str = "active") -> str:
    """A device with the shared key ``KEY``, written as the hub would."""
    with as_tenant(world, tenant_id):
        return Device.create(tenant=tenant_id, name=name, public_key=KEY, status=status,
                             linked_via="code", created_at=world.runtime.clock()).device_id


def run_0017(world) -> None:
    database = world.runtime.database
    with world.db(), database.atomic():
        MIGRATION.up(None, database)


def test_old_commands_expire_a_day_after_they_were_queued(cloud, clock):
    device = make_device(cloud, cloud.a)
    queued = clock() - dt.timedelta(days=30)
    with as_tenant(cloud, cloud.a):
        DeviceCommand.create(tenant=cloud.a, device_id=device, command="reboot",
                             created_at=queued, expires_at=None)

    run_0017(cloud)

    with as_tenant(cloud, cloud.a):
        command = DeviceCommand.get()
    assert command.expires_at == queued + dt.timedelta(days=1)
    assert command.status == "pending"


def test_of_two_active_devices_with_one_key_the_newest_stays(cloud, clock):
    as_before_0017(cloud)
    older = device(cloud, cloud.a, "Older")
    clock.move(seconds=5)
    newer = device(cloud, cloud.b, "Newer")
    revoked = device(cloud, cloud.a, "Long gone", status="revoked")
    with as_tenant(cloud, cloud.a):
        DeviceCommand.create(tenant=cloud.a, device_id=older, command="next")

    run_0017(cloud)

    with as_tenant(cloud, cloud.a):
        assert Device.get_by_id(older).status == "revoked"
        assert Device.get_by_id(older).command_version == 1
        assert Device.get_by_id(revoked).status == "revoked"
        assert DeviceCommand.get().status == "expired"
    with as_tenant(cloud, cloud.b):
        assert Device.get_by_id(newer).status == "active"
    database = cloud.runtime.database
    with cloud.db():
        indexes = {i.name: (i.columns, i.unique) for i in database.get_indexes("devices")}
    assert indexes["devices_public_key_active"] == (["public_key"], True)
