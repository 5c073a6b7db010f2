"""The fleet view in v3: list with status, rename, revoke, commands, inventory, plays, reports.

Devices, inventory and plays are written as the hub writes them (directly, inside the
tenant); everything else goes through HTTP as a console would.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from anthias_edge.models import AuditLog, Device, DeviceCommand
from anthias_edge.services.fleet.devices import command_status
from tests.fleet.conftest import add_asset, add_play, as_tenant, call, make_device

DEVICES = "/api/v3/devices"


def seen(clock, seconds):
    return clock() - dt.timedelta(seconds=seconds)


@pytest.fixture
def fleet(cloud, clock):
    """alpha: four devices (online, stale, offline, never seen) and beta: one of its own."""
    ids = {
        "online": make_device(cloud, cloud.a, "Lobby", last_seen_at=seen(clock, 59)),
        "stale": make_device(cloud, cloud.a, "Café", last_seen_at=seen(clock, 61)),
        "offline": make_device(cloud, cloud.a, "Basement", last_seen_at=seen(clock, 601)),
        "never": make_device(cloud, cloud.a, "Attic"),
        "beta": make_device(cloud, cloud.b, "Beta secret screen"),
    }
    add_asset(cloud, cloud.a, ids["online"], "menu", "Menu", play_order=1, is_enabled=True)
    add_asset(cloud, cloud.a, ids["online"], "promo", "Promo", play_order=0, is_shared=True,
              media_sha256="ab" * 32, media_size=1234)
    add_asset(cloud, cloud.b, ids["beta"], "beta-asset", "Beta asset")
    return ids


def test_the_list_shows_each_devices_status_by_when_it_was_last_seen(cloud, fleet):
    listed = call(cloud, "GET", DEVICES).get_json()

    by_name = {item["name"]: item["status"] for item in listed["items"]}
    assert by_name == {"Attic": "offline", "Basement": "offline", "Café": "stale",
                       "Lobby": "online"}
    assert [item["name"] for item in listed["items"]] == ["Attic", "Basement", "Café", "Lobby"]
    assert listed["next_cursor"] is None
    assert "Beta secret screen" not in str(listed)


@pytest.mark.parametrize(("status", "names"), [("online", ["Lobby"]), ("stale", ["Café"]),
                                               ("offline", ["Attic", "Basement"]),
                                               ("revoked", [])])
def test_the_list_filters_by_status_as_the_status_is_computed(cloud, fleet, status, names):
    listed = call(cloud, "GET", f"{DEVICES}?status={status}").get_json()["items"]
    assert [item["name"] for item in listed] == names
    assert {item["status"] for item in listed} <= {status}


def test_the_list_pages_with_a_cursor_and_searches_names(cloud, fleet):
    first = call(cloud, "GET", f"{DEVICES}?limit=3").get_json()
    second = call(cloud, "GET", f"{DEVICES}?limit=3&cursor={first['next_cursor']}").get_json()
    found = call(cloud, "GET", f"{DEVICES}?q=AF").get_json()["items"]

    assert [i["name"] for i in first["items"] + second["items"]] == [
        "Attic", "Basement", "Café", "Lobby"]
    assert second["next_cursor"] is None
    assert [i["name"] for i in found] == ["Café"]
    assert call(cloud, "GET", f"{DEVICES}?q=%25").get_json()["items"] == []


@pytest.mark.parametrize("query", ["status=asleep", "limit=0", "limit=201", "limit=x",
                                   "cursor=nonsense", "cursor=WyJwIiwiYSIsImIiXQ", "q="])
def test_bad_list_queries_are_400(cloud, fleet, query):
    response = call(cloud, "GET", f"{DEVICES}?{query}")
    assert response.status_code == 400, query
    assert response.get_json()["error"]["code"] == "validation_error"


def test_a_device_shows_its_health_and_what_is_on_screen(cloud, clock):
    device_id = make_device(cloud, cloud.a, "Lobby", last_seen_at=clock(), address="10.0.0.7",
                            software_version="1.4.0", free_disk_bytes=5 * 10**9,
                            on_screen_asset_id="menu", on_screen_name="Menu",
                            last_play_at=clock())
    shown = call(cloud, "GET", f"{DEVICES}/{device_id}").get_json()

    assert shown["on_screen"] == {"asset_id": "menu", "name": "Menu"}
    assert (shown["address"], shown["software_version"], shown["free_disk_bytes"]) == (
        "10.0.0.7", "1.4.0", 5 * 10**9)
    assert shown["status"] == "online" and shown["last_play_at"].endswith("Z")


def test_rename_and_revoke_are_audited_and_revoke_expires_pending_commands(cloud, fleet):
    device = f"{DEVICES}/{fleet['online']}"
    renamed = call(cloud, "PATCH", device, json={"name": "  Front desk  "})
    queued = call(cloud, "POST", f"{device}/commands", json={"command": "reload"})
    revoked = call(cloud, "DELETE", device)
    again = call(cloud, "DELETE", device)

    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Front desk"
    assert queued.status_code == 201 and queued.get_json()["status"] == "pending"
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert again.status_code == 200 and again.get_json()["revoked_at"] == revoked.get_json()[
        "revoked_at"]
    commands = call(cloud, "GET", f"{device}/commands").get_json()["items"]
    assert [c["status"] for c in commands] == ["expired"]
    refused = call(cloud, "POST", f"{device}/commands", json={"command": "next"})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "device_not_active"
    listed = call(cloud, "GET", f"{DEVICES}?status=revoked").get_json()["items"]
    assert [item["name"] for item in listed] == ["Front desk"]
    with as_tenant(cloud, cloud.a):
        actions = [row.action for row in AuditLog.select().where(AuditLog.tenant == cloud.a)
                   .order_by(AuditLog.id)]
    assert actions[-3:] == ["device.rename", "device.command", "device.revoke"]


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": 5},
                                  {"name": "ok", "extra": True}, {"name": "bell\x07"}])
def test_rename_refuses_bad_names(cloud, fleet, body):
    response = call(cloud, "PATCH", f"{DEVICES}/{fleet['online']}", json=body)
    assert response.status_code == 400, body


def test_commands_bump_the_devices_command_version_and_list_newest_first(cloud, fleet, clock):
    device = f"{DEVICES}/{fleet['online']}"
    for body in ({"command": "next"}, {"command": "previous"}, {"command": "reboot"},
                 {"command": "show_asset", "args": {"asset_id": "menu"}}):
        assert call(cloud, "POST", f"{device}/commands", json=body).status_code == 201
        clock.move(seconds=1)

    listed = call(cloud, "GET", f"{device}/commands?limit=2").get_json()["items"]

    assert [(c["command"], c["args"]) for c in listed] == [
        ("show_asset", {"asset_id": "menu"}), ("reboot", {})]
    with as_tenant(cloud, cloud.a):
        assert Device.get_by_id(fleet["online"]).command_version == 4
        assert DeviceCommand.select().where(DeviceCommand.status == "pending").count() == 4


def test_a_command_expires_after_a_day_or_when_it_was_told(cloud, fleet, clock):
    device = f"{DEVICES}/{fleet['offline']}"
    queued_at = clock()
    daily = call(cloud, "POST", f"{device}/commands", json={"command": "reboot"}).get_json()
    brief = call(cloud, "POST", f"{device}/commands",
                 json={"command": "next", "expires_in_s": 600}).get_json()

    assert daily["expires_at"] == (queued_at + dt.timedelta(days=1)).isoformat() + "Z"
    assert brief["expires_at"] == (queued_at + dt.timedelta(minutes=10)).isoformat() + "Z"
    assert daily["status"] == brief["status"] == "pending"
    clock.move(minutes=10)
    statuses = {c["command"]: c["status"]
                for c in call(cloud, "GET", f"{device}/commands").get_json()["items"]}
    assert statuses == {"reboot": "pending", "next": "expired"}
    clock.move(days=1)  # the screen stays away longer than a day (the login would lapse too)
    with as_tenant(cloud, cloud.a):
        statuses = {c.command: command_status(c, clock()) for c in DeviceCommand.select()}
        assert statuses == {"reboot": "expired", "next": "expired"}
        summaries = [row.summary for row in AuditLog.select()
                     .where(AuditLog.action == "device.command").order_by(AuditLog.id)]
    assert summaries[-1] == f"next (expires {(queued_at + dt.timedelta(minutes=10)).isoformat()}Z)"


@pytest.mark.parametrize("expires_in_s", [59, 7 * 86400 + 1, 0, -1, "600", 1.5, None])
def test_a_commands_expiry_is_a_minute_to_a_week(cloud, fleet, expires_in_s):
    response = call(cloud, "POST", f"{DEVICES}/{fleet['online']}/commands",
                    json={"command": "next", "expires_in_s": expires_in_s})
    assert response.status_code == 400, response.get_json()
    assert "expires_in_s" in response.get_json()["error"]["details"]
    with as_tenant(cloud, cloud.a):
        assert DeviceCommand.select().count() == 0


def test_a_week_long_command_is_taken(cloud, fleet):
    response = call(cloud, "POST", f"{DEVICES}/{fleet['online']}/commands",
                    json={"command": "next", "expires_in_s": 7 * 86400})
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"command": "explode"}, 400, "validation_error"),
    ({}, 400, "validation_error"),
    ({"command": "next", "args": {"asset_id": "menu"}}, 400, "validation_error"),
    ({"command": "show_asset"}, 400, "validation_error"),
    ({"command": "show_asset", "args": {"asset_id": 5}}, 400, "validation_error"),
    ({"command": "show_asset", "args": {"asset_id": "menu", "x": 1}}, 400, "validation_error"),
    ({"command": "show_asset", "args": {"asset_id": "not-there"}}, 404,
     "device_asset_not_found"),
    ({"command": "show_asset", "args": {"asset_id": "beta-asset"}}, 404,
     "device_asset_not_found"),
    ({"command": "show_asset", "args": "menu"}, 400, "validation_error"),
])
def test_bad_commands_are_refused_and_nothing_is_queued(cloud, fleet, body, status, code):
    response = call(cloud, "POST", f"{DEVICES}/{fleet['online']}/commands", json=body)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["code"] == code
    with as_tenant(cloud, cloud.a):
        assert DeviceCommand.select().count() == 0
        assert Device.get_by_id(fleet["online"]).command_version == 0


def test_the_inventory_is_in_play_order(cloud, fleet):
    items = call(cloud, "GET", f"{DEVICES}/{fleet['online']}/inventory").get_json()["items"]
    assert [(i["asset_id"], i["play_order"], i["is_shared"]) for i in items] == [
        ("promo", 0, True), ("menu", 1, False)]
    assert items[0]["media_size"] == 1234
    assert call(cloud, "GET", f"{DEVICES}/{fleet['never']}/inventory").get_json() == {
        "items": []}


def test_the_play_log_pages_newest_first_and_filters_by_time(cloud, fleet, clock):
    device = fleet["online"]
    base = clock() - dt.timedelta(hours=5)
    for index in range(5):
        add_play(cloud, cloud.a, device, f"p{index}", "menu", base + dt.timedelta(hours=index))

    first = call(cloud, "GET", f"{DEVICES}/{device}/plays?limit=2").get_json()
    rest = call(cloud, "GET", f"{DEVICES}/{device}/plays?limit=2&cursor={first['next_cursor']}"
                ).get_json()
    since = (base + dt.timedelta(hours=3)).isoformat() + "Z"
    late = call(cloud, "GET", f"{DEVICES}/{device}/plays?from={since}").get_json()["items"]

    assert [p["play_id"] for p in first["items"] + rest["items"]] == ["p4", "p3", "p2", "p1"]
    assert [p["play_id"] for p in late] == ["p4", "p3"]
    assert call(cloud, "GET", f"{DEVICES}/{device}/plays?from=yesterday").status_code == 400


@pytest.mark.parametrize("path", ["", "/commands", "/inventory", "/plays"])
def test_another_tenants_device_is_not_found(cloud, fleet, path):
    for method in ("GET", "PATCH", "DELETE", "POST"):
        if path and method in ("PATCH", "DELETE"):
            continue
        if method == "POST" and path != "/commands":
            continue
        body = {"name": "mine now"} if method == "PATCH" else {"command": "reboot"}
        response = call(cloud, method, f"{DEVICES}/{fleet['beta']}{path}",
                        json=body if method in ("PATCH", "POST") else None)
        assert response.status_code == 404, (method, path)
        assert response.get_json()["error"]["code"] == "device_not_found"
    with as_tenant(cloud, cloud.b):
        beta = Device.get_by_id(fleet["beta"])
    assert (beta.name, beta.status, beta.command_version) == ("Beta secret screen", "active", 0)


def test_viewers_see_the_fleet_but_cannot_change_it(cloud, fleet, clock):
    device = f"{DEVICES}/{fleet['online']}"
    assert call(cloud, "GET", DEVICES, "viewer").status_code == 200
    assert call(cloud, "GET", f"{device}/inventory", "viewer").status_code == 200
    assert call(cloud, "GET", "/api/v3/reports/plays", "viewer").status_code == 200
    later = (clock() + dt.timedelta(days=1)).isoformat() + "Z"
    for method, path, body in [
            ("PATCH", device, {"name": "x"}), ("DELETE", device, None),
            ("POST", f"{device}/commands", {"command": "reboot"}),
            ("POST", f"{DEVICES}/claim", {"code": "ABCDEFGH"}),
            ("POST", "/api/v3/pairing-codes", {}), ("GET", "/api/v3/pairing-codes", None),
            ("POST", "/api/v3/fleet-tokens", {"name": "t", "max_devices": 1,
                                              "expires_at": later}),
            ("GET", "/api/v3/fleet-tokens", None)]:
        for role in ("viewer", "editor"):
            response = call(cloud, method, path, role, json=body)
            assert response.status_code == 403, (role, method, path)
            assert response.get_json()["error"]["code"] == "permission_denied"
    assert call(cloud, "POST", f"{device}/commands", "admin",
                json={"command": "reboot"}).status_code == 201


def test_calls_without_credentials_are_401(cloud, fleet):
    for method, path in (("GET", DEVICES), ("GET", f"{DEVICES}/{fleet['online']}"),
                         ("GET", "/api/v3/reports/plays"), ("POST", "/api/v3/pairing-codes")):
        response = cloud.client.open(path, method=method)
        assert response.status_code == 401, path


# -- proof of play -------------------------------------------------------------------------
def _report_world(cloud, fleet, clock):
    day = dt.datetime(2026, 11, 30, 9, 0)
    plays = [("a1", fleet["online"], "menu", day, 10.0),
             ("a2", fleet["online"], "menu", day + dt.timedelta(hours=3), 12.5),
             ("a3", fleet["online"], "menu", day + dt.timedelta(days=1), 10.0),
             ("a4", fleet["online"], "promo", day, None),
             ("a5", fleet["stale"], "menu", day, 8.0),
             ("a6", fleet["online"], "menu", day - dt.timedelta(days=10), 10.0)]
    for play_id, device, asset, when, duration in plays:
        add_play(cloud, cloud.a, device, play_id, asset, when, duration,
                 asset_name=asset.title())
    add_play(cloud, cloud.b, fleet["beta"], "b1", "beta-asset", day, 99.0)
    return "from=2026-11-29T00:00:00Z&to=2026-12-02T00:00:00Z"


def test_the_plays_report_counts_per_day_device_and_asset(cloud, fleet, clock):
    period = _report_world(cloud, fleet, clock)

    report = call(cloud, "GET", f"/api/v3/reports/plays?{period}").get_json()

    rows = [(r["day"], r["device_name"], r["asset_id"], r["plays"], r["duration_s"])
            for r in report["items"]]
    assert sorted(rows) == sorted([
        ("2026-11-30", "Lobby", "menu", 2, 22.5), ("2026-11-30", "Lobby", "promo", 1, 0.0),
        ("2026-11-30", "Café", "menu", 1, 8.0), ("2026-12-01", "Lobby", "menu", 1, 10.0)])
    assert report["from"] == "2026-11-29T00:00:00Z" and report["truncated"] is False
    assert "beta" not in str(report).lower()
    one = call(cloud, "GET", f"/api/v3/reports/plays?{period}&device={fleet['stale']}"
               ).get_json()["items"]
    assert [(r["device_id"], r["plays"]) for r in one] == [(fleet["stale"], 1)]
    promo = call(cloud, "GET", f"/api/v3/reports/plays?{period}&asset=promo").get_json()
    assert [r["asset_name"] for r in promo["items"]] == ["Promo"]


def test_the_plays_report_downloads_as_csv(cloud, fleet, clock):
    period = _report_world(cloud, fleet, clock)
    with as_tenant(cloud, cloud.a):
        Device.update(name="=HYPERLINK(1)").where(Device.device_id == fleet["stale"]).execute()

    by_query = call(cloud, "GET", f"/api/v3/reports/plays?{period}&format=csv")
    by_header = call(cloud, "GET", f"/api/v3/reports/plays?{period}",
                     headers={"Accept": "text/csv"})

    assert by_query.status_code == 200 and by_query.mimetype == "text/csv"
    assert by_query.headers["Content-Disposition"] == (
        'attachment; filename="plays-20261129-20261202.csv"')
    assert by_header.get_data() == by_query.get_data()
    rows = list(csv.reader(io.StringIO(by_query.get_data(as_text=True))))
    assert rows[0] == ["day", "device_id", "device_name", "asset_id", "asset_name", "plays",
                       "duration_s"]
    assert len(rows) == 5
    assert ["2026-11-30", fleet["online"], "Lobby", "menu", "Menu", "2", "22.5"] in rows
    assert "'=HYPERLINK(1)" in [row[2] for row in rows]  # not a formula in a spreadsheet
    json_by_default = call(cloud, "GET", f"/api/v3/reports/plays?{period}",
                           headers={"Accept": "*/*"})
    assert json_by_default.mimetype == "application/json"


@pytest.mark.parametrize("query", [
    "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
    "from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    "from=soon", "format=xml", "device=", "asset=" + "x" * 65])
def test_bad_report_queries_are_400(cloud, fleet, query):
    response = call(cloud, "GET", f"/api/v3/reports/plays?{query}")
    assert response.status_code == 400, query
    assert response.get_json()["error"]["code"] == "validation_error"


def test_the_default_report_period_is_the_last_week(cloud, fleet, clock):
    add_play(cloud, cloud.a, fleet["online"], "recent", "menu", clock() - dt.timedelta(days=6))
    add_play(cloud, cloud.a, fleet["online"], "old", "menu", clock() - dt.timedelta(days=8))
    report = call(cloud, "GET", "/api/v3/reports/plays").get_json()
    assert [row["plays"] for row in report["items"]] == [1]
