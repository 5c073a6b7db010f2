"""Time to build the player's playlist for 10,000 assets (target: 20 ms).

Prints the median of 20 runs of ``build_playlist`` (the target), and for
reference ``compute_deadline``, one whole ``Rotation`` regeneration from a
list, and reading the 10,000 rows from a migrated SQLite file with
``load_items_from_db`` (raw rows) and with peewee model instances.

Usage: ``.venv/bin/python benchmarks/player_rotation.py [--assets 10000] [--runs 20] [--json]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anthias_edge.db import db, open_database, run_migrations
from anthias_edge.models import Asset
from player.playlist_source import load_items_from_db
from player.rotation import PlayItem, Rotation, build_playlist, compute_deadline

ZONE = ZoneInfo("Europe/Berlin")
NOW = dt.datetime(2030, 6, 5, 12, 0)
WINDOWS = [(None, None)] * 6 + [("09:00:00", "17:00:00"), ("22:00:00", "06:00:00")]
DAYS = [(1, 2, 3, 4, 5, 6, 7)] * 4 + [(1, 2, 3, 4, 5), (6, 7)]


def asset_fields(rng: random.Random, n: int) -> dict:
    """A realistic mix: mostly active, some disabled, expired, future, null-dated, windowed."""
    start = NOW - dt.timedelta(days=rng.randint(1, 30))
    end = NOW + dt.timedelta(days=rng.randint(-2, 60), minutes=rng.randint(0, 1440))
    if rng.random() < 0.05:
        start, end = None, None
    time_from, time_to = rng.choice(WINDOWS)
    return {
        "asset_id": uuid.UUID(int=rng.getrandbits(128)).hex, "name": f"asset {n}",
        "uri": f"https://example.com/{n}", "mimetype": rng.choice(["webpage", "image", "video"]),
        "duration": 10, "start_date": start, "end_date": end, "is_enabled": rng.random() < 0.9,
        "play_order": rng.randrange(10_000), "play_days": rng.choice(DAYS),
        "play_time_from": time_from, "play_time_to": time_to,
    }


def median_ms(runs: int, action: Callable[[], object]) -> tuple[float, float]:
    """Median wall and CPU time of ``runs`` calls, in milliseconds, after one warm-up call.

    CPU time is the fairer figure on a shared machine: wall time includes waiting for a core.
    """
    action()
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def machine() -> str:
    """CPU model, core count and Python version, for comparing figures across machines."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith(("model name", "Model")):
                model = line.split(":", 1)[1].strip()
                break
    return (f"{model}, {os.cpu_count()} cores, {platform.system()}, "
            f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")


def run(assets: int, runs: int) -> dict:
    """Measure every figure and return them by name."""
    rng = random.Random(42)
    fields = [asset_fields(rng, n) for n in range(assets)]
    items = [PlayItem(**f) for f in fields]
    shuffled = random.Random(1)
    results = {
        "assets": assets,
        "runs": runs,
        "machine": machine(),
        "playlist_entries": len(build_playlist(items, NOW, ZONE)),
        "build_playlist_ms": median_ms(runs, lambda: build_playlist(items, NOW, ZONE)),
        "build_playlist_shuffled_ms": median_ms(
            runs, lambda: build_playlist(items, NOW, ZONE, True, shuffled)),
        "compute_deadline_ms": median_ms(runs, lambda: compute_deadline(items, NOW, ZONE)),
    }

    def regenerate() -> None:
        rotation = Rotation(lambda: items, ZONE)
        rotation.next_asset(NOW)

    results["rotation_regeneration_ms"] = median_ms(runs, regenerate)
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(Path(folder) / "screenly.db")
        run_migrations(database)
        db.initialize(database)
        with database.atomic():
            for batch in range(0, assets, 500):
                Asset.insert_many([{**f, "play_days": list(f["play_days"])}
                                   for f in fields[batch:batch + 500]]).execute()
        results["db_read_playitems_ms"] = median_ms(runs, load_items_from_db)
        results["db_read_peewee_models_ms"] = median_ms(
            runs, lambda: list(Asset.for_tenant(None)))
        database.close_all()
    return results


def main() -> None:
    """Parse arguments, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    results = run(args.assets, args.runs)
    if args.json:
        print(json.dumps(results))
        return
    print(f"machine: {results['machine']}")
    print(f"{results['assets']} assets, {results['playlist_entries']} in the playlist, "
          f"median of {results['runs']} runs")
    print(f"  {'':28s} {'wall':>8s}    {'cpu':>8s}")
    for name, value in results.items():
        if name.endswith("_ms"):
            print(f"  {name:28s} {value[0]:8.2f} ms {value[1]:8.2f} ms")
    verdict = "OK" if results["build_playlist_ms"][0] <= 20 else "OVER"
    print(f"target build_playlist <= 20 ms: {verdict}")


if __name__ == "__main__":
    main()
