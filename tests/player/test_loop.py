"""The play loop with the headless renderer: order, commands, standby, skips, crashes, preload."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from anthias_edge.errors import PlayerUnavailable
from player.availability import Availability
from player.loop import PlayLoop, renderer_label
from player.main import last_good
from player.pages import hotspot_item, splash_item
from player.renderers import MediaRouter
from player.renderers.headless import HeadlessRenderer
from player.rotation import PlayItem, Rotation

NOW = dt.datetime(2030, 6, 5, 12, 0)
START, END = dt.datetime(2020, 1, 1), dt.datetime(2099, 1, 1)


def item(asset_id: str, duration: float = 0.15, **fields) -> PlayItem:
    """An active web page asset that needs no URL check."""
    values = {"name": asset_id.upper(), "uri": f"https://example.com/{asset_id}",
              "mimetype": "webpage", "duration": duration, "start_date": START, "end_date": END,
              "is_enabled": True, "skip_asset_check": True}
    values.update(fields)
    return PlayItem(asset_id, **values)


class Recorder:
    """Collects proof-of-play calls."""

    def __init__(self) -> None:
        self.plays: list[list] = []
        self.skips: list[tuple[str, str]] = []

    def started(self, played: PlayItem, renderer: str) -> object:
        self.plays.append([played.asset_id, renderer, None])
        return len(self.plays) - 1

    def ended(self, token: object, outcome: str) -> None:
        self.plays[token][2] = outcome

    def skipped(self, played: PlayItem, renderer: str, outcome: str) -> None:
        self.skips.append((played.asset_id, outcome))


class Harness:
    """A PlayLoop on a HeadlessRenderer, run on a thread, with its items editable."""

    def __init__(self, tmp_path: Path, items: list[PlayItem], **loop_options) -> None:
        self.items = items
        self.record = tmp_path / "shown.jsonl"
        self.renderers: list[HeadlessRenderer] = []
        self.recorder = Recorder()
        self.rotation = Rotation(lambda: list(self.items), dt.UTC, clock=lambda: NOW)
        loop_options.setdefault("recorder", self.recorder)
        loop_options.setdefault("standby", PlayItem("standby", uri="/standby.png",
                                                    mimetype="image"))
        self.loop = PlayLoop(self.rotation, loop_options.pop("make_renderer", self.make),
                             **loop_options)
        self.thread = threading.Thread(target=self.loop.run, daemon=True)

    def make(self) -> HeadlessRenderer:
        renderer = HeadlessRenderer(self.record)
        self.renderers.append(renderer)
        return renderer

    def on_screen(self) -> str | None:
        renderer = self.loop.renderer
        return renderer.current() if renderer is not None else None

    def wait_for(self, predicate: Callable[[], object], timeout_s: float = 5.0) -> float:
        """Seconds until ``predicate()`` holds; fail after ``timeout_s``."""
        started = time.monotonic()
        while not predicate():
            if time.monotonic() - started > timeout_s:
                pytest.fail(f"condition not met within {timeout_s} s")
            time.sleep(0.005)
        return time.monotonic() - started


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    made: list[Harness] = []

    def build(items: list[PlayItem], **options) -> Harness:
        made.append(Harness(tmp_path, items, **options))
        made[-1].thread.start()
        return made[-1]

    yield build
    for each in made:
        each.loop.shutdown()
        each.thread.join(5)
        assert not each.thread.is_alive()


def test_assets_play_in_order_and_each_play_is_recorded(harness):
    h = harness([item("a"), item("b")])
    h.wait_for(lambda: len(h.recorder.plays) >= 4)
    assert [p[0] for p in h.recorder.plays[:4]] == ["a", "b", "a", "b"]
    assert all(p[1] == "headless" and p[2] == "completed" for p in h.recorder.plays[:3])


def test_next_interrupts_a_long_asset(harness):
    # How fast the switch is belongs to benchmarks/player.py (``next`` latency).
    h = harness([item("a", duration=60), item("b", duration=60)])
    h.wait_for(lambda: h.loop.current_asset_id == "a")
    h.loop.skip()
    # A deadline far below the asset's 60 s: the switch came from next, not the duration.
    h.wait_for(lambda: h.loop.current_asset_id == "b", timeout_s=20)
    assert h.recorder.plays[0] == ["a", "headless", "interrupted"]


def test_previous_and_jump_choose_the_asset_at_once(harness):
    h = harness([item("a", duration=60), item("b", duration=60), item("c", duration=60)])
    h.wait_for(lambda: h.loop.current_asset_id == "a")
    h.loop.skip()
    h.wait_for(lambda: h.loop.current_asset_id == "b", timeout_s=20)
    h.loop.previous()
    h.wait_for(lambda: h.loop.current_asset_id == "a", timeout_s=20)
    h.loop.jump("c")
    h.wait_for(lambda: h.loop.current_asset_id == "c", timeout_s=20)
    # An unknown id is ignored (docs/legacy-api.md Q6) and the playlist goes on where it was
    # (docs/legacy-api.md §8.3).
    h.loop.jump("no-such-asset")
    h.wait_for(lambda: h.loop.current_asset_id == "b", timeout_s=20)
    assert [p[0] for p in h.recorder.plays] == ["a", "b", "a", "c", "b"]


def test_an_empty_playlist_shows_standby_and_sleeps_until_a_refresh(harness):
    h = harness([])
    h.wait_for(lambda: h.on_screen() == "standby")
    time.sleep(0.3)
    # Standby is shown once, not re-shown by a poll.
    assert h.record.exists() is False
    assert h.loop.current_asset_id is None
    h.items.append(item("a", duration=60))
    h.loop.refresh()
    h.wait_for(lambda: h.loop.current_asset_id == "a", timeout_s=20)


def test_stop_blanks_to_standby_and_play_resumes(harness):
    h = harness([item("a", duration=60)])
    h.wait_for(lambda: h.loop.current_asset_id == "a")
    h.loop.pause()
    h.wait_for(lambda: h.on_screen() == "standby", timeout_s=20)
    assert h.loop.current_asset_id is None
    h.loop.refresh()  # a data change while paused does not resume
    time.sleep(0.1)
    assert h.on_screen() == "standby"
    h.loop.resume()
    h.wait_for(lambda: h.loop.current_asset_id == "a", timeout_s=20)
    assert [p[2] for p in h.recorder.plays] == ["interrupted", None]


def test_a_refresh_keeps_the_asset_on_screen_unless_it_left_the_playlist(harness):
    h = harness([item("a", duration=60), item("b", duration=60)])
    h.wait_for(lambda: h.loop.current_asset_id == "a")
    h.items.append(item("c", duration=60))
    h.loop.refresh()
    time.sleep(0.2)
    assert h.loop.current_asset_id == "a"
    assert [p.asset_id for p in h.rotation.playlist] == ["a", "b", "c"]
    h.items[0] = item("a", duration=60, is_enabled=False)
    h.loop.refresh()
    # The position is kept (docs/legacy-api.md §8.2): index 1 of the new list [b, c].
    h.wait_for(lambda: h.loop.current_asset_id == "c", timeout_s=20)
    assert h.recorder.plays[0][2] == "interrupted"


class SlowToShow(HeadlessRenderer):
    """A renderer whose ``show`` waits for ``release``, like Chromium painting a page."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.showing = threading.Event()
        self.release = threading.Event()

    def show(self, shown: PlayItem) -> None:
        if shown.asset_id != "standby":
            self.showing.set()
            self.release.wait(5)
        super().show(shown)


