"""Proof of play: start, end, skip, crash recovery, pruning and listing, on the real database."""

from __future__ import annotations

import datetime as dt

import pytest

from anthias_edge.models.play_log import PlayLog
from anthias_edge.services import play_log

NOW = dt.datetime(2030, 6, 5, 12, 0)


@pytest.fixture
def database(app):
    runtime = app.extensions["anthias"]
    with runtime.database.connection_context():
        yield runtime.database


def test_a_play_is_recorded_from_start_to_end(database):
    entry_id = play_log.record_start("a1", "Red", "browser", NOW)
    assert PlayLog.get_by_id(entry_id).outcome == "playing"
    assert play_log.record_end(entry_id, "completed", NOW + dt.timedelta(seconds=10)) is True
    entry = PlayLog.get_by_id(entry_id)
    assert (entry.asset_id, entry.asset_name, entry.renderer) == ("a1", "Red", "browser")
    assert (entry.started_at, entry.ended_at, entry.outcome) == (
        NOW, NOW + dt.timedelta(seconds=10), "completed")


def test_ending_an_unknown_play_or_with_an_unknown_outcome_is_refused(database):
    assert play_log.record_end(12345, "completed", NOW) is False
    entry_id = play_log.record_start("a1", None, "mpv", NOW)
    with pytest.raises(ValueError, match="Unknown play outcome"):
        play_log.record_end(entry_id, "exploded", NOW)
    assert PlayLog.get_by_id(entry_id).outcome == "playing"


def test_a_skipped_asset_is_one_row_that_starts_and_ends_at_once(database):
    entry = PlayLog.get_by_id(play_log.record_skip("a2", "Down", "browser", now=NOW))
    assert (entry.started_at, entry.ended_at, entry.outcome) == (NOW, NOW, "skipped")


def test_plays_left_open_by_a_dead_player_become_interrupted(database):
    open_id = play_log.record_start("a1", None, "headless", NOW)
    done_id = play_log.record_start("a2", None, "headless", NOW)
    play_log.record_end(done_id, "completed", NOW)
    assert play_log.close_unfinished() == 1
    assert PlayLog.get_by_id(open_id).outcome == "interrupted"
    assert PlayLog.get_by_id(open_id).ended_at is None
    assert PlayLog.get_by_id(done_id).outcome == "completed"


def test_pruning_removes_only_plays_older_than_the_retention(database):
    old = play_log.record_start("old", None, "headless", NOW - dt.timedelta(days=31))
    kept = play_log.record_start("kept", None, "headless", NOW - dt.timedelta(days=29))
    assert play_log.prune(30, NOW) == 1
    assert [e.id for e in PlayLog.select()] == [kept]
    assert old != kept


def test_listing_since_a_time_is_oldest_first_and_limited(database):
    for minute in (5, 1, 3, 4):
        play_log.record_start(f"m{minute}", None, "headless", NOW + dt.timedelta(minutes=minute))
    since = play_log.list_since(NOW + dt.timedelta(minutes=3))
    assert [e.asset_id for e in since] == ["m3", "m4", "m5"]
    assert [e.asset_id for e in play_log.list_since(None, limit=2)] == ["m1", "m3"]
    assert len(play_log.list_since(None, limit=0)) == 1


def test_the_migrated_play_log_table_has_exactly_the_model_columns(database):
    columns = {c.name for c in database.get_columns("play_log")}
    assert columns == {field.column_name for field in PlayLog._meta.sorted_fields}
    assert ["started_at"] in [list(i.columns) for i in database.get_indexes("play_log")]
