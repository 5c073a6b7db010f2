"""The 2025-2026 v2 extension fields (docs/legacy-api.md §13) and their effect on ``is_active``."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.api.v2.conftest import set_zone
from tests.helpers import v2_asset


def post(client, **fields):
    return client.post("/api/v2/assets", json=v2_asset(**fields))


def test_extension_fields_have_their_defaults_when_not_sent(create):
    created = create()
    assert {k: created[k] for k in list(created)[13:]} == {
        "play_days": [1, 2, 3, 4, 5, 6, 7], "play_time_from": None, "play_time_to": None,
        "skip_ssl_verify": False, "refresh_interval_s": 0, "custom_headers": {},
        "is_reachable": True, "last_reachability_check": None, "metadata": {}}


def test_play_days_are_stored_sorted_and_without_duplicates(create):
    assert create(play_days=[5, 1, 5, 3])["play_days"] == [1, 3, 5]


def test_a_day_outside_one_to_seven_is_refused_with_anthias_message(client, runtime):
    response = post(client, play_days=[1, 8])
    assert response.status_code == 400
    assert response.get_json() == {"play_days": ["Invalid day: 8. Must be 1 (Mon) - 7 (Sun)."]}


def test_an_empty_play_days_list_is_refused(client, runtime):
    response = post(client, play_days=[])
    assert response.status_code == 400
    assert list(response.get_json()) == ["play_days"]
    assert client.get("/api/v2/assets").get_json() == []


def test_a_window_with_only_one_end_is_refused(client, runtime):
    response = post(client, play_time_from="08:00:00")
    assert response.status_code == 400
    assert response.get_json() == {
        "play_time_from": ["play_time_from and play_time_to must be set together."]}


def test_patching_one_end_of_a_stored_window_keeps_the_other(client, create):
    created = create(play_time_from="08:00:00", play_time_to="17:00:00")
    response = client.patch(f"/api/v2/assets/{created['asset_id']}",
                            json={"play_time_to": "18:30:00"})
    assert response.status_code == 200
    assert (response.get_json()["play_time_from"], response.get_json()["play_time_to"]) == (
        "08:00:00", "18:30:00")


def test_clearing_one_end_of_a_stored_window_is_refused(client, create):
    created = create(play_time_from="08:00:00", play_time_to="17:00:00")
    response = client.patch(f"/api/v2/assets/{created['asset_id']}",
                            json={"play_time_to": None})
    assert response.status_code == 400
    assert response.get_json() == {
        "play_time_from": ["play_time_from and play_time_to must be set together."]}


def test_a_malformed_time_is_refused(client, runtime):
    response = post(client, play_time_from="8 am", play_time_to="17:00:00")
    assert response.status_code == 400
    assert list(response.get_json()) == ["play_time_from"]


@pytest.mark.parametrize("value", [0, 86400])
def test_refresh_interval_accepts_the_bounds(create, value):
    assert create(refresh_interval_s=value)["refresh_interval_s"] == value


@pytest.mark.parametrize("value", [-1, 86401, "soon", True])
def test_refresh_interval_outside_zero_to_a_day_is_refused(client, runtime, value):
    response = post(client, refresh_interval_s=value)
    assert response.status_code == 400
    assert list(response.get_json()) == ["refresh_interval_s"]


def test_custom_headers_round_trip(create):
    headers = {"X-Token": "abc", "Accept-Language": "de"}
    assert create(custom_headers=headers)["custom_headers"] == headers


@pytest.mark.parametrize("headers", [
    {"Bad Header": "x"},
    {"X-Ok": "line\r\nInjected: yes"},
    {"X-Ok": "line\nbreak"},
    {f"X-H{i}": "v" for i in range(21)},
    ["X-Token"],
])
def test_invalid_custom_headers_are_refused(client, runtime, headers):
    response = post(client, custom_headers=headers)
    assert response.status_code == 400
    assert list(response.get_json()) == ["custom_headers"]


def test_twenty_custom_headers_are_allowed(create):
    headers = {f"X-H{i}": "v" for i in range(20)}
    assert create(custom_headers=headers)["custom_headers"] == headers


def test_skip_ssl_verify_is_a_boolean_field(client, create):
    assert create(skip_ssl_verify="yes")["skip_ssl_verify"] is True
    response = post(client, skip_ssl_verify="sometimes")
    assert response.status_code == 400
    assert response.get_json() == {"skip_ssl_verify": ["Must be a valid boolean."]}


def test_read_only_extension_fields_are_ignored_on_write(create):
    created = create(is_reachable=False, metadata={"x": 1},
                     last_reachability_check="2020-01-01T00:00:00Z")
    assert (created["is_reachable"], created["metadata"], created["last_reachability_check"]) == (
        True, {}, None)


def test_v1_2_does_not_show_the_extension_fields(client, create):
    created = create()
    shown = client.get(f"/api/v1.2/assets/{created['asset_id']}").get_json()
    assert list(shown)[-1] == "is_processing"
    assert "play_days" not in shown


# -- is_active with the window, on a controlled clock and zone -------------------------------

MONDAY_NOON = dt.datetime(2024, 6, 3, 12, 0)  # a Monday, UTC


def test_an_asset_outside_its_play_days_is_not_active(client, create, set_clock):
    set_clock(MONDAY_NOON)
    created = create(play_days=[2, 3])
    assert created["is_active"] is False
    set_clock(MONDAY_NOON + dt.timedelta(days=1))
    assert client.get(f"/api/v2/assets/{created['asset_id']}").get_json()["is_active"] is True


def test_an_asset_outside_its_time_window_is_not_active(client, create, set_clock):
    set_clock(MONDAY_NOON)
    created = create(play_time_from="13:00:00", play_time_to="14:00:00")
    assert created["is_active"] is False
    set_clock(MONDAY_NOON.replace(hour=13, minute=30))
    assert client.get(f"/api/v2/assets/{created['asset_id']}").get_json()["is_active"] is True


def test_the_window_end_is_exclusive(client, create, set_clock):
    created = create(play_time_from="13:00:00", play_time_to="14:00:00")
    set_clock(MONDAY_NOON.replace(hour=14))
    assert client.get(f"/api/v2/assets/{created['asset_id']}").get_json()["is_active"] is False


def test_an_overnight_window_belongs_to_the_day_it_starts(client, create, set_clock):
    created = create(play_days=[1], play_time_from="22:00:00", play_time_to="06:00:00")
    url = f"/api/v2/assets/{created['asset_id']}"
    set_clock(dt.datetime(2024, 6, 4, 2, 30))  # Tuesday 02:30
    assert client.get(url).get_json()["is_active"] is True
    set_clock(dt.datetime(2024, 6, 5, 2, 30))  # Wednesday 02:30
    assert client.get(url).get_json()["is_active"] is False
    set_clock(dt.datetime(2024, 6, 3, 23, 0))  # Monday 23:00
    assert client.get(url).get_json()["is_active"] is True


def test_the_window_is_judged_on_the_device_wall_clock(client, create, runtime, set_clock,
                                                       tmp_path):
    runtime.zone_file = str(set_zone(tmp_path, "Europe/Berlin"))
    created = create(play_time_from="13:00:00", play_time_to="14:00:00")
    set_clock(dt.datetime(2024, 6, 3, 11, 30))  # 13:30 in Berlin (CEST)
    assert client.get(f"/api/v2/assets/{created['asset_id']}").get_json()["is_active"] is True


def test_v1_2_ignores_the_window_for_is_active(client, create, set_clock):
    set_clock(MONDAY_NOON)
    created = create(play_days=[2])
    assert client.get(f"/api/v1.2/assets/{created['asset_id']}").get_json()["is_active"] == 1


def test_dates_are_shown_with_the_device_offset_outside_utc(client, create, runtime, tmp_path):
    created = create(start_date="2019-08-24T14:15:22Z", end_date="2029-08-24T14:15:22.5Z")
    runtime.zone_file = str(set_zone(tmp_path, "Europe/Berlin"))
    shown = client.get(f"/api/v2/assets/{created['asset_id']}").get_json()
    assert shown["start_date"] == "2019-08-24T16:15:22+02:00"
    assert shown["end_date"] == "2029-08-24T16:15:22.500000+02:00"


def test_dates_sent_with_an_offset_are_stored_as_utc(create):
    created = create(start_date="2019-08-24T16:15:22+02:00")
    assert created["start_date"] == "2019-08-24T14:15:22Z"


def test_a_form_body_carries_lists_and_objects_as_json_text(client, runtime):
    body = {k: str(v) for k, v in v2_asset().items()}
    body.update(play_days="[3,1]", custom_headers='{"X-A": "b"}', is_enabled="true",
                skip_asset_check="true")
    response = client.post("/api/v2/assets", data=body)
    assert response.status_code == 201
    assert (response.get_json()["play_days"], response.get_json()["custom_headers"]) == (
        [1, 3], {"X-A": "b"})
