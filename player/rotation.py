"""The player's rotation: which assets play, in what order, and when to look again.

Pure code, no I/O: docs/legacy-api.md §8.1-8.3 plus the day/time windows of §13, with
quirks Q6 (jump to an asset that exists and is not processing) and Q7 (null
dates are ignored) fixed. Times are naive UTC; windows are judged on the wall
clock of ``zone``. The rules for one asset live in ``anthias_edge.play_windows``.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from types import MappingProxyType
from typing import NamedTuple

from anthias_edge.play_windows import in_date_range, in_play_window, next_change, parse_clock
from player.qr_overlay import QrOverlay

logger = logging.getLogger(__name__)

ALL_DAYS = (1, 2, 3, 4, 5, 6, 7)
# next_change only looks at today and tomorrow, so a windowed asset is re-checked daily.
WINDOW_HORIZON = dt.timedelta(days=1)
# Upstream reshuffles after this many complete loops (docs/legacy-api.md §8.2 b).
SHUFFLE_LOOPS = 5
_EMPTY_HEADERS: Mapping[str, str] = MappingProxyType({})
_TICK = dt.timedelta(microseconds=1)


def _no_headers() -> Mapping[str, str]:
    return _EMPTY_HEADERS


@dataclass(frozen=True, slots=True)
class PlayItem:
    """One asset as the player needs it: every column except md5, dates in naive UTC
    (docs/legacy-api.md §8.1)."""

    asset_id: str
    name: str | None = None
    uri: str | None = None
    mimetype: str | None = None
    duration: int | None = None
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None
    is_enabled: bool = False
    is_processing: bool = False
    nocache: bool = False
    play_order: int = 0
    skip_asset_check: bool = False
    play_days: tuple[int, ...] = ALL_DAYS
    play_time_from: str | None = None
    play_time_to: str | None = None
    skip_ssl_verify: bool = False
    refresh_interval_s: int = 0
    custom_headers: Mapping[str, str] = field(default_factory=_no_headers, hash=False)
    # The code drawn over the asset (its active QR content's landing page), if any.
    qr_overlay: QrOverlay | None = None


class _Window(NamedTuple):
    """An asset's day/time window without its dates, so next_change yields window edges only."""

    play_days: tuple[int, ...]
    play_time_from: str | None
    play_time_to: str | None
    start_date: None = None
    end_date: None = None


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _local(moment: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC).astimezone(zone)


def _unrestricted(item: PlayItem) -> bool:
    """The common case, decided without parsing: every day, any time."""
    return item.play_time_from is None and item.play_time_to is None and (
        item.play_days == ALL_DAYS)


def _has_window(item: PlayItem) -> bool:
    """Mirrors next_change: a time window, or fewer than seven play days."""
    if _unrestricted(item):
        return False
    return bool(item.play_time_from or item.play_time_to
                or (item.play_days and len(set(item.play_days)) < 7))


def build_playlist(
    items: Iterable[PlayItem],
    now_utc: dt.datetime,
    zone: dt.tzinfo,
    shuffle: bool = False,
    rng: random.Random | None = None,
) -> list[PlayItem]:
    """The playlist at ``now_utc``: active assets by play_order, then shuffled if asked
    (docs/legacy-api.md §8.1).

    Active is ``anthias_edge.play_windows.is_active`` with its window; ties in
    play_order keep their input order.
    """
    now = _naive_utc(now_utc)
    local_now = _local(now, zone)
    # Most assets share a handful of windows; judge each distinct one once.
    windows: dict[tuple, bool] = {}
    playlist: list[PlayItem] = []
    for item in items:
        if not in_date_range(item.is_enabled, item.start_date, item.end_date, now):
            continue
        if _unrestricted(item):
            playlist.append(item)
            continue
        key = (item.play_days, item.play_time_from, item.play_time_to)
        inside = windows.get(key)
        if inside is None:
            inside = windows[key] = in_play_window(*key, local_now)
        if inside:
            playlist.append(item)
    playlist.sort(key=attrgetter("play_order"))
    if shuffle:
        (rng or random).shuffle(playlist)
    return playlist


