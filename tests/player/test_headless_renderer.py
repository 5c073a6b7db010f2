"""The headless renderer records each shown asset as one JSON line."""

from __future__ import annotations

import json
import threading
from datetime import datetime

import pytest

from anthias_edge.errors import StartupError
from player.renderers import Renderer, choose_renderer
from player.renderers.headless import HeadlessRenderer
from tests.player.items import renderer_item


def _records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_shown_asset_becomes_one_line_with_its_outcome(tmp_path):
    path = tmp_path / "sub" / "shown.jsonl"
    renderer = HeadlessRenderer(path)
    renderer.start()
    renderer.show(renderer_item("a"))
    assert renderer.current() == "a"
    assert renderer.wait_until_done(0.05, threading.Event()) == "timeout"
    renderer.show(renderer_item("b", mimetype="image"))
    renderer.show(renderer_item("c"))
    renderer.stop()
    records = _records(path)
    assert [(r["asset_id"], r["outcome"]) for r in records] == [
        ("a", "timeout"), ("b", "replaced"), ("c", "stopped")]
    assert set(records[0]) == {"asset_id", "uri", "mimetype", "shown_at", "ended_at", "outcome"}
    first = records[0]
    elapsed = datetime.fromisoformat(first["ended_at"]) - datetime.fromisoformat(first["shown_at"])
    assert elapsed.total_seconds() >= 0.04
    assert renderer.current() is None


def test_an_interrupt_ends_the_wait_before_the_duration(tmp_path):
    renderer = HeadlessRenderer(tmp_path / "shown.jsonl")
    renderer.show(renderer_item("a"))
    interrupt = threading.Event()
    threading.Timer(0.1, interrupt.set).start()
    # "interrupted", not "timeout": the 30-s asset was cut short by the interrupt.
    assert renderer.wait_until_done(30, interrupt) == "interrupted"
    assert _records(tmp_path / "shown.jsonl")[0]["outcome"] == "interrupted"


def test_close_records_the_asset_on_screen(tmp_path):
    renderer = HeadlessRenderer(tmp_path / "shown.jsonl")
    renderer.preload(renderer_item("next"))
    renderer.show(renderer_item("a"))
    renderer.close()
    renderer.close()
    assert [r["outcome"] for r in _records(tmp_path / "shown.jsonl")] == ["closed"]


def test_it_satisfies_the_renderer_interface(tmp_path):
    assert isinstance(HeadlessRenderer(tmp_path / "x.jsonl"), Renderer)


def test_choose_renderer_builds_each_named_renderer(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    record = tmp_path / "shown.jsonl"
    assert type(choose_renderer("headless", record_path=record)).__name__ == "HeadlessRenderer"
    assert type(choose_renderer("auto", record_path=record)).__name__ == "HeadlessRenderer"
    assert type(choose_renderer("auto", headless=True)).__name__ == "MediaRouter"
    assert type(choose_renderer("browser", headless=True)).__name__ == "BrowserRenderer"
    assert type(choose_renderer("mpv", headless=True)).__name__ == "MpvRenderer"


def test_choose_renderer_rejects_an_unknown_name():
    with pytest.raises(StartupError, match="Unknown renderer"):
        choose_renderer("vlc")
