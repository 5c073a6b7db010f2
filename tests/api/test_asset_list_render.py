"""A list re-rendered after a change is byte for byte a list rendered from scratch.

The server keeps each row's JSON between renders (api/asset_list_render.py). Each check here
compares every list version of a server that has been serving all along with a new server
on the same database (nothing kept) and with formatting every asset one by one, after
edits, a create that renumbers, a reorder, a delete, and schedule edges passing by.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import peewee
import pytest

from anthias_edge.api.asset_format import SHOWN_COLUMNS, v1_asset, v2_asset
from anthias_edge.api.asset_list_render import AssetListRenderer
from anthias_edge.api.legacy.http import dumps
from anthias_edge.models import Asset
from anthias_edge.models.base import JSONTextField
from tests.helpers import v2_asset as v2_body

LISTS = {"/api/v1/assets": v1_asset, "/api/v1.1/assets": v1_asset,
         "/api/v1.2/assets": v1_asset, "/api/v2/assets": v2_asset}
START = dt.datetime(2030, 1, 7, 8, 30)  # a Monday, in UTC as the server keeps time


class Clock:
    """The servers' clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(params=["Etc/UTC", "Europe/Berlin"])
def zone_file(request, tmp_path: Path) -> str:
    path = tmp_path / "zone"
    path.write_text(request.param + "\n")
    return str(path)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def serving(make_app, clock, zone_file):
    """A server whose lists have been rendered (and their rows kept) from the start."""
    app = make_app()
    runtime = app.extensions["anthias"]
    runtime.clock, runtime.zone_file = clock, zone_file
    return app


def bodies(app) -> dict[str, bytes]:
    client = app.test_client()
    answers = {path: client.get(path) for path in LISTS}
    assert all(answer.status_code == 200 for answer in answers.values())
    return {path: answer.data for path, answer in answers.items()}


def assert_as_from_scratch(serving, make_app, clock, zone_file) -> list[dict]:
    """The serving server's lists equal a new server's and the one-by-one formatting."""
    seen = bodies(serving)
    fresh = make_app()
    runtime = fresh.extensions["anthias"]
    runtime.clock, runtime.zone_file = clock, zone_file
    assert seen == bodies(fresh)
    with fresh.app_context():
        assets = runtime.assets().list_assets()
        for path, formatter in LISTS.items():
            expected = dumps([formatter(a, clock.now, runtime.zone) for a in assets]).encode()
            assert seen[path] == expected, path
    return serving.test_client().get("/api/v2/assets").get_json()


def test_lists_after_edits_creates_reorders_deletes_and_schedule_edges_equal_fresh_renders(
        serving, make_app, clock, zone_file):
    client = serving.test_client()
    check = lambda: assert_as_from_scratch(serving, make_app, clock, zone_file)  # noqa: E731

    def create(**fields) -> str:
        response = client.post("/api/v2/assets", json=v2_body(**fields))
        assert response.status_code == 201, response.get_json()
        return response.get_json()["asset_id"]

    plain = create(name="plain")
    ending = create(name="ends at 09:15", end_date="2030-01-07T09:15:00Z")
    window = create(name="weekdays from 09:45", play_time_from="09:45:00",
                    play_time_to="17:00:00", play_days=[1, 2, 3, 4, 5])
    create(name="Grüße\u2028aus Köln", metadata={"play_order": 7, "ü": ["\u2029"]})
    disabled = create(name="off", is_enabled=False)
    assert [a["name"] for a in check()][:2] == ["plain", "ends at 09:15"]

    client.patch(f"/api/v2/assets/{plain}", json={"name": "renamed", "duration": 33})
    assert check()[0]["name"] == "renamed"

    create(name="new first", play_order=0)  # renumbers every active asset after it
    shown = check()
    assert min((a for a in shown if a["is_active"]), key=lambda a: a["play_order"])["name"] \
        == "new first"

    client.post("/api/v2/assets/order", json={"ids": f"{window},{ending},{plain}"})
    assert {a["asset_id"]: a["play_order"] for a in check()}[window] == 0

    assert client.delete(f"/api/v2/assets/{disabled}").status_code == 204
    assert disabled not in [a["asset_id"] for a in check()]

    clock.now = dt.datetime(2030, 1, 7, 9, 20)  # the end date has passed: no write at all
    assert {a["asset_id"]: a["is_active"] for a in check()}[ending] is False

    clock.now = dt.datetime(2030, 1, 7, 9, 50)  # the play window opens (UTC; 10:50 in Berlin)
    check()

    clock.now = dt.datetime(2030, 1, 12, 10, 0)  # Saturday: outside the weekday window
    assert {a["asset_id"]: a["is_active"] for a in check()}[window] is False

    client.patch(f"/api/v2/assets/{window}", json={"play_days": [6]})
    assert {a["asset_id"]: a["is_active"] for a in check()}[window] is True


