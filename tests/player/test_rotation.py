"""The player's rotation (docs/legacy-api.md §8.1-8.3 and §13) against a fake clock."""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest

from anthias_edge.play_windows import is_active
from player.rotation import PlayItem, Rotation, build_playlist, compute_deadline

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2030, 6, 5, 12, 0)  # a Wednesday, naive UTC
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)


def item(asset_id: str, **fields) -> PlayItem:
    """An enabled asset active from a day before NOW to ten days after, unless overridden."""
    values = {"start_date": NOW - DAY, "end_date": NOW + 10 * DAY, "is_enabled": True}
    values.update(fields)
    return PlayItem(asset_id, **values)


class Source:
    """A list standing in for the database; counts how often the rotation reads it."""

    def __init__(self, *items: PlayItem) -> None:
        self.items = list(items)
        self.loads = 0

    def __call__(self) -> list[PlayItem]:
        self.loads += 1
        return list(self.items)


def ids(items) -> list[str]:
    return [i.asset_id for i in items]


def play(rotation: Rotation, times: int, now: dt.datetime = NOW) -> list[str | None]:
    return [getattr(rotation.next_asset(now), "asset_id", None) for _ in range(times)]


# 8.1 playlist -------------------------------------------------------------------------------


def test_the_playlist_is_ordered_by_play_order_keeping_input_order_for_ties():
    items = [item("c", play_order=2), item("a1", play_order=0), item("b", play_order=1),
             item("a2", play_order=0)]
    assert ids(build_playlist(items, NOW, UTC)) == ["a1", "a2", "b", "c"]


def test_disabled_null_dated_future_and_expired_assets_are_left_out():
    items = [
        item("on"),
        item("disabled", is_enabled=False),
        item("no-start", start_date=None),
        item("no-end", end_date=None),
        item("no-dates", start_date=None, end_date=None),
        item("future", start_date=NOW + HOUR),
        item("expired", end_date=NOW - HOUR),
        item("starts-now", start_date=NOW),
        item("ends-now", end_date=NOW),
    ]
    assert ids(build_playlist(items, NOW, UTC)) == ["on"]


def test_shuffle_permutes_the_ordered_playlist_with_the_given_rng():
    items = [item(str(n), play_order=n) for n in range(20)]
    expected = [str(n) for n in range(20)]
    random.Random(7).shuffle(expected)
    shuffled = build_playlist(items, NOW, UTC, shuffle=True, rng=random.Random(7))
    assert ids(shuffled) == expected
    assert ids(shuffled) != [str(n) for n in range(20)]


def test_the_playlist_holds_exactly_the_assets_is_active_accepts():
    rng = random.Random(3)
    windows = [(None, None), ("09:00:00", "17:00:00"), ("22:00:00", "06:00:00")]
    items = []
    for n in range(300):
        start, stop = rng.choice(windows)
        items.append(item(
            f"a{n}", is_enabled=rng.random() < 0.8, play_order=rng.randrange(5),
            start_date=rng.choice([None, NOW - DAY, NOW + HOUR]),
            end_date=rng.choice([None, NOW + DAY, NOW - HOUR]),
            play_days=tuple(sorted(rng.sample(range(1, 8), rng.randint(1, 7)))),
            play_time_from=start, play_time_to=stop))
    for moment in (NOW, NOW + 11 * HOUR, NOW - 5 * HOUR):
        expected = sorted((i for i in items if is_active(i, moment, BERLIN)),
                          key=lambda i: i.play_order)
        assert build_playlist(items, moment, BERLIN) == expected


# 8.1 deadline -------------------------------------------------------------------------------


def test_the_deadline_is_the_earliest_future_start_or_end():
    items = [item("long", end_date=NOW + 5 * DAY), item("soon-ends", end_date=NOW + 2 * HOUR),
             item("later", start_date=NOW + 3 * HOUR), item("starts", start_date=NOW + HOUR,
                                                            end_date=NOW + 9 * HOUR)]
    assert compute_deadline(items, NOW, UTC) == NOW + HOUR


