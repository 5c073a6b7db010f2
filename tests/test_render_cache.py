"""Reused list bodies never outlive a write, from this connection or another one."""

import datetime as dt
import sqlite3
from types import SimpleNamespace

from anthias_edge.db import is_postgresql
from anthias_edge.play_windows import next_change
from anthias_edge.render_cache import DataGeneration, RenderCache
from tests.helpers import v2_asset

UTC = dt.UTC


def test_a_write_through_the_api_is_seen_by_the_next_list(client):
    assert client.get("/api/v2/assets").get_json() == []
    client.post("/api/v2/assets", json=v2_asset(name="first"))
    assert [a["name"] for a in client.get("/api/v2/assets").get_json()] == ["first"]
    client.patch(f"/api/v2/assets/{client.get('/api/v2/assets').get_json()[0]['asset_id']}",
                 json={"name": "renamed"})
    assert [a["name"] for a in client.get("/api/v1/assets").get_json()] == ["renamed"]


def test_a_write_by_another_process_is_seen_by_the_next_list(app, client, home):
    client.post("/api/v2/assets", json=v2_asset(name="before"))
    assert client.get("/api/v2/assets").get_json()[0]["name"] == "before"
    runtime = app.extensions["anthias"]
    if is_postgresql(runtime.database):
        runtime.database.execute_sql("UPDATE assets SET name = 'outside'")
    else:
        other = sqlite3.connect(runtime.settings.database_path)
        with other:
            other.execute("UPDATE assets SET name = 'outside'")
        other.close()
    assert client.get("/api/v2/assets").get_json()[0]["name"] == "outside"


def test_the_generation_moves_only_when_something_committed(app):
    runtime = app.extensions["anthias"]
    generation = DataGeneration(runtime.database)
    with runtime.database.connection_context():
        runtime.database.execute_sql("CREATE TABLE probe_table (x int)")
        first = generation.current()
        if generation._enabled:
            assert generation.current() == first
            runtime.database.execute_sql("INSERT INTO probe_table VALUES (1)")
            assert generation.current() == first + 1
        else:
            assert generation.current() != first


def test_the_cache_rebuilds_when_a_schedule_edge_passes(app):
    runtime = app.extensions["anthias"]
    cache = RenderCache(DataGeneration(runtime.database))
    now = dt.datetime(2030, 1, 1, 12, 0)
    builds = []

    def build():
        builds.append(1)
        return f"body{len(builds)}".encode(), now + dt.timedelta(seconds=10)

    with runtime.database.connection_context():
        assert cache.get_or_build(("k",), now, build) [0] == b"body1"
        later = now + dt.timedelta(seconds=11)
        assert cache.get_or_build(("k",), later, build) [0] == b"body2"
    assert len(builds) == 2


def _asset(**fields):
    base = {"start_date": None, "end_date": None, "play_days": [1, 2, 3, 4, 5, 6, 7],
            "play_time_from": None, "play_time_to": None}
    base.update(fields)
    return SimpleNamespace(**base)


def test_next_change_is_the_nearest_date_edge():
    now = dt.datetime(2030, 1, 1, 12, 0)
    asset = _asset(start_date=now - dt.timedelta(days=1), end_date=now + dt.timedelta(hours=2))
    assert next_change(asset, now, UTC, dt.timedelta(days=1)) == now + dt.timedelta(hours=2)


def test_next_change_of_a_daily_window_is_its_next_edge_in_local_time():
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    now = dt.datetime(2030, 1, 1, 12, 0)  # 13:00 in Berlin (UTC+1 in winter)
    asset = _asset(start_date=now - dt.timedelta(days=1), end_date=now + dt.timedelta(days=9),
                   play_time_from="14:30:00", play_time_to="18:00:00")
    assert next_change(asset, now, berlin, dt.timedelta(days=1)) == dt.datetime(2030, 1, 1, 13, 30)
