"""Player figures of issue 3: playlist build, ``next`` latency in Chromium, idle CPU.

1. ``build_playlist`` for 10,000 assets (the data of ``benchmarks/player_schedule.py``),
   median of 20 runs (target: 20 ms).
2. Command-to-screen latency of ``next`` in headless Chromium (target: 150 ms median):
   a ``PlayLoop`` on a real ``BrowserRenderer`` and a real ``CommandListener``; the
   benchmark publishes ``viewer next`` on a real ``ServerMessenger`` and times until
   the renderer reports the other asset on screen (swapped in and one frame painted).
3. The same switch seen from outside: a real server and ``anthias-edge player --renderer
   headless`` processes, ``GET /api/v1/assets/control/next`` until
   ``GET /api/v1/viewer_current_asset`` names the other asset.
4. CPU use of that player process while it shows one 60-s image asset: utime+stime from
   /proc/<pid>/stat over 30 s (target: < 1 %).

Usage: ``.venv/bin/python benchmarks/player.py [--switches 30] [--cpu-seconds 30] [--json]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._server import free_ports, v2_asset
from benchmarks.player_schedule import NOW, ZONE, asset_fields, machine, median_ms
from player.schedule import PlayItem, build_playlist

HOST = "127.0.0.1"


def solid_png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (320, 180)) -> Path:
    """Write a one-colour PNG."""
    width, height = size
    row = b"\x00" + bytes(colour) * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b""))
    return path


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def bench_playlist(assets: int = 10_000, runs: int = 20) -> dict[str, Any]:
    """Median wall and CPU ms of build_playlist over the schedule benchmark's data."""
    rng = random.Random(42)
    items = [PlayItem(**asset_fields(rng, n)) for n in range(assets)]
    wall, cpu = median_ms(runs, lambda: build_playlist(items, NOW, ZONE))
    return {"assets": assets, "build_playlist_ms": round(wall, 2), "build_playlist_cpu_ms":
            round(cpu, 2)}


def bench_chromium_next(switches: int) -> dict[str, Any]:
    """``viewer next`` over ZeroMQ to a PlayLoop on headless Chromium; ms until on screen."""
    from anthias_edge.messaging import ServerMessenger, ViewerEndpoint
    from player.commands import CommandHandler, CommandListener
    from player.loop import PlayLoop
    from player.renderers import find_chromium
    from player.renderers.browser import BrowserRenderer
    from player.schedule import Scheduler

    executable = find_chromium()
    if executable is None:
        return {"error": "Chromium is not installed"}
    folder = Path(tempfile.mkdtemp(prefix="anthias-bench-player-"))
    start, end = dt.datetime(2020, 1, 1), dt.datetime(2099, 1, 1)
    items = [PlayItem(name, name=name, uri=str(solid_png(folder / f"{name}.png", colour)),
                      mimetype="image", duration=60, start_date=start, end_date=end,
                      is_enabled=True, skip_asset_check=True, play_order=n)
             for n, (name, colour) in enumerate([("red", (255, 0, 0)), ("blue", (0, 0, 255))])]
    renderer = BrowserRenderer(executable, headless=True, window_size=(640, 360))
    loop = PlayLoop(Scheduler(lambda: items, dt.UTC), lambda: renderer)
    messenger = ServerMessenger(f"tcp://{HOST}:*", f"tcp://{HOST}:*")
    messenger.start()
    endpoint = ViewerEndpoint(messenger.publisher_endpoint, messenger.collector_endpoint)
    endpoint.start()
    listener = CommandListener(endpoint, CommandHandler(loop, endpoint.reply_current_asset))
    listener.start()
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    latencies: list[float] = []
    try:
        _wait(lambda: renderer.current() is not None, 30)
        _wait(lambda: messenger.ask_current_asset_id(timeout_s=0.2) is not None, 30)
        for _ in range(switches):
            time.sleep(0.4)  # a real asset shows for seconds; let the preload finish
            before = renderer.current()
            sent = time.perf_counter()
            messenger.send_to_viewer("next")
            _wait(lambda before=before: renderer.current() not in (None, before), 5, 0.0005)
            latencies.append((time.perf_counter() - sent) * 1000)
    finally:
        loop.shutdown()
        thread.join(20)
        listener.stop()
        endpoint.close()
        messenger.close()
    return {"switches": len(latencies), "median_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(percentile(latencies, 0.95), 1),
            "max_ms": round(max(latencies), 1)}


