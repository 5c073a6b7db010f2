"""On PostgreSQL the database itself keeps each tenant's fleet apart (migration 0013).

A request runs as ``anthias_app`` with its tenant set: it sees and writes only that tenant's
devices, codes, tokens, commands, inventory and plays, even with no ``WHERE tenant_id``;
with no tenant it sees none of them, only device codes nobody has claimed. The lookups that
cross tenants answer one tenant for one secret's hash, and nothing for a wrong one.
"""

from __future__ import annotations

import datetime as dt

import pytest
from peewee import ProgrammingError

from anthias_edge.models import DeviceCode
from anthias_edge.services.fleet import EnrolmentService, start_device_code
from anthias_edge.services.fleet.codes import digest
from tests.fleet.conftest import add_asset, add_play, as_hub, as_tenant, make_device, public_key

pytestmark = pytest.mark.postgres

TABLES = ("devices", "device_pairing_codes", "fleet_tokens", "device_commands",
          "device_assets", "device_plays")


def rows(world, statement, params=()):
    cursor = world.runtime.database.execute_sql(statement, params)
    return cursor.fetchall() if cursor.description else []


@pytest.fixture
def both(cloud, clock):
    """Each tenant with a device (and its inventory, a play, a command), a code and a token."""
    made = {}
    for tenant in (cloud.a, cloud.b):
        device = make_device(cloud, tenant, f"screen of {tenant[:4]}")
        add_asset(cloud, tenant, device, "menu", "Menu")
        add_play(cloud, tenant, device, f"play-{tenant}", "menu", clock())
        with as_tenant(cloud, tenant):
            service = EnrolmentService(tenant, clock=clock)
            code = service.create_pairing_code().code
            token = service.create_fleet_token("t", 2, clock() + dt.timedelta(days=1)).secret
            rows(cloud, "INSERT INTO device_commands (command_id, tenant_id, device_id, "
                        "command, args, status, created_at) VALUES (%s, %s, %s, 'reload', "
                        "'{}', 'pending', now())", (f"cmd-{tenant}", tenant, device))
        made[tenant] = {"device": device, "code": code, "token": token}
    return made


def test_each_tenant_sees_only_its_own_fleet_rows_without_asking(cloud, both):
    for tenant in (cloud.a, cloud.b):
        with as_tenant(cloud, tenant):
            seen = {table: {row[0] for row in rows(cloud, f"SELECT tenant_id FROM {table}")}
                    for table in TABLES}
        assert seen == {table: {tenant} for table in TABLES}


def test_no_tenant_sees_no_fleet_rows_but_unclaimed_device_codes(cloud, both):
    with as_hub(cloud):
        start_device_code(public_key(), "Kiosk")
    with as_hub(cloud):
        counts = {table: rows(cloud, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES}
        codes = rows(cloud, "SELECT tenant_id FROM device_codes")
    assert counts == dict.fromkeys(TABLES, 0)
    assert codes == [(None,)]


def test_a_tenant_cannot_write_rows_of_another_tenant(cloud, both):
    other = both[cloud.b]["device"]
    with as_tenant(cloud, cloud.a):
        changed = rows(cloud, "UPDATE devices SET name = 'taken' WHERE device_id = %s "
                              "RETURNING device_id", (other,))
        deleted = rows(cloud, "DELETE FROM device_plays RETURNING play_id")
    assert changed == [] and deleted == [(f"play-{cloud.a}",)]
    with pytest.raises(ProgrammingError), as_tenant(cloud, cloud.a):
        rows(cloud, "INSERT INTO devices (device_id, tenant_id, name, public_key, created_at) "
                    "VALUES ('intruder', %s, 'x', 'k', now())", (cloud.b,))
    with as_tenant(cloud, cloud.b):
        assert rows(cloud, "SELECT name FROM devices") == [(f"screen of {cloud.b[:4]}",)]
        assert rows(cloud, "SELECT count(*) FROM device_plays") == [(1,)]


def test_a_claimed_device_code_belongs_to_its_tenant_only(cloud, both):
    with as_hub(cloud):
        ticket = start_device_code(public_key(), "Kiosk")
    with as_tenant(cloud, cloud.a):
        rows(cloud, "UPDATE device_codes SET tenant_id = %s, claimed_at = now()", (cloud.a,))
    with as_hub(cloud):
        assert DeviceCode.select().count() == 0
    with as_tenant(cloud, cloud.b):
        assert DeviceCode.select().count() == 0
    with as_hub(cloud):
        start_device_code(public_key(), "Another kiosk")
    # b sees the new unclaimed code, but may claim it only for itself.
    with pytest.raises(ProgrammingError), as_tenant(cloud, cloud.b):
        rows(cloud, "UPDATE device_codes SET tenant_id = %s WHERE tenant_id IS NULL",
             (cloud.a,))
    with as_hub(cloud):
        found = rows(cloud, "SELECT anthias_device_code_tenant(%s)",
                     (digest(ticket.poll_token),))
    assert found == [(cloud.a,)]


def test_the_lookups_answer_the_owner_of_a_hash_and_nothing_for_a_wrong_one(cloud, both):
    with as_hub(cloud):
        answers = {
            "code a": rows(cloud, "SELECT anthias_pairing_code_tenant(%s)",
                           (digest(both[cloud.a]["code"]),)),
            "token b": rows(cloud, "SELECT anthias_fleet_token_tenant(%s)",
                            (digest(both[cloud.b]["token"]),)),
            "device a": rows(cloud, "SELECT anthias_device_tenant(%s)",
                             (both[cloud.a]["device"],)),
            "plain code": rows(cloud, "SELECT anthias_pairing_code_tenant(%s)",
                               (both[cloud.a]["code"],)),
            "wrong": rows(cloud, "SELECT anthias_fleet_token_tenant(%s)", (digest("x"),)),
        }
    assert answers == {"code a": [(cloud.a,)], "token b": [(cloud.b,)],
                       "device a": [(cloud.a,)], "plain code": [(None,)], "wrong": [(None,)]}