def test_a_refresh_while_the_chosen_asset_is_still_being_shown_does_not_cut_it(harness, tmp_path):
    # Found by CI: a second asset added while the first was being put on screen cut the first
    # short (the loop took "nothing on screen yet" for standby), so it was logged interrupted.
    renderer = SlowToShow(tmp_path / "shown.jsonl")
    h = harness([item("a", duration=60)], make_renderer=lambda: renderer)
    assert renderer.showing.wait(5)
    h.items.append(item("b", duration=60))
    h.loop.refresh()
    renderer.release.set()
    h.wait_for(lambda: h.loop.current_asset_id == "a")
    time.sleep(0.3)
    assert h.loop.current_asset_id == "a"
    assert [(asset_id, outcome) for asset_id, _, outcome in h.recorder.plays] == [("a", None)]


def test_the_next_asset_is_preloaded_while_the_current_one_plays(harness):
    h = harness([item("a", duration=60), item("b", duration=60)])
    h.wait_for(lambda: h.loop.current_asset_id == "a")
    h.wait_for(lambda: h.renderers[0].preloaded == "b", timeout_s=20)
    assert h.on_screen() == "a"


def test_an_unreachable_url_is_skipped_fast_and_its_check_cached(harness):
    probes: list[str] = []

    def probe(checked: PlayItem) -> bool:
        probes.append(checked.asset_id)
        return checked.asset_id != "down"

    availability = Availability(probe)
    h = harness([item("up", duration=0.1, skip_asset_check=False),
                 item("down", duration=0.1, skip_asset_check=False)],
                availability=availability)
    h.wait_for(lambda: len(h.recorder.plays) >= 3)
    assert [p[0] for p in h.recorder.plays[:3]] == ["up", "up", "up"]
    assert ("down", "skipped") in h.recorder.skips
    assert sorted(set(probes)) == ["down", "up"] and len(probes) == 2