def compute_deadline(
    items: Iterable[PlayItem], now: dt.datetime, zone: dt.tzinfo
) -> dt.datetime | None:
    """The next moment after ``now`` at which the playlist can change, or None if never.

    Only assets that can ever play count (enabled, both dates set; nulls are ignored,
    docs/legacy-api.md Q7). Their future start or end is an edge, and so is the next edge of a
    day/time window while the asset is inside its dates. A past date is not a
    deadline (upstream's past-deadline quirk is not kept).
    """
    now = _naive_utc(now)
    deadline: dt.datetime | None = None
    window_edges: dict[_Window, dt.datetime | None] = {}
    transition: list[dt.datetime | None] = []
    for item in items:
        start, end = item.start_date, item.end_date
        if not item.is_enabled or start is None or end is None or end <= now:
            continue
        if start > now:
            edge = start
        elif start == now:
            # Active means strictly after start: the asset joins one tick later.
            edge = start + _TICK
        elif _has_window(item):
            window = _Window(item.play_days, item.play_time_from, item.play_time_to)
            if window not in window_edges:
                if not transition:
                    transition.append(_next_transition(zone, now, now + WINDOW_HORIZON))
                window_edges[window] = _window_edge(window, now, zone, transition[0])
            edge = min(end, window_edges[window])
        else:
            edge = end
        if deadline is None or edge < deadline:
            deadline = edge
    return deadline


def _window_edge(
    window: _Window, now: dt.datetime, zone: dt.tzinfo, transition: dt.datetime | None
) -> dt.datetime:
    """next_change's window edge, plus the two DST cases it does not see (13).

    On a fall-back day a wall-clock edge happens twice: the second time (fold=1)
    is an edge too. On a spring-forward day a window that starts in the gap opens
    at the transition itself, not an hour later.
    """
    edge = next_change(window, now, zone, WINDOW_HORIZON)
    local_now = _local(now, zone)
    clocks = [dt.time(0, 0)]
    clocks += [c for c in map(parse_clock, (window.play_time_from, window.play_time_to)) if c]
    for day_offset in (0, 1):
        day = local_now.date() + dt.timedelta(days=day_offset)
        for clock in clocks:
            wall = dt.datetime.combine(day, clock, tzinfo=zone)
            first = _naive_utc(wall)
            second = _naive_utc(wall.replace(fold=1))
            # Only an ambiguous wall time maps fold=1 to a later instant.
            if second > first and now < second < edge:
                edge = second
    if transition is not None and now < transition < edge:
        days, start, stop = window.play_days, window.play_time_from, window.play_time_to
        before = in_play_window(days, start, stop, _local(transition - _TICK, zone))
        if before != in_play_window(days, start, stop, _local(transition, zone)):
            edge = transition
    return edge


def _next_transition(
    zone: dt.tzinfo, after: dt.datetime, until: dt.datetime
) -> dt.datetime | None:
    """The first instant in (after, until] with a new UTC offset, to the second; None if none."""
    def offset(moment: dt.datetime) -> dt.timedelta | None:
        return _local(moment, zone).utcoffset()

    if offset(after) == offset(until):
        return None
    low, high = after, until
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            break
        if offset(middle) == offset(after):
            low = middle
        else:
            high = middle
    return high