def test_a_row_the_encoder_must_escape_makes_the_whole_list_escaped_as_before(serving):
    client = serving.test_client()
    for name in ("Köln", "Zürich"):
        client.post("/api/v2/assets", json=v2_body(name=name))
    runtime = serving.extensions["anthias"]
    now, zone = runtime.clock(), runtime.zone

    def lone_surrogate(asset, now, zone):  # no stored text can hold one; an echo could
        shown = v2_asset(asset, now, zone)
        if shown["name"] == "Zürich":
            shown["uri"] = "\ud800"
        return shown

    with serving.app_context():
        assets = runtime.assets().list_assets()
        expected = dumps([lone_surrogate(a, now, zone) for a in assets]).encode()
        body, _ = AssetListRenderer(dt.timedelta(hours=1), SHOWN_COLUMNS).render(
            runtime.database, runtime.local_tenant_id, lone_surrogate, dumps, now, zone)
    assert body == expected
    assert b"K\\u00f6ln" in body and b"\\ud800" in body


def test_lists_too_long_to_keep_are_still_rendered_whole_and_right(serving):
    client = serving.test_client()
    ids = [client.post("/api/v2/assets", json=v2_body(name=f"Screen {n}")).get_json()["asset_id"]
           for n in range(3)]
    runtime = serving.extensions["anthias"]
    renderer = AssetListRenderer(dt.timedelta(hours=1), SHOWN_COLUMNS, max_kept_rows=2)

    def both() -> tuple[bytes, bytes]:
        now, zone = runtime.clock(), runtime.zone
        with serving.app_context():
            expected = dumps([v1_asset(a, now, zone)
                              for a in runtime.assets().list_assets()]).encode()
            body, _ = renderer.render(runtime.database, runtime.local_tenant_id, v1_asset,
                                      dumps, now, zone)
        return body, expected

    first = both()
    client.patch(f"/api/v2/assets/{ids[1]}", json={"name": "changed"})
    second = both()

    assert first[0] == first[1] and second[0] == second[1]
    assert b"changed" in second[0]


def _other_value(field: peewee.Field):
    """A value for ``field`` that is neither its default nor empty."""
    if isinstance(field, JSONTextField):
        return {"other": field.name}
    if isinstance(field, peewee.BooleanField):
        return not field.default
    if isinstance(field, peewee.IntegerField):
        return 12345
    if isinstance(field, peewee.DateTimeField):
        return dt.datetime(2031, 2, 3, 4, 5, 6)
    return f"other {field.name}"


def test_the_list_formatters_read_no_column_the_list_leaves_out():
    shown = {"asset_id": "a" * 32, "name": "Shown", "uri": "https://example.org/",
             "start_date": dt.datetime(2020, 1, 1), "end_date": dt.datetime(2040, 1, 1),
             "duration": 15, "mimetype": "webpage", "is_enabled": True, "nocache": True,
             "play_order": 3, "skip_asset_check": True, "is_processing": True,
             "play_days": [1, 2, 3, 4, 5, 6, 7], "play_time_from": "00:00:00",
             "play_time_to": "23:59:59", "skip_ssl_verify": True, "refresh_interval_s": 60,
             "custom_headers": {"X-A": "b"}, "is_reachable": False,
             "last_reachability_check": dt.datetime(2030, 5, 5), "metadata": {"k": "v"}}
    assert set(shown) == set(SHOWN_COLUMNS)
    others = {name: _other_value(field) for name, field in Asset._meta.fields.items()
              if name not in shown}
    full, listed = Asset(**shown, **others), Asset(**shown)
    now = dt.datetime(2030, 6, 1, 12, 0)

    for formatter in (v1_asset, v2_asset):
        for zone in (dt.UTC, ZoneInfo("Europe/Berlin")):
            assert formatter(listed, now, zone) == formatter(full, now, zone)
    assert v2_asset(listed, now, dt.UTC)["is_active"] is True