def _wait(predicate: Any, timeout_s: float, interval: float = 0.01) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if predicate():
                return
        except Exception:  # the player may not answer yet
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("condition not met in time")
        time.sleep(interval)


def _call(base: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_processes(switches: int, cpu_seconds: float) -> dict[str, Any]:
    """HTTP next latency through server and player processes, then the idle player's CPU."""
    home = Path(tempfile.mkdtemp(prefix="anthias-bench-player-home-"))
    port, publisher, collector = free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHIAS_")}
    env.pop("DATABASE_URL", None)
    env.update(HOME=str(home), ANTHIAS_LISTEN=f"{HOST}:{port}", ANTHIAS_SHOW_SPLASH="off",
               ANTHIAS_ZMQ_PUBLISHER=f"tcp://{HOST}:{publisher}",
               ANTHIAS_ZMQ_COLLECTOR=f"tcp://{HOST}:{collector}")
    base = f"http://{HOST}:{port}"
    cli = [sys.executable, "-m", "anthias_edge.cli"]
    log = (home / "bench.log").open("wb")
    server = subprocess.Popen([*cli, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    player = subprocess.Popen([*cli, "player", "--renderer", "headless"], env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _call(base, "GET", "/api/v2/assets") is not None, 30)
        _wait(lambda: _call(base, "GET", "/api/v1/viewer_current_asset") is not None, 30)
        ids = [_call(base, "POST", "/api/v2/assets", v2_asset(
            name=name, uri=str(solid_png(home / f"{name}.png", colour)), mimetype="image",
            duration=60))["asset_id"] for name, colour in (("red", (255, 0, 0)),
                                                           ("blue", (0, 0, 255)))]

        def current() -> str | None:
            body = _call(base, "GET", "/api/v1/viewer_current_asset")
            return body["asset_id"] if body else None

        _wait(lambda: current() in ids, 10)
        latencies = []
        for _ in range(switches):
            before = current()
            sent = time.perf_counter()
            _call(base, "GET", "/api/v1/assets/control/next")
            _wait(lambda before=before: current() not in (None, before), 5, 0.005)
            latencies.append((time.perf_counter() - sent) * 1000)
        _call(base, "PATCH", f"/api/v2/assets/{ids[1]}", {"is_enabled": False})
        _wait(lambda: current() == ids[0], 10)
        time.sleep(1.0)
        cpu_before, wall_before = _cpu_seconds(player.pid), time.monotonic()
        time.sleep(cpu_seconds)
        cpu = _cpu_seconds(player.pid) - cpu_before
        wall = time.monotonic() - wall_before
    finally:
        for process in (player, server):
            process.send_signal(signal.SIGTERM)
        for process in (player, server):
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
    return {"http_next_switches": len(latencies),
            "http_next_median_ms": round(statistics.median(latencies), 1),
            "http_next_p95_ms": round(percentile(latencies, 0.95), 1),
            "idle_cpu_seconds": round(wall, 1),
            "idle_cpu_percent": round(100 * cpu / wall, 3)}


def main() -> None:
    """Measure and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=30)
    parser.add_argument("--cpu-seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": machine(), "playlist": bench_playlist(),
               "chromium_next": bench_chromium_next(args.switches),
               "processes": bench_processes(min(args.switches, 20), args.cpu_seconds)}
    if args.json:
        sys.stdout.write(json.dumps(results, indent=2) + "\n")
        return
    playlist, chromium, processes = (results["playlist"], results["chromium_next"],
                                     results["processes"])
    lines = [
        f"{results['date']} on {results['machine']}",
        f"build_playlist, {playlist['assets']} assets: {playlist['build_playlist_ms']} ms "
        f"(CPU {playlist['build_playlist_cpu_ms']} ms; target 20 ms)",
        f"next -> on screen, headless Chromium over ZeroMQ ({chromium.get('switches')} switches):"
        f" median {chromium.get('median_ms')} ms, p95 {chromium.get('p95_ms')} ms, "
        f"max {chromium.get('max_ms')} ms (target median 150 ms)",
        f"HTTP control/next -> viewer_current_asset, processes "
        f"({processes['http_next_switches']} switches): median "
        f"{processes['http_next_median_ms']} ms, p95 {processes['http_next_p95_ms']} ms",
        f"player CPU showing a 60-s image, {processes['idle_cpu_seconds']} s: "
        f"{processes['idle_cpu_percent']} % (target < 1 %)",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