def test_past_dates_and_disabled_assets_never_make_a_deadline():
    items = [item("expired", start_date=NOW - 3 * DAY, end_date=NOW - DAY),
             item("disabled", is_enabled=False, start_date=NOW + HOUR),
             item("on", end_date=NOW + 4 * HOUR)]
    assert compute_deadline(items, NOW, UTC) == NOW + 4 * HOUR
    assert compute_deadline(items[:2], NOW, UTC) is None


def test_no_assets_means_no_deadline():
    assert compute_deadline([], NOW, UTC) is None


def test_null_dates_mixed_with_real_ones_are_ignored_q7():
    items = [item("none", start_date=None, end_date=None), item("half", end_date=None,
                                                              start_date=NOW + HOUR),
             item("real", end_date=NOW + 2 * HOUR)]
    assert compute_deadline(items, NOW, UTC) == NOW + 2 * HOUR
    assert ids(build_playlist(items, NOW, UTC)) == ["real"]


def test_an_asset_starting_exactly_now_joins_one_tick_later():
    items = [item("starts", start_date=NOW)]
    deadline = compute_deadline(items, NOW, UTC)
    assert deadline == NOW + dt.timedelta(microseconds=1)
    assert ids(build_playlist(items, deadline, UTC)) == ["starts"]


# 8.2 / 8.3 the rotation --------------------------------------------------------------------


def test_an_empty_playlist_gives_no_asset_and_no_current_id():
    rotation = Rotation(Source(item("off", is_enabled=False)), UTC)
    assert rotation.next_asset(NOW) is None
    assert rotation.current_asset_id is None


def test_assets_play_in_order_and_wrap_around():
    rotation = Rotation(Source(item("a"), item("b", play_order=1), item("c", play_order=2)), UTC)
    assert play(rotation, 7) == ["a", "b", "c", "a", "b", "c", "a"]
    assert rotation.current_asset_id == "a"


def test_the_data_is_read_once_and_again_only_after_the_server_says_it_changed():
    source = Source(item("a"), item("b", play_order=1))
    rotation = Rotation(source, UTC)
    play(rotation, 10)
    assert source.loads == 1
    assert rotation.refresh_needed(NOW) is False
    rotation.mark_data_changed()
    assert rotation.refresh_needed(NOW) is True
    play(rotation, 3)
    assert source.loads == 2


def test_an_unchanged_regeneration_leaves_position_and_shuffle_count_alone():
    source = Source(item("only"))
    rotation = Rotation(source, UTC, shuffle=True, rng=random.Random(1))
    play(rotation, 3)
    assert rotation.counter == 3
    rotation.mark_data_changed()
    assert play(rotation, 1) == ["only"]
    assert source.loads == 2
    assert rotation.counter == 4


def test_the_position_is_kept_when_the_playlist_grows():
    source = Source(item("a"), item("b", play_order=1), item("c", play_order=2))
    rotation = Rotation(source, UTC)
    assert play(rotation, 2) == ["a", "b"]
    source.items.append(item("d", play_order=3))
    rotation.mark_data_changed()
    assert play(rotation, 3) == ["c", "d", "a"]


def test_the_position_wraps_modulo_the_new_length_when_the_playlist_shrinks():
    source = Source(*(item(x, play_order=n) for n, x in enumerate("abcde")))
    rotation = Rotation(source, UTC)
    assert play(rotation, 4) == ["a", "b", "c", "d"]
    source.items = source.items[:3]
    rotation.mark_data_changed()
    assert rotation.next_asset(NOW).asset_id == "b"  # index 4 mod 3 == 1
    assert rotation.counter == 0


