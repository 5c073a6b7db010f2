"""Player figures: playlist build, ``next`` latency in Chromium, idle CPU.

1. ``build_playlist`` for 10,000 assets (the data of ``benchmarks/player_rotation.py``),
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
5. On screen: a private Xvfb at 1920x1080 with no window manager, real Chromium
   and mpv playing a web page, an image and two videos (solid colours), filmed with
   ffmpeg's x11grab and classified frame by frame: time to the first picture at start,
   blank (black, white or partly covered) frames per switch, the time from one asset's
   end to the next one's first frame into and out of a video, and renderer restarts.

Usage: ``.venv/bin/python benchmarks/player.py [--switches 30] [--cpu-seconds 30] [--json]
[--screen-seconds 120] [--only-screen] [--screen-asset-seconds 3] [--screen-display N]``;
``--screen-seconds 3600 --only-screen`` is the one-hour run, and ``--screen-asset-seconds 1``
makes more switches an hour (a display number keeps parallel runs apart).
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
from benchmarks.player_rotation import NOW, ZONE, asset_fields, machine, median_ms
from player.rotation import PlayItem, build_playlist

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
    """Median wall and CPU ms of build_playlist over the rotation benchmark's data."""
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
    from player.rotation import Rotation

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
    loop = PlayLoop(Rotation(lambda: items, dt.UTC), lambda: renderer)
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
        # A local path is accepted only inside the asset folder (docs/legacy-api.md §4.5).
        media = home / "screenly_assets"
        media.mkdir(exist_ok=True)
        ids = [_call(base, "POST", "/api/v2/assets", v2_asset(
            name=name, uri=str(solid_png(media / f"{name}.png", colour)), mimetype="image",
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


def bench_screen(seconds: float, fps: int = 10, asset_seconds: float = 3.0,
                 display: int | None = None) -> dict[str, Any]:
    """The player on a filmed bare X screen for ``seconds``; see item 5 of the docstring.

    Every asset lasts ``asset_seconds`` (the videos are made that long); ``display`` is
    Xvfb's display number, a free one when None.
    """
    import http.server

    from player.loop import PlayLoop
    from player.renderers import MediaRouter, choose_renderer
    from player.rotation import Rotation
    from tests.player.screen_capture import (
        Recorder,
        TimedRecorder,
        classify,
        solid_video,
        xvfb,
    )

    size = (1920, 1080)
    palette = {"green": (0, 128, 0), "red": (255, 0, 0), "blue": (0, 0, 255),
               "magenta": (255, 0, 255)}
    colour_of = {"web": "green", "image": "red", "video-blue": "blue",
                 "video-magenta": "magenta"}
    page = b"<html><body style='margin:0;background:rgb(0,128,0)'></body></html>"

    class Green(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    folder = Path(tempfile.mkdtemp(prefix="anthias-bench-screen-"))
    server = http.server.ThreadingHTTPServer((HOST, 0), Green)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start, end = dt.datetime(2020, 1, 1), dt.datetime(2099, 1, 1)

    def item(asset_id: str, uri: str, mimetype: str, order: int, duration: float) -> PlayItem:
        return PlayItem(asset_id, name=asset_id, uri=uri, mimetype=mimetype, duration=duration,
                        start_date=start, end_date=end, is_enabled=True,
                        skip_asset_check=True, play_order=order)

    length = asset_seconds
    items = [item("web", f"http://{HOST}:{server.server_address[1]}/", "webpage", 0, length),
             item("video-blue", str(solid_video(folder / "blue.mp4", "blue", length)), "video",
                  1, length),
             item("image", str(solid_png(folder / "red.png", (255, 0, 0))), "image", 2, length),
             item("video-magenta", str(solid_video(folder / "magenta.mp4", "magenta", length)),
                  "video", 3, length)]
    made: list[Any] = []
    saved = {key: os.environ.get(key) for key in ("DISPLAY", "WAYLAND_DISPLAY")}
    blank = first_picture_s = None
    blank_where: dict[str, int] = {}
    try:
        with xvfb(size, display) as screen_name:
            os.environ["DISPLAY"] = screen_name
            os.environ.pop("WAYLAND_DISPLAY", None)

            def make() -> Any:
                made.append(choose_renderer("auto"))
                return made[-1]

            events = TimedRecorder()
            film = Recorder(screen_name, size, fps=fps)
            time.sleep(1.0)
            loop = PlayLoop(Rotation(lambda: items, dt.UTC), make, recorder=events,
                            splash_at_start=False)
            started = time.monotonic()
            thread = threading.Thread(target=loop.run, daemon=True)
            thread.start()
            time.sleep(seconds)
            loop.shutdown()
            thread.join(30)
            frames = film.stop()
    finally:
        server.shutdown()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    labels = [(frame.at, classify(frame.rgb, palette)) for frame in frames]
    content = [(at, label) for at, label in labels if at >= started]
    first = next((i for i, (_, label) in enumerate(content)
                  if label.full and not label.blank), None)
    if first is not None:
        first_picture_s = content[first][0] - started
        played = [(at, label) for at, label in content[first:]
                  if at <= events.events[-1][0]] if events.events else []
        blank = sum(1 for _, label in played if label.blank or not label.full)
        # Where the blank frames fell: "<outgoing> -> <incoming>: <kind of frame>".
        for index, (_, label) in enumerate(played):
            if label.blank or not label.full:
                before = next((lab.name for _, lab in reversed(played[:index])
                               if lab.full and not lab.blank), "?")
                after = next((lab.name for _, lab in played[index + 1:]
                              if lab.full and not lab.blank), "?")
                kind = label.name if label.blank else f"partial {label.name}"
                key = f"{before} -> {after}: {kind}"
                blank_where[key] = blank_where.get(key, 0) + 1
    # Switch times: from one asset's end (the loop's turn) to the next one's first frame.
    into, out_of, into_shown, out_shown = [], [], [], []
    starts = [(at, asset) for at, kind, asset in events.events if kind == "start"]
    ends = [at for at, kind, _ in events.events if kind == "end"]
    for (at, asset), (_, previous) in zip(starts[1:], starts, strict=False):
        turn = max((e for e in ends if e <= at), default=None)
        colour = colour_of.get(asset)
        seen = next((frame_at for frame_at, label in labels
                     if turn is not None and frame_at >= turn and label.full
                     and label.name == colour), None)
        if turn is None or seen is None:
            continue
        bucket = into if asset.startswith("video") else out_of \
            if previous.startswith("video") else None
        if bucket is not None:
            bucket.append((seen - turn) * 1000)
            # The player's own view: from the turn to show() returning (picture is up).
            (into_shown if bucket is into else out_shown).append((at - turn) * 1000)
    switches = max(0, len(starts) - 1)
    router = made[0] if made else None
    return {
        "seconds": seconds, "fps": fps, "frames": len(frames), "switches": switches,
        "first_picture_s": None if first_picture_s is None else round(first_picture_s, 2),
        "blank_frames": blank,
        "blank_frames_where": blank_where,
        "blank_frames_per_switch": None if blank is None or not switches
        else round(blank / switches, 3),
        "into_video_median_ms": round(statistics.median(into), 0) if into else None,
        "into_video_max_ms": round(max(into), 0) if into else None,
        "out_of_video_median_ms": round(statistics.median(out_of), 0) if out_of else None,
        "out_of_video_max_ms": round(max(out_of), 0) if out_of else None,
        "into_video_shown_median_ms": round(statistics.median(into_shown), 0)
        if into_shown else None,
        "out_of_video_shown_median_ms": round(statistics.median(out_shown), 0)
        if out_shown else None,
        "renderer_restarts": max(0, len(made) - 1),
        "mpv_restarts": getattr(router, "media_restarts", None)
        if isinstance(router, MediaRouter) else None,
        "skipped": sum(1 for _, kind, _ in events.events if kind.startswith("skipped")),
    }


def screen_lines(screen: dict[str, Any]) -> list[str]:
    """The on-screen figures as text."""
    return [
        f"screen, bare Xvfb 1920x1080, {screen['seconds']:.0f} s filmed at {screen['fps']} fps "
        f"({screen['frames']} frames, {screen['switches']} switches):",
        f"  first picture {screen['first_picture_s']} s after the player started (target 3 s)",
        f"  blank frames {screen['blank_frames']} ({screen['blank_frames_per_switch']} per "
        f"switch; target 0) {screen['blank_frames_where'] or ''}",
        f"  into video: median {screen['into_video_median_ms']} ms, max "
        f"{screen['into_video_max_ms']} ms; out of video: median "
        f"{screen['out_of_video_median_ms']} ms, max {screen['out_of_video_max_ms']} ms "
        "(from the previous asset's end to the next one's first full filmed frame; the "
        f"player's show() returned after a median {screen['into_video_shown_median_ms']} ms "
        f"into and {screen['out_of_video_shown_median_ms']} ms out of video)",
        f"  renderer restarts {screen['renderer_restarts']}, mpv restarts "
        f"{screen['mpv_restarts']}, skipped {screen['skipped']}",
    ]


def main() -> None:
    """Measure and print every figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--switches", type=int, default=30)
    parser.add_argument("--cpu-seconds", type=float, default=30.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--screen-seconds", type=float, default=120.0)
    parser.add_argument("--screen-fps", type=int, default=10)
    parser.add_argument("--only-screen", action="store_true")
    parser.add_argument("--screen-asset-seconds", type=float, default=3.0)
    parser.add_argument("--screen-display", type=int, default=None,
                        help="Xvfb display number (default: a free one)")
    args = parser.parse_args()
    if args.only_screen:
        screen = bench_screen(args.screen_seconds, args.screen_fps,
                              args.screen_asset_seconds, args.screen_display)
        date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        if args.json:
            sys.stdout.write(json.dumps({"date": date, "machine": machine(),
                                         "screen": screen}, indent=2) + "\n")
        else:
            sys.stdout.write("\n".join([f"{date} on {machine()}", *screen_lines(screen)])
                             + "\n")
        return
    results = {"date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": machine(), "playlist": bench_playlist(),
               "chromium_next": bench_chromium_next(args.switches),
               "processes": bench_processes(min(args.switches, 20), args.cpu_seconds),
               "screen": bench_screen(args.screen_seconds, args.screen_fps,
                                      args.screen_asset_seconds, args.screen_display)}
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
        *screen_lines(results["screen"]),
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