class Rotation:
    """The viewer's rotation: a playlist, a position and the rules to refresh it
    (docs/legacy-api.md §8.2, §8.3).

    ``load_items`` returns every asset (not only the playable ones); it is
    called when the data changed, a reshuffle is due or the deadline passed,
    never otherwise. ``clock`` returns naive UTC and is used when a method is
    given no ``now``.
    """

    def __init__(
        self,
        load_items: Callable[[], Sequence[PlayItem]],
        zone: dt.tzinfo,
        *,
        shuffle: bool = False,
        rng: random.Random | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.load_items = load_items
        self.zone = zone
        self.shuffle = shuffle
        self.rng = rng or random.Random()
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None))
        self.playlist: list[PlayItem] = []
        self.index = 0
        self.counter = 0
        self.deadline: dt.datetime | None = None
        self.reverse = False
        self.pending_jump: str | None = None
        self.current_asset_id: str | None = None
        self._by_id: dict[str, PlayItem] = {}
        # Nothing is loaded yet: the first call reads the data.
        self._data_changed = True

    def _now(self, now: dt.datetime | None) -> dt.datetime:
        return _naive_utc(now) if now is not None else self.clock()

    def mark_data_changed(self) -> None:
        """The server wrote assets or settings: rebuild before the next choice."""
        self._data_changed = True

    def go_previous(self) -> None:
        """Make the next choice the asset before the current one
        (docs/legacy-api.md §8.5 ``previous``)."""
        self.reverse = True

    def jump_to(self, asset_id: str) -> None:
        """Make the next choice this asset, if it exists and is not processing
        (docs/legacy-api.md §8.5, Q6)."""
        self.pending_jump = asset_id

    def refresh_needed(self, now: dt.datetime | None = None) -> bool:
        """Whether the next choice regenerates the playlist (docs/legacy-api.md §8.2 a-c)."""
        return (self._data_changed
                or (self.shuffle and self.counter >= SHUFFLE_LOOPS)
                or (self.deadline is not None and self.deadline <= self._now(now)))

    def time_until_next_check(self, now: dt.datetime | None = None) -> float | None:
        """Seconds until the playlist may change by itself; 0 if due; None if it never will."""
        now = self._now(now)
        if self.refresh_needed(now):
            return 0.0
        if self.deadline is None:
            return None
        return (self.deadline - now).total_seconds()

    def refresh(self, now: dt.datetime | None = None) -> bool:
        """Regenerate when needed; return whether the playlist or deadline changed
        (docs/legacy-api.md §8.2)."""
        now = self._now(now)
        if not self.refresh_needed(now):
            return False
        return self._regenerate(now)

    def _regenerate(self, now: dt.datetime) -> bool:
        # Clear first: a change announced while we read must trigger another pass.
        self._data_changed = False
        items = list(self.load_items())
        self._by_id = {item.asset_id: item for item in items}
        playlist = build_playlist(items, now, self.zone, self.shuffle, self.rng)
        deadline = compute_deadline(items, now, self.zone)
        if playlist == self.playlist and deadline == self.deadline:
            logger.debug("playlist unchanged (%d assets)", len(playlist))
            return False
        self.playlist, self.deadline = playlist, deadline
        self.counter = 0
        self.index = self.index % len(playlist) if playlist else 0
        logger.info("playlist: %d assets, next change at %s", len(playlist), deadline)
        return True

    def next_asset(self, now: dt.datetime | None = None) -> PlayItem | None:
        """The asset to show now (docs/legacy-api.md §8.3), or None when the playlist is empty."""
        now = self._now(now)
        if self.pending_jump is not None:
            wanted, self.pending_jump = self.pending_jump, None
            if self._data_changed:
                self._regenerate(now)
            item = self._by_id.get(wanted)
            if item is not None and not item.is_processing:
                self.current_asset_id = item.asset_id
                return item
            logger.info("Asset not found or processed: %s", wanted)
        self.refresh(now)
        count = len(self.playlist)
        if count == 0:
            self.current_asset_id = None
            return None
        if self.reverse:
            chosen = (self.index - 2) % count
            self.index = (self.index - 1) % count
            self.reverse = False
        else:
            chosen = self.index
            self.index = (self.index + 1) % count
        if self.shuffle and self.index == 0:
            self.counter += 1
        item = self.playlist[chosen]
        self.current_asset_id = item.asset_id
        return item