def test_the_playlist_is_rebuilt_when_the_deadline_passes_and_not_before():
    source = Source(item("a", end_date=NOW + HOUR), item("b", play_order=1))
    rotation = Rotation(source, UTC)
    assert play(rotation, 2) == ["a", "b"]
    assert rotation.deadline == NOW + HOUR
    assert play(rotation, 2, NOW + HOUR - MINUTE) == ["a", "b"]
    assert source.loads == 1
    assert play(rotation, 2, NOW + HOUR) == ["b", "b"]
    assert source.loads == 2
    assert rotation.deadline == NOW + 10 * DAY


def test_the_shuffle_counter_counts_loops_and_reshuffles_after_five():
    source = Source(*(item(str(n), play_order=n) for n in range(4)))
    rotation = Rotation(source, UTC, shuffle=True, rng=random.Random(5))
    first = play(rotation, 4)
    assert sorted(first) == ["0", "1", "2", "3"]
    assert rotation.counter == 1
    for _ in range(4):
        assert play(rotation, 4) == first
    assert rotation.counter == 5
    assert source.loads == 1
    assert rotation.refresh_needed(NOW) is True
    rotation.next_asset(NOW)
    assert source.loads == 2
    assert rotation.counter == 0


def test_previous_replays_the_asset_before_the_current_one():
    rotation = Rotation(Source(*(item(x, play_order=n) for n, x in enumerate("abc"))), UTC)
    assert play(rotation, 2) == ["a", "b"]
    rotation.go_previous()
    assert play(rotation, 3) == ["a", "b", "c"]
    rotation.go_previous()
    assert play(rotation, 1) == ["b"]
    assert rotation.reverse is False


def test_previous_at_the_start_wraps_to_the_last_asset():
    rotation = Rotation(Source(*(item(x, play_order=n) for n, x in enumerate("abc"))), UTC)
    assert play(rotation, 1) == ["a"]
    rotation.go_previous()
    assert play(rotation, 2) == ["c", "a"]


def test_a_jump_plays_an_existing_asset_even_outside_the_playlist_then_resumes():
    source = Source(item("a"), item("b", play_order=1), item("off", is_enabled=False))
    rotation = Rotation(source, UTC)
    assert play(rotation, 1) == ["a"]
    rotation.jump_to("off")
    assert play(rotation, 2) == ["off", "b"]
    assert rotation.pending_jump is None


def test_a_jump_to_a_missing_or_processing_asset_is_dropped_q6():
    # Processing assets stay in the playlist (docs/legacy-api.md §8.1); only the jump skips them.
    source = Source(item("a"), item("b", play_order=1),
                    item("busy", play_order=2, is_processing=True))
    rotation = Rotation(source, UTC)
    rotation.jump_to("nope")
    assert play(rotation, 1) == ["a"]
    rotation.jump_to("busy")
    assert play(rotation, 2) == ["b", "busy"]
    assert rotation.pending_jump is None


def test_a_jump_finds_an_asset_created_since_the_last_read():
    source = Source(item("a"))
    rotation = Rotation(source, UTC)
    play(rotation, 1)
    source.items.append(item("new", play_order=1))
    rotation.mark_data_changed()
    rotation.jump_to("new")
    assert play(rotation, 1) == ["new"]
    assert rotation.current_asset_id == "new"


def test_time_until_next_check_counts_down_to_the_deadline():
    rotation = Rotation(Source(item("a", end_date=NOW + HOUR)), UTC)
    assert rotation.time_until_next_check(NOW) == 0.0  # nothing read yet
    rotation.next_asset(NOW)
    assert rotation.time_until_next_check(NOW + 10 * MINUTE) == 3000.0
    assert rotation.time_until_next_check(NOW + 2 * HOUR) == 0.0
    rotation.next_asset(NOW + 2 * HOUR)
    assert rotation.time_until_next_check(NOW + 2 * HOUR) is None


