"""Reading the player's assets from a real SQLite database built by the migrations."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from anthias_edge.models import Asset
from anthias_edge.services.tenants import local_tenant_id
from player.playlist_source import load_items_from_db
from player.rotation import ALL_DAYS, Rotation

NOW = dt.datetime(2030, 6, 5, 12, 0)
DAY = dt.timedelta(days=1)


def make_asset(asset_id: str, **fields) -> Asset:
    """An asset of the device's own (local) tenant, which the player plays."""
    values = {"tenant": local_tenant_id(), "name": asset_id,
              "uri": f"https://example.com/{asset_id}", "mimetype": "webpage",
              "duration": 10, "start_date": NOW - DAY, "end_date": NOW + DAY, "is_enabled": True}
    values.update(fields)
    return Asset.create(asset_id=asset_id, **values)


def test_every_column_the_player_needs_is_read_and_converted(database):
    make_asset("a", play_order=3, nocache=True, skip_asset_check=True, play_days=[1, 5],
               play_time_from="09:00:00", play_time_to="17:00:00", skip_ssl_verify=True,
               refresh_interval_s=60, custom_headers={"X-Token": "t"}, is_processing=True)
    [item] = load_items_from_db()
    assert (item.asset_id, item.name, item.uri, item.mimetype, item.duration) == (
        "a", "a", "https://example.com/a", "webpage", 10)
    assert (item.start_date, item.end_date) == (NOW - DAY, NOW + DAY)
    assert (item.is_enabled, item.is_processing, item.nocache, item.skip_asset_check,
            item.skip_ssl_verify) == (True, True, True, True, True)
    assert (item.play_order, item.play_days, item.play_time_from, item.play_time_to) == (
        3, (1, 5), "09:00:00", "17:00:00")
    assert (item.refresh_interval_s, dict(item.custom_headers)) == (60, {"X-Token": "t"})


def test_defaults_nulls_and_unreadable_values_become_safe_values(database):
    make_asset("plain", start_date=None, end_date=None)
    make_asset("broken")
    database.execute_sql(
        "UPDATE assets SET start_date = 'not a date', play_days = '[1,', custom_headers = '[]'"
        " WHERE asset_id = 'broken'")
    plain, broken = load_items_from_db()
    assert (plain.start_date, plain.end_date, plain.play_days) == (None, None, ALL_DAYS)
    assert dict(plain.custom_headers) == {}
    assert (broken.start_date, broken.end_date) == (None, NOW + DAY)
    assert (broken.play_days, dict(broken.custom_headers)) == (ALL_DAYS, {})


def test_dates_stored_with_an_offset_are_read_as_naive_utc(database):
    make_asset("zoned")
    database.execute_sql("UPDATE assets SET start_date = ? WHERE asset_id = ?",
                         ("2030-06-04T14:00:00+02:00", "zoned"))
    [item] = load_items_from_db()
    assert item.start_date == dt.datetime(2030, 6, 4, 12, 0)


def test_assets_come_in_insertion_order_and_only_for_the_asked_tenant(database):
    for asset_id in ("z", "a", "m"):
        make_asset(asset_id)
    make_asset("other", tenant="t1")
    assert [i.asset_id for i in load_items_from_db()] == ["z", "a", "m"]
    assert [i.asset_id for i in load_items_from_db("t1")] == ["other"]


def test_a_rotation_on_the_database_sees_a_new_asset_after_the_change_notice(database):
    make_asset("a")
    rotation = Rotation(load_items_from_db, ZoneInfo("UTC"))
    assert rotation.next_asset(NOW).asset_id == "a"
    make_asset("b", play_order=1)
    assert rotation.next_asset(NOW).asset_id == "a"
    rotation.mark_data_changed()
    assert [rotation.next_asset(NOW).asset_id for _ in range(3)] == ["a", "b", "a"]
