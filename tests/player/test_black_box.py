"""Black box: a real server and a real player process, talking over real ZeroMQ.

Only the HTTP API is used to drive and observe them, as a user would. Timing
limits are generous (a loaded CI machine); ``benchmarks/player.py`` measures the figures.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import reset_postgresql
from tests.helpers import free_ports, v2_asset

HOST = "127.0.0.1"


@dataclass
class Stack:
    """The running server and player, and how to reach the server."""

    base: str
    server: subprocess.Popen[bytes]
    player: subprocess.Popen[bytes]

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def create(self, name: str, duration: int, **fields: Any) -> str:
        status, body = self.call("POST", "/api/v2/assets",
                                 v2_asset(name=name, uri=f"https://example.com/{name}",
                                          duration=duration, **fields))
        assert status == 201, body
        return body["asset_id"]

    def current(self) -> str | None:
        """The asset id the player reports, None for nothing on screen (standby)."""
        status, body = self.call("GET", "/api/v1/viewer_current_asset")
        assert status == 200, body
        return body["asset_id"] if body else None

    def control(self, command: str) -> None:
        status, _ = self.call("GET", f"/api/v1/assets/control/{command}")
        assert status == 200

    def wait_for(self, predicate: Callable[[], Any], timeout_s: float = 10.0) -> float:
        """Seconds until ``predicate()`` is truthy; fail after ``timeout_s``."""
        started = time.monotonic()
        while not predicate():
            if time.monotonic() - started > timeout_s:
                pytest.fail(f"condition not met within {timeout_s} s")
            time.sleep(0.02)
        return time.monotonic() - started


def _stop(process: subprocess.Popen[bytes]) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            return -9
    return process.returncode


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    home = tmp_path / "home"
    home.mkdir()
    port, publisher, collector = free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHIAS_")}
    env.pop("DATABASE_URL", None)
    env.pop("NOTIFY_SOCKET", None)
    env.update(HOME=str(home), ANTHIAS_LISTEN=f"{HOST}:{port}",
               ANTHIAS_ZMQ_PUBLISHER=f"tcp://{HOST}:{publisher}",
               ANTHIAS_ZMQ_COLLECTOR=f"tcp://{HOST}:{collector}", ANTHIAS_SHOW_SPLASH="off",
               ANTHIAS_REBOOT_COMMAND="true", ANTHIAS_SHUTDOWN_COMMAND="true")
    if os.environ.get("ANTHIAS_TEST_DATABASE_URL"):
        # A fresh database per test, as every in-process test gets (tests.conftest.make_app).
        reset_postgresql(os.environ["ANTHIAS_TEST_DATABASE_URL"])
        env["DATABASE_URL"] = os.environ["ANTHIAS_TEST_DATABASE_URL"]
    logs = tmp_path / "logs"
    logs.mkdir()
    with (logs / "server.log").open("wb") as server_log, \
            (logs / "player.log").open("wb") as player_log:
        server = subprocess.Popen([sys.executable, "-m", "anthias_edge.cli", "serve"], env=env,
                                  stdout=server_log, stderr=subprocess.STDOUT)
        player = subprocess.Popen([sys.executable, "-m", "anthias_edge.cli", "player",
                                   "--renderer", "headless"], env=env,
                                  stdout=player_log, stderr=subprocess.STDOUT)
    running = Stack(f"http://{HOST}:{port}", server, player)
    try:
        running.wait_for(lambda: _answers(running), timeout_s=30)
        # The player is connected once it answers (ZeroMQ's slow joiner is over).
        running.wait_for(lambda: running.call("GET", "/api/v1/viewer_current_asset")[0] == 200,
                         timeout_s=30)
        yield running
    finally:
        player_code, server_code = _stop(player), _stop(server)
        print((logs / "player.log").read_text())
    assert player_code == 0
    assert server_code == 0


def _answers(stack: Stack) -> bool:
    try:
        return stack.call("GET", "/api/v2/assets")[0] == 200
    except OSError:
        return False


def _changes(stack: Stack, seconds: float) -> list[tuple[float, str | None]]:
    """Poll the current asset for ``seconds``; return (time, id) at each change."""
    seen: list[tuple[float, str | None]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        current = stack.current()
        if not seen or seen[-1][1] != current:
            seen.append((time.monotonic(), current))
        time.sleep(0.05)
    return seen


def test_two_assets_alternate_with_their_dwell_and_the_plays_are_logged(stack):
    a, b = stack.create("A", 2), stack.create("B", 2)
    stack.wait_for(lambda: stack.current() in (a, b))
    seen = _changes(stack, 9)
    ids = [asset_id for _, asset_id in seen]
    assert set(ids) == {a, b}
    assert all(x != y for x, y in itertools.pairwise(ids))
    dwells = [t2 - t1 for (t1, _), (t2, _) in itertools.pairwise(seen[1:])]
    assert len(dwells) >= 2
    # Each 2-s asset stays its full dwell; how punctually it leaves is not asserted (CI load).
    assert all(dwell > 1.2 for dwell in dwells), dwells
    status, plays = stack.call("GET", "/api/v2/play_log?since=2020-01-01T00:00:00Z")
    assert status == 200
    done = [p for p in plays if p["outcome"] == "completed"]
    assert {p["asset_id"] for p in done} == {a, b}
    assert {p["renderer"] for p in plays} == {"headless"}
    assert {p["asset_name"] for p in done} == {"A", "B"}


def test_next_interrupts_a_60_s_asset(stack):
    a, b = stack.create("A", 60), stack.create("B", 60)
    stack.wait_for(lambda: stack.current() in (a, b))
    for _ in range(3):
        expected = a if stack.current() == b else b
        stack.control("next")
        # A deadline far below the assets' 60 s: the switch came from next, not the duration.
        stack.wait_for(lambda expected=expected: stack.current() == expected, timeout_s=20)

    def outcomes() -> list[str]:
        status, plays = stack.call("GET", "/api/v2/play_log?since=2020-01-01T00:00:00Z")
        assert status == 200
        return [play["outcome"] for play in plays]

    # The player reports each play's end on its own; the third may still be on its way.
    stack.wait_for(lambda: outcomes().count("interrupted") >= 3, timeout_s=20)
    assert sorted(outcomes()) == ["interrupted"] * 3 + ["playing"]


def test_stop_blanks_the_screen_and_play_resumes(stack):
    a = stack.create("A", 60)
    stack.wait_for(lambda: stack.current() == a)
    stack.control("stop")
    stack.wait_for(lambda: stack.current() is None, timeout_s=20)
    time.sleep(0.3)
    assert stack.current() is None
    stack.control("play")
    stack.wait_for(lambda: stack.current() == a, timeout_s=20)


def test_asset_jump_shows_the_chosen_asset(stack):
    ids = [stack.create(name, 60) for name in "ABC"]
    stack.wait_for(lambda: stack.current() in ids)
    time.sleep(0.3)  # let the last creation's refresh settle
    target = next(asset_id for asset_id in reversed(ids) if asset_id != stack.current())
    stack.control(f"asset&{target}")
    stack.wait_for(lambda: stack.current() == target, timeout_s=20)


def test_a_new_asset_appears_after_the_refresh_its_creation_sends(stack):
    assert stack.current() is None  # empty playlist: standby
    time.sleep(0.5)
    a = stack.create("A", 60)
    # No playlist deadline exists, so without the refresh the player would not look for an hour.
    # A deadline far below the hour the player would otherwise sleep.
    stack.wait_for(lambda: stack.current() == a, timeout_s=20)
    b = stack.create("B", 60)
    status, _ = stack.call("PATCH", f"/api/v2/assets/{a}", {"is_enabled": False})
    assert status == 200
    # The asset on screen left the playlist: the new one replaces it without waiting 60 s.
    stack.wait_for(lambda: stack.current() == b, timeout_s=20)


def test_the_player_command_refuses_an_unknown_renderer():
    from click.testing import CliRunner

    from anthias_edge.cli import main

    result = CliRunner().invoke(main, ["player", "--renderer", "vlc"])
    assert result.exit_code == 2
    assert "'vlc' is not one of 'auto', 'browser', 'mpv', 'headless'" in result.output