def test_an_asset_the_server_marked_unreachable_is_skipped_without_a_probe():
    probes: list[str] = []
    availability = Availability(lambda i: probes.append(i.asset_id) or True,
                                marked_unreachable=lambda asset_id: asset_id == "down")
    assert availability.is_available(item("down", skip_asset_check=False)) is False
    assert availability.is_available(item("down")) is True  # skip_asset_check wins
    assert availability.is_available(item("x", uri="/no/such/file", skip_asset_check=False)) \
        is False
    assert probes == []
    availability.close()


def test_a_renderer_crash_is_restarted_and_playback_goes_on(harness, tmp_path):
    made: list[HeadlessRenderer] = []

    class Crashing(HeadlessRenderer):
        def wait_until_done(self, timeout_s, interrupt):
            raise PlayerUnavailable("renderer died")

    def make():
        renderer = (Crashing if not made else HeadlessRenderer)(tmp_path / "shown.jsonl")
        made.append(renderer)
        return renderer

    h = harness([item("a", duration=60)], make_renderer=make)
    h.wait_for(lambda: len(made) == 2 and h.loop.current_asset_id == "a")
    assert h.recorder.plays[0] == ["a", "crashing", "failed"]
    assert h.loop.renderer is made[1]


def test_the_splash_shows_until_the_first_command(harness):
    splash = splash_item("0.0.0.0:8080")
    assert splash.uri == "http://127.0.0.1:8080/splash-page"
    h = harness([item("a", duration=60)], splash=splash)
    h.wait_for(lambda: h.on_screen() == "splash")
    time.sleep(0.2)
    assert h.on_screen() == "splash" and h.loop.current_asset_id is None
    h.loop.skip()
    h.wait_for(lambda: h.loop.current_asset_id == "a", timeout_s=20)
    assert h.recorder.plays[0][0] == "a"


def test_show_splash_shows_the_splash_for_its_time_then_playing_goes_on(harness, monkeypatch):
    monkeypatch.setattr("player.loop.SPLASH_S", 0.4)
    h = harness([item("a", duration=60)], splash=splash_item("127.0.0.1:8080"),
                splash_at_start=False)
    h.wait_for(lambda: h.loop.current_asset_id == "a", timeout_s=20)  # no splash at start

    h.loop.splash_now()

    h.wait_for(lambda: h.on_screen() == "splash", timeout_s=20)
    assert h.loop.current_asset_id is None
    assert h.wait_for(lambda: h.loop.current_asset_id == "a", timeout_s=20) > 0.2
    assert [play[0] for play in h.recorder.plays] == ["a", "a"]


def test_a_page_shown_while_paused_stays_until_play(harness):
    h = harness([item("a", duration=60)])
    h.wait_for(lambda: h.loop.current_asset_id == "a", timeout_s=20)

    h.loop.show_page(hotspot_item("0.0.0.0:8080", {"network": "Anthias Setup"}))
    h.wait_for(lambda: h.on_screen() == "hotspot", timeout_s=20)
    h.loop.refresh()  # a data change does not end the page
    time.sleep(0.2)
    assert h.on_screen() == "hotspot" and h.loop.current_asset_id is None

    h.loop.resume()
    h.wait_for(lambda: h.loop.current_asset_id == "a", timeout_s=20)


def test_offline_the_last_playlist_is_kept():
    calls = iter([[item("a")], OSError("database gone")])

    def load():
        result = next(calls)
        if isinstance(result, Exception):
            raise result
        return result

    guarded = last_good(load)
    first = guarded()
    assert [i.asset_id for i in first] == ["a"]
    assert guarded() is first


def test_the_play_log_names_the_renderer_that_shows_each_kind(tmp_path):
    router = MediaRouter(HeadlessRenderer(tmp_path / "a"), HeadlessRenderer(tmp_path / "b"))
    router.browser.__class__ = type("BrowserRenderer", (HeadlessRenderer,), {})
    router.media.__class__ = type("MpvRenderer", (HeadlessRenderer,), {})
    assert renderer_label(router, item("a", mimetype="image")) == "browser"
    assert renderer_label(router, item("v", mimetype="video")) == "mpv"
    assert renderer_label(HeadlessRenderer(tmp_path / "c"), item("a")) == "headless"


def test_while_the_server_starts_the_standby_shows_then_the_splash(harness):
    # The splash page comes from the local server, which may still be starting: the
    # screen shows the standby image at once instead of staying black until it answers.
    ready = threading.Event()
    h = harness([item("a", duration=60)], splash=splash_item("127.0.0.1:8080"),
                splash_ready=ready.is_set)
    h.wait_for(lambda: h.on_screen() == "standby", timeout_s=20)
    ready.set()
    h.wait_for(lambda: h.on_screen() == "splash", timeout_s=20)
    assert h.loop.current_asset_id is None
