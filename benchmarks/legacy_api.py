"""Throughput, latency, cold renders, memory and start-up of the legacy v2 asset API, on loopback.

Starts the production server as a subprocess with a fresh HOME and drives it with ``wrk``
(apt-get install -y wrk); ``--against URL`` runs the same scenarios, in the same run and
interleaved, against a second server that is already running (for example a real Anthias),
seeded the same way through its API, and prints both and the ratios. At 100 and at 1,000
assets, every round runs:

- ``GET /api/v2/assets`` (without and with ``Accept-Encoding: gzip``) and
  ``GET /api/v2/assets/<id>`` at 16 connections (after a warm-up);
- writes at 4 connections: PATCH (a new name, rotating over every asset), the playlist order
  (``POST /api/v2/assets/order``, two neighbours swapped), POST (a disabled asset, at most
  ``--write-burst`` of them) and DELETE (of exactly those new assets);
- the cold render: PATCH, then one ``GET /api/v2/assets``, with the server's CPU read from
  /proc around the GET, ``--cold-samples`` times (servers whose pid is known).

Prints the medians of ``--rounds`` rounds per scenario, start-up, idle RSS and the issue's
targets. Usage: ``.venv/bin/python benchmarks/legacy_api.py [--duration 10] [--rounds 3]
[--against http://127.0.0.1:8080 --against-pid PID] [--json]``. Load goes to 127.0.0.1
only and every run is bounded in time and in request count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import urllib.parse
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import HttpTarget, start_server, v2_asset
from _writes import (
    cold_render,
    create_fixed,
    delete_each,
    delete_limit,
    patch_rotating,
    reorder_by_swaps,
)
from _wrk import LoadResult, fixed_request, run_wrk

THREADS = 2
READ_CONNECTIONS = 16
WRITE_CONNECTIONS = 4
WARMUP_S = 2
IDLE_S = 2
SIZES = (100, 1000)
LIST = "/api/v2/assets"
# The targets (issue 11), checked against the medians of the first server.
COLD_TARGET_MS = {100: 3.0, 1000: 25.0}
WRITE_P99_TARGET_MS = 150.0
WRITES_PER_S_TARGET = 200.0
WRITE_SCENARIOS = ("PATCH", "order", "POST", "DELETE")


def machine() -> dict[str, Any]:
    """What this run was measured on, and when."""
    model = next((line.split(":", 1)[1].strip()
                  for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=Path(__file__).resolve().parent)
    return {
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "commit": commit.stdout.strip() or "unknown",
        "nproc": os.cpu_count(), "cpu_model": model, "ram_gib": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(), "kernel": platform.release(),
        "wrk": (wrk_version.stdout or wrk_version.stderr).split("[")[0].strip(),
    }


def settle(target: HttpTarget, timeout: float = 15.0) -> None:
    """Wait until the server is idle (requests left in flight by the last run answered)."""
    if not target.has_process:
        time.sleep(1.0)
        return
    deadline = time.perf_counter() + timeout
    last = target.cpu_ns()
    while time.perf_counter() < deadline:
        time.sleep(0.1)
        now = target.cpu_ns()
        if now - last < 5_000_000:  # under 5 % of one core
            return
        last = now


def active_in_play_order(target: HttpTarget) -> list[str]:
    """Ids of the active assets, by play_order: what the dashboard would send as the order."""
    active = [asset for asset in target.assets() if asset["is_active"]]
    return [asset["asset_id"] for asset in sorted(active, key=lambda a: a["play_order"])]


def trim_to(target: HttpTarget, keep: set[str]) -> None:
    """DELETE every asset not in ``keep`` (what a POST run left behind)."""
    conn = target.connection()
    try:
        for asset in target.assets():
            if asset["asset_id"] not in keep:
                status, _ = target.request("DELETE", f"{LIST}/{asset['asset_id']}", conn=conn)
                if status != 204:
                    raise RuntimeError(f"{target.label}: DELETE answered {status}")
    finally:
        conn.close()


def reads(target: HttpTarget, size: int, ids: list[str], duration: int,
          max_requests: int) -> list[LoadResult]:
    """The cached list and one asset, at 16 connections, each after a warm-up."""
    limit = max_requests // THREADS
    results = []
    gzip = {"Accept-Encoding": "gzip"}
    for scenario, path, headers in ((f"GET {LIST}", LIST, None),
                                    (f"GET {LIST}, gzip", LIST, gzip),
                                    (f"GET {LIST}/<id>", f"{LIST}/{ids[0]}", None)):
        get = fixed_request("GET", None, headers=headers)
        run_wrk(target, "warm-up", path, WARMUP_S, get, READ_CONNECTIONS, THREADS, limit)
        settle(target)  # a slow server still answers the warm-up's queued requests
        results.append(run_wrk(target, scenario, path, duration, get, READ_CONNECTIONS,
                               THREADS, limit))
        settle(target)
    return results


def writes(target: HttpTarget, ids: list[str], duration: int, burst: int,
           max_requests: int) -> list[LoadResult]:
    """PATCH, order, POST and DELETE at 4 connections; leaves the assets it found."""
    limit = max_requests // THREADS
    keep = set(ids)
    results = [run_wrk(target, "PATCH", f"{LIST}/{ids[0]}", duration,
                       patch_rotating(ids, THREADS), WRITE_CONNECTIONS, THREADS, limit)]
    settle(target)
    results.append(run_wrk(target, "order", f"{LIST}/order", duration,
                           reorder_by_swaps(active_in_play_order(target)),
                           WRITE_CONNECTIONS, THREADS, limit))
    settle(target)
    # Disabled: Anthias d1072171 answers an enabled create with a 500 and skips its
    # renumbering (legacy-api.md Q1); a disabled one gets 201 and the renumbering on both.
    body = v2_asset(name="Bench post", is_enabled=False)
    results.append(run_wrk(target, "POST", LIST, duration, create_fixed(body),
                           WRITE_CONNECTIONS, THREADS, burst // THREADS, timeout_s=30))
    settle(target)
    created = [asset["asset_id"] for asset in target.assets() if asset["asset_id"] not in keep]
    per_thread = delete_limit(len(created), THREADS, WRITE_CONNECTIONS)
    if per_thread > 0:
        results.append(run_wrk(target, "DELETE", f"{LIST}/{created[0]}", duration,
                               delete_each(created, THREADS), WRITE_CONNECTIONS, THREADS,
                               per_thread, timeout_s=30))
        settle(target)
    trim_to(target, keep)
    return results


def median_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median figures of one scenario over the rounds; errors and requests summed."""
    median = statistics.median
    return {"scenario": runs[0]["scenario"], "connections": runs[0]["connections"],
            "rounds": len(runs),
            "requests_per_s": median(r["requests_per_s"] for r in runs),
            "p50_ms": median(r["p50_ms"] for r in runs),
            "p99_ms": median(r["p99_ms"] for r in runs),
            "requests": sum(r["requests"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
            "server_cpu_pct": median(r["server_cpu_pct"] for r in runs),
            "server_cpu_ms_per_request": median(r.get("server_cpu_ms_per_request", 0.0)
                                                for r in runs)}


def median_cold(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of the rounds' cold-render medians."""
    keys = ("get_cpu_ms", "get_wall_ms", "write_cpu_ms", "cycle_cpu_ms", "warm_cpu_ms",
            "warm_wall_ms")
    merged = {key: statistics.median(r[key] for r in runs) for key in keys}
    merged["samples"] = sum(r["samples"] for r in runs)
    merged["statuses"] = sorted({s for r in runs for s in r["statuses"]})
    return merged


def measure_size(targets: list[HttpTarget], size: int, args: argparse.Namespace) -> dict:
    """Seed every target to ``size``, then ``--rounds`` rounds, servers interleaved."""
    ids, figures = {}, {}
    for target in targets:
        # A server that was already running may hold more (an earlier run's 1,000).
        trim_to(target, {asset["asset_id"] for asset in target.assets()[:size]})
        started = time.perf_counter()
        target.seed_assets(size)
        seconds = time.perf_counter() - started
        ids[target.label] = [asset["asset_id"] for asset in target.assets()]
        figures[target.label] = {"assets": len(ids[target.label]),
                                 "seed_s": round(seconds, 2), "rounds": []}
    time.sleep(IDLE_S)
    for target in targets:
        if target.has_process:
            figures[target.label]["idle_rss_mb"] = round(target.rss_mb(), 1)
    for number in range(args.rounds):
        # Alternate who goes first, so drift in the machine's load falls on both.
        ordered = targets if number % 2 == 0 else targets[::-1]
        per_target: dict[str, dict[str, Any]] = {t.label: {"runs": []} for t in ordered}
        for target in ordered:
            log(f"{size} assets, round {number + 1}: reads, {target.label}")
            per_target[target.label]["runs"] += [asdict(r) for r in reads(
                target, size, ids[target.label], args.duration, args.max_requests)]
        for target in ordered:
            log(f"{size} assets, round {number + 1}: writes, {target.label}")
            per_target[target.label]["runs"] += [asdict(r) for r in writes(
                target, ids[target.label], args.duration, args.write_burst,
                args.max_requests)]
        for target in ordered:
            if target.has_process:
                log(f"{size} assets, round {number + 1}: cold render, {target.label}")
                per_target[target.label]["cold"] = asdict(cold_render(
                    target, LIST, ids[target.label], args.cold_samples))
        for target in ordered:
            figures[target.label]["rounds"].append(per_target[target.label])
    for target in targets:
        rounds = figures[target.label]["rounds"]
        scenarios = [run["scenario"] for run in rounds[0]["runs"]]
        figures[target.label]["median"] = [
            median_runs([run for r in rounds for run in r["runs"] if run["scenario"] == name])
            for name in scenarios]
        if "cold" in rounds[0]:
            figures[target.label]["cold"] = median_cold([r["cold"] for r in rounds])
    return figures


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def against_target(url: str, pid: int | None, label: str) -> HttpTarget:
    """The already running second server; loopback only."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost") or \
            not parts.port:
        raise SystemExit("--against must be http://127.0.0.1:PORT (loopback only)")
    if pid is not None and not Path(f"/proc/{pid}").exists():
        raise SystemExit(f"--against-pid {pid}: no such process")
    return HttpTarget(port=parts.port, label=label, pid=pid)


def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    """Start a server, measure it (and the --against servers) at each size; return figures."""
    info = machine()
    info["server_python"] = args.python
    others = [against_target(url, pid, label)
              for url, pid, label in zip(args.against, args.against_pid, args.against_label,
                                         strict=True)]
    tree = Path(args.tree).resolve() if args.tree else None
    info["tree"] = str(tree) if tree else "working tree"
    with start_server(python=args.python, launcher=args.launcher,
                      **({"tree": tree} if tree else {})) as edge:
        info["launcher"] = edge.launcher
        targets = [edge, *others]
        sizes = {str(size): measure_size(targets, size, args) for size in args.sizes}
        peak = edge.peak_rss_mb()
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "machine": info,
        "settings": {"wrk_threads": THREADS, "read_connections": READ_CONNECTIONS,
                     "write_connections": WRITE_CONNECTIONS, "duration_s": args.duration,
                     "rounds": args.rounds, "write_burst": args.write_burst,
                     "cold_samples": args.cold_samples, "max_requests": args.max_requests,
                     "warmup_s": WARMUP_S, "idle_s": IDLE_S},
        "servers": [t.label for t in targets],
        "against": args.against,
        "startup_to_first_200_s": round(edge.startup_s, 3),
        "peak_rss_mb": round(peak, 1),
        "sizes": sizes,
    }


def _ratio(mine: float, theirs: float) -> str:
    if not mine or not theirs or mine != mine or theirs != theirs:
        return "-"
    return f"{mine / theirs:.2f}x"


def table(result: dict[str, Any]) -> str:
    """The medians as plain text, one line per server; ratios are the first server's lead."""
    m = result["machine"]
    s = result["settings"]
    servers = result["servers"]
    lines = [
        f"{m['date_utc']} | commit {m['commit']}, server from {m.get('tree', 'working tree')}",
        f"{m['nproc']} x {m['cpu_model']} | {m['ram_gib']} GiB | Python {m['python']} | "
        f"kernel {m['kernel']} | {m['wrk']}",
        f"load average at start {m['load_average_at_start']}, at end "
        f"{m['load_average_at_end']} (other processes share these cores)",
        f"servers: {', '.join(servers)} (first: {m['launcher']}); wrk -t{THREADS}, reads "
        f"-c{s['read_connections']}, writes -c{s['write_connections']}, {s['duration_s']} s "
        f"per run, medians of {s['rounds']} rounds; POST at most {s['write_burst']} a run",
        f"start-up of {servers[0]}, spawn to first 200: {result['startup_to_first_200_s']:.3f} s",
        "CPU: the server's, % of one core; CPU/req: its CPU ms per answered request; ratios: "
        "the first server's requests/s over this one's, this one's p99 and CPU/req over the "
        "first's (above 1x: the first is ahead)",
    ]
    head = (f"{'scenario':24} {'c':>2} {'server':14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
            f"{'err':>4} {'CPU':>5} {'CPU/req':>8} {'x req/s':>8} {'x p99':>7} {'x CPU':>7}")
    for size, figures in result["sizes"].items():
        first = figures[servers[0]]
        lines += ["", f"== {size} assets"]
        for label in servers:
            mine = figures[label]
            rss = f", idle RSS {mine['idle_rss_mb']} MiB" if "idle_rss_mb" in mine else ""
            lines.append(f"   {label}: {mine['assets']} seeded in {mine['seed_s']} s{rss}")
        lines.append(head)
        for run in first["median"]:
            for number, label in enumerate(servers):
                cell = next((other for other in figures[label]["median"]
                             if other["scenario"] == run["scenario"]), None)
                if cell is None:  # e.g. no DELETE run: too few assets were created to delete
                    lines.append(f"{' ' * 27} {label[:14]:14} {'not run':>8}")
                    continue
                name = f"{run['scenario']:24} {run['connections']:>2}" if number == 0 else \
                    " " * 27
                per_request = cell.get("server_cpu_ms_per_request", 0.0)
                ratio = "" if number == 0 else (
                    f" {_ratio(run['requests_per_s'], cell['requests_per_s']):>8}"
                    f" {_ratio(cell['p99_ms'], run['p99_ms']):>7}"
                    f" {_ratio(per_request, run.get('server_cpu_ms_per_request', 0.0)):>7}")
                lines.append(f"{name} {label[:14]:14} {cell['requests_per_s']:8.1f} "
                             f"{cell['p50_ms']:8.1f} {cell['p99_ms']:8.1f} {cell['errors']:4d} "
                             f"{cell['server_cpu_pct']:4.0f}% {per_request:8.2f}{ratio}")
        lines.append("cold render (PATCH, then GET /api/v2/assets), medians in ms:")
        for label in servers:
            cold = figures[label].get("cold")
            if not cold:
                continue
            ratio = "" if label == servers[0] or not first.get("cold") else \
                f"  GET CPU {_ratio(cold['get_cpu_ms'], first['cold']['get_cpu_ms'])}"
            lines.append(
                f"  {label[:14]:14} GET CPU {cold['get_cpu_ms']:7.2f}  wall "
                f"{cold['get_wall_ms']:7.2f}  PATCH CPU {cold['write_cpu_ms']:7.2f}  "
                f"cached GET CPU {cold['warm_cpu_ms']:6.2f}  ({cold['samples']} samples, "
                f"HTTP {cold['statuses']}){ratio}")
        lines += targets_met(int(size), first, servers[0])
    return "\n".join(lines)


def targets_met(size: int, figures: dict[str, Any], label: str) -> list[str]:
    """The issue's targets against the first server's medians."""
    lines = [f"targets ({label}):"]
    cold = figures.get("cold")
    if cold and size in COLD_TARGET_MS:
        goal = COLD_TARGET_MS[size]
        lines.append(f"  cold render CPU {cold['get_cpu_ms']:.2f} ms <= {goal:g} ms: "
                     f"{'met' if cold['get_cpu_ms'] <= goal else 'missed'}")
    for run in figures["median"]:
        if run["scenario"] not in WRITE_SCENARIOS:
            continue
        verdict = "met" if run["p99_ms"] <= WRITE_P99_TARGET_MS else "missed"
        line = f"  {run['scenario']:6} p99 {run['p99_ms']:7.1f} ms <= 150: {verdict}"
        if size == 100:
            rate = "met" if run["requests_per_s"] >= WRITES_PER_S_TARGET else "missed"
            line += f"; {run['requests_per_s']:6.1f} writes/s >= 200: {rate}"
        lines.append(line)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, check for wrk, run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10,
                        help="seconds per measured wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds of every scenario; the table shows medians (default 3)")
    parser.add_argument("--sizes", default="100,1000",
                        help="asset counts to measure at, ascending (default 100,1000)")
    parser.add_argument("--write-burst", type=int, default=200,
                        help="cap on creates per POST run, deleted again by the DELETE run "
                             "(default 200)")
    parser.add_argument("--cold-samples", type=int, default=20,
                        help="PATCH-then-GET pairs per round for the cold render (default 20)")
    parser.add_argument("--max-requests", type=int, default=50_000,
                        help="cap on requests per wrk run (default 50000)")
    parser.add_argument("--against", metavar="URL", action="append", default=[],
                        help="another server, already running on 127.0.0.1, to measure in "
                             "the same run (e.g. a real Anthias); repeatable")
    parser.add_argument("--against-pid", type=int, metavar="PID", action="append", default=[],
                        help="its top process (gunicorn's master), one per --against: CPU, "
                             "RSS and the cold render need it")
    parser.add_argument("--against-label", action="append", default=[],
                        help="its name in the table, one per --against (default: anthias)")
    parser.add_argument("--launcher", choices=("auto", "cli", "inline"), default="auto",
                        help="auto: the CLI when anthias_edge.cli exists, else inline waitress")
    parser.add_argument("--tree", metavar="DIR",
                        help="run the server from this source directory, e.g. "
                             "`git archive HEAD | tar -x -C DIR`, instead of the working tree "
                             "(which holds whatever is uncommitted)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--table-from", metavar="FILE",
                        help="print the table of a run saved with --json, and measure nothing")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter of the install to measure, e.g. a device-like venv "
                             "made with `pip install .` (no PostgreSQL driver)")
    args = parser.parse_args(argv)
    if args.table_from:
        sys.stdout.write(table(json.loads(Path(args.table_from).read_text())) + "\n")
        return 0
    if not 1 <= args.duration <= 120:
        parser.error("--duration must be between 1 and 120 seconds")
    if not 1 <= args.rounds <= 9:
        parser.error("--rounds must be between 1 and 9")
    if len(args.against_pid) not in (0, len(args.against)):
        parser.error("give one --against-pid per --against, or none")
    args.against_pid = args.against_pid or [None] * len(args.against)
    args.against_label = args.against_label or ["anthias"] * len(args.against)
    if len(args.against_label) != len(args.against):
        parser.error("give one --against-label per --against")
    args.sizes = [int(size) for size in args.sizes.split(",")]
    if args.sizes != sorted(args.sizes) or args.sizes[0] < 2:
        parser.error("--sizes must be ascending, each at least 2")
    if shutil.which("wrk") is None:
        sys.stderr.write("error: wrk is not installed; on Debian/Ubuntu run "
                         "`sudo apt-get install -y wrk`\n")
        return 2
    result = benchmark(args)
    sys.stdout.write((json.dumps(result, indent=2) if args.json else table(result)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