def test_the_injected_clock_is_used_when_no_time_is_given():
    moments = iter([NOW, NOW + 2 * HOUR])
    rotation = Rotation(Source(item("a", end_date=NOW + HOUR)), UTC, clock=lambda: next(moments))
    assert rotation.next_asset().asset_id == "a"
    assert rotation.next_asset() is None


# 13 day and time windows --------------------------------------------------------------------

MONDAY = dt.datetime(2030, 6, 3)


def test_a_daytime_window_is_half_open():
    items = [item("day", start_date=MONDAY - DAY, play_time_from="09:00:00",
                  play_time_to="17:00:00")]
    at = MONDAY.replace
    assert ids(build_playlist(items, at(hour=9), UTC)) == ["day"]
    assert ids(build_playlist(items, at(hour=16, minute=59), UTC)) == ["day"]
    assert build_playlist(items, at(hour=8, minute=59), UTC) == []
    assert build_playlist(items, at(hour=17), UTC) == []


def test_an_overnight_window_belongs_to_the_day_it_starts():
    items = [item("night", start_date=MONDAY - DAY, play_days=(1,), play_time_from="22:00:00",
                  play_time_to="06:00:00")]
    assert ids(build_playlist(items, MONDAY + dt.timedelta(days=1, hours=2, minutes=30),
                              UTC)) == ["night"]
    assert ids(build_playlist(items, MONDAY.replace(hour=23), UTC)) == ["night"]
    assert build_playlist(items, MONDAY + dt.timedelta(days=2, hours=2, minutes=30), UTC) == []
    assert build_playlist(items, MONDAY.replace(hour=2, minute=30), UTC) == []
    assert build_playlist(items, MONDAY.replace(hour=21, minute=59), UTC) == []


def test_play_days_are_judged_on_the_local_weekday():
    items = [item("weekend", start_date=MONDAY - DAY, play_days=(6, 7))]
    saturday = MONDAY + 5 * DAY
    assert ids(build_playlist(items, saturday.replace(hour=12), UTC)) == ["weekend"]
    assert build_playlist(items, MONDAY.replace(hour=12), UTC) == []
    # Sunday 23:30 UTC is already Monday 01:30 in Berlin.
    assert build_playlist(items, (saturday + DAY).replace(hour=23, minute=30), BERLIN) == []


def active_minutes(items, first: dt.datetime, last: dt.datetime) -> list[dt.datetime]:
    moments, moment = [], first
    while moment <= last:
        if build_playlist(items, moment, BERLIN):
            moments.append(moment)
        moment += MINUTE
    return moments


def test_a_window_inside_the_spring_forward_gap_does_not_fire_that_day():
    items = [item("gap", start_date=dt.datetime(2030, 3, 1), end_date=dt.datetime(2030, 4, 30),
                  play_time_from="02:15:00", play_time_to="02:45:00")]
    # Local 2030-03-31 runs from 22:00 UTC the day before to 22:00 UTC (CEST from 01:00).
    assert active_minutes(items, dt.datetime(2030, 3, 30, 22), dt.datetime(2030, 3, 31, 22)) == []
    next_night = active_minutes(items, dt.datetime(2030, 3, 31, 22), dt.datetime(2030, 4, 1, 1))
    assert len(next_night) == 30


def test_a_window_inside_the_fall_back_hour_fires_twice():
    items = [item("twice", start_date=dt.datetime(2030, 10, 1), end_date=dt.datetime(2030, 11, 30),
                  play_time_from="02:15:00", play_time_to="02:45:00")]
    minutes = active_minutes(items, dt.datetime(2030, 10, 26, 22), dt.datetime(2030, 10, 27, 23))
    assert len(minutes) == 60
    assert minutes[0] == dt.datetime(2030, 10, 27, 0, 15)  # 02:15 CEST, fold 0
    assert minutes[-1] == dt.datetime(2030, 10, 27, 1, 44)  # 02:44 CET, fold 1
    second = dt.datetime(2030, 10, 27, 1, 30).replace(tzinfo=dt.UTC).astimezone(BERLIN)
    assert (second.hour, second.minute, second.fold) == (2, 30, 1)


