"""When an asset may play: the rules shared by the API's ``is_active`` and the player.

Pure functions, no I/O. Times come in as naive UTC; day and time windows are
judged on the device's wall clock (docs/legacy-api.md §2.2 and §13).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence


def in_date_range(
    is_enabled: bool, start: dt.datetime | None, end: dt.datetime | None, now: dt.datetime
) -> bool:
    """Anthias's ``is_active``: enabled, both dates set, and strictly inside them
    (docs/legacy-api.md §2.2)."""
    return bool(is_enabled) and start is not None and end is not None and start < now < end


def parse_clock(text: str | None) -> dt.time | None:
    """Parse ``HH:MM:SS`` (or ``HH:MM``); None stays None. Raise ValueError when malformed."""
    if text is None:
        return None
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"Invalid time: {text}. Use HH:MM:SS.")
    return dt.time(*(int(p) for p in parts))


def in_play_window(
    play_days: Sequence[int] | None,
    time_from: str | None,
    time_to: str | None,
    local_now: dt.datetime,
) -> bool:
    """Whether the device's wall-clock ``local_now`` is inside the asset's day/time window.

    ``play_days`` names ISO weekdays; for a window that wraps past midnight the
    day is the one on which the window starts (Mon 22:00-06:00 covers Tue 02:30).
    """
    days = set(play_days or range(1, 8))
    start, end = parse_clock(time_from), parse_clock(time_to)
    today = local_now.isoweekday()
    if start is None or end is None:
        return today in days
    clock = local_now.time().replace(tzinfo=None)
    if start < end:
        return today in days and start <= clock < end
    yesterday = 7 if today == 1 else today - 1
    return (today in days and clock >= start) or (yesterday in days and clock < end)


def is_active(asset, now: dt.datetime, zone: dt.tzinfo, *, with_window: bool = True) -> bool:
    """Anthias's ``is_active``, plus the v2 day/time window when ``with_window``."""
    if not in_date_range(asset.is_enabled, asset.start_date, asset.end_date, now):
        return False
    if not with_window:
        return True
    local_now = now.replace(tzinfo=dt.UTC).astimezone(zone)
    return in_play_window(asset.play_days, asset.play_time_from, asset.play_time_to, local_now)


def next_change(asset, now: dt.datetime, zone: dt.tzinfo, horizon: dt.timedelta) -> dt.datetime:
    """The earliest moment after ``now`` at which ``is_active`` of this asset may flip.

    Date edges are exact; for day/time windows the next local midnight and the
    window's edges today and tomorrow are candidates. Never later than ``now + horizon``.
    """
    candidates = [now + horizon]
    for edge in (asset.start_date, asset.end_date):
        if edge is not None and edge > now:
            candidates.append(edge)
    restricted_days = asset.play_days and len(set(asset.play_days)) < 7
    if asset.play_time_from or asset.play_time_to or restricted_days:
        local_now = now.replace(tzinfo=dt.UTC).astimezone(zone)
        clocks = [dt.time(0, 0)]
        for text in (asset.play_time_from, asset.play_time_to):
            clock = parse_clock(text)
            if clock is not None:
                clocks.append(clock)
        for day_offset in (0, 1):
            day = local_now.date() + dt.timedelta(days=day_offset)
            for clock in clocks:
                local = dt.datetime.combine(day, clock, tzinfo=zone)
                edge = local.astimezone(dt.UTC).replace(tzinfo=None)
                if edge > now:
                    candidates.append(edge)
    return min(candidates)