def test_the_deadline_stops_at_the_next_window_edge():
    items = [item("day", start_date=MONDAY - DAY, play_time_from="09:00:00",
                  play_time_to="17:00:00")]
    assert compute_deadline(items, MONDAY.replace(hour=8), UTC) == MONDAY.replace(hour=9)
    assert compute_deadline(items, MONDAY.replace(hour=12), UTC) == MONDAY.replace(hour=17)
    ending = [item("day", start_date=MONDAY - DAY, end_date=MONDAY.replace(hour=10),
                   play_time_from="09:00:00", play_time_to="17:00:00")]
    assert compute_deadline(ending, MONDAY.replace(hour=9, minute=30), UTC) == MONDAY.replace(
        hour=10)


def test_the_deadline_sees_the_second_opening_on_a_fall_back_day():
    items = [item("twice", start_date=dt.datetime(2030, 10, 1), end_date=dt.datetime(2030, 11, 30),
                  play_time_from="02:15:00", play_time_to="02:45:00")]
    at = dt.datetime(2030, 10, 27, 0, 50)
    assert compute_deadline(items, at, BERLIN) == dt.datetime(2030, 10, 27, 1, 15)
    assert compute_deadline(items, at.replace(hour=1, minute=20), BERLIN) == dt.datetime(
        2030, 10, 27, 1, 45)


def test_a_window_opening_in_the_spring_forward_gap_opens_at_the_transition():
    items = [item("morning", start_date=dt.datetime(2030, 3, 1), end_date=dt.datetime(2030, 4, 30),
                  play_time_from="02:15:00", play_time_to="04:00:00")]
    at = dt.datetime(2030, 3, 31, 0, 30)
    assert compute_deadline(items, at, BERLIN) == dt.datetime(2030, 3, 31, 1, 0)
    assert ids(build_playlist(items, dt.datetime(2030, 3, 31, 1, 0), BERLIN)) == ["morning"]


def _walk(rotation: Rotation, start: dt.datetime, stop: dt.datetime):
    """Let the fake clock jump from one deadline to the next, as the play loop sleeps."""
    visits, flips, playing, moment = [], [], None, start
    while moment < stop:
        now_playing = rotation.next_asset(moment) is not None
        visits.append(moment)
        if now_playing != playing:
            flips.append(moment)
            playing = now_playing
        moment += dt.timedelta(seconds=rotation.time_until_next_check(moment))
    return visits, flips


@pytest.mark.parametrize(("zone", "start", "edges"), [
    (UTC, dt.datetime(2030, 6, 3), ["06-03 02:15", "06-03 02:45", "06-04 02:15", "06-04 02:45"]),
    (BERLIN, dt.datetime(2030, 10, 26, 12), ["10-27 00:15", "10-27 00:45", "10-27 01:15",
                                             "10-27 01:45", "10-28 01:15", "10-28 01:45"]),
])
def test_the_rotation_rebuilds_only_when_a_window_opens_or_closes(zone, start, edges):
    source = Source(item("w", start_date=start - 10 * DAY, end_date=start + 10 * DAY,
                         play_time_from="02:15:00", play_time_to="02:45:00"))
    rotation = Rotation(source, zone)
    visits, flips = _walk(rotation, start, start + 2 * DAY)
    expected = [dt.datetime.strptime(f"2030-{text}", "%Y-%m-%d %H:%M") for text in edges]
    assert flips[1:] == expected
    # Besides the edges, next_change re-checks at local midnight (a no-op rebuild).
    midnights = {m for m in visits if _local(m, zone).time() == dt.time(0, 0)}
    assert set(visits[1:]) - midnights == set(expected)
    assert source.loads == len(visits)


def _local(moment: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC).astimezone(zone)
