"""Throughput, latency, memory and start-up of the legacy v2 asset API, on loopback.

Starts the production server as a subprocess with a fresh HOME and drives it with
``wrk`` (apt-get install -y wrk). Prints, for one run:

- seconds from spawn to the first 200, idle RSS after seeding and 2 s without traffic;
- requests/s, p50 and p99 of ``GET /api/v2/assets`` with 100 and with 1,000 assets;
- the same for ``PATCH /api/v2/assets/<id>`` and ``POST /api/v2/assets`` (at 1,000+ assets);
- the CPU the server and wrk used during each run (both share this machine's cores).

Usage: ``.venv/bin/python benchmarks/legacy_api.py [--duration 10] [--json]``.
Load goes to 127.0.0.1 only and every run is bounded in time and in request count.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import ServerProcess, start_server, v2_asset

THREADS = 2
CONNECTIONS = 16
WARMUP_S = 2
IDLE_S = 2
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
LUA_TEMPLATE = """
wrk.method = {method}
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
local done = 0
local limit = {limit}
function response(status, headers, body)
  done = done + 1
  if done >= limit then wrk.thread:stop() end
end
"""


@dataclass
class LoadResult:
    """One wrk run: throughput, latency percentiles and CPU used on each side."""

    scenario: str
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_pct: float
    wrk_cpu_pct: float


def lua_quote(text: str) -> str:
    """A Lua long-bracket string literal that holds ``text`` unchanged."""
    level = 0
    while f"]{'=' * level}]" in text:
        level += 1
    return f"[{'=' * level}[{text}]{'=' * level}]"


def wrk_script(method: str, body: dict[str, Any] | None, limit_per_thread: int) -> str:
    """A wrk Lua script: method, JSON body, and a stop after ``limit_per_thread`` responses."""
    return LUA_TEMPLATE.format(method=lua_quote(method),
                               body="nil" if body is None else lua_quote(json.dumps(body)),
                               limit=limit_per_thread)


def to_ms(value: str) -> float:
    """``'1.23ms'``, ``'850.00us'``, ``'1.02s'`` to milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip())
    if match is None:
        raise ValueError(f"unexpected wrk duration {value!r}")
    return float(match[1]) * UNIT_MS[match[2]]


def parse_wrk(output: str) -> dict[str, float]:
    """Requests, duration, requests/s, p50/p99 and error count from ``wrk --latency`` output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.M)
    if not (total and rate and p50 and p99):
        raise RuntimeError(f"could not read wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = int(non_2xx[1]) if non_2xx else 0
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return {"requests": int(total[1]), "seconds": to_ms(total[2] + total[3]) / 1000,
            "requests_per_s": float(rate[1]), "p50_ms": to_ms(p50[1]), "p99_ms": to_ms(p99[1]),
            "errors": errors}


def children_cpu_seconds() -> float:
    """CPU seconds used by waited-for children (the wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(server: ServerProcess, scenario: str, path: str, duration: int, max_requests: int,
            method: str = "GET", body: dict[str, Any] | None = None) -> LoadResult:
    """One bounded wrk run against ``path``; ``max_requests`` caps the total across threads."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(method, body, max(1, max_requests // THREADS)))
    try:
        command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration}s",
                   "--timeout", "10s", "--latency", "-s", script.name, server.base_url + path]
        server_cpu, wrk_cpu, started = (server.cpu_seconds(), children_cpu_seconds(),
                                        time.perf_counter())
        done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
        wall = time.perf_counter() - started
        server_cpu = server.cpu_seconds() - server_cpu
        wrk_cpu = children_cpu_seconds() - wrk_cpu
    finally:
        os.unlink(script.name)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    figures = parse_wrk(done.stdout)
    return LoadResult(scenario=scenario, server_cpu_pct=100 * server_cpu / wall,
                      wrk_cpu_pct=100 * wrk_cpu / wall, **figures)


def machine() -> dict[str, Any]:
    """What this run was measured on, and when."""
    model = next((line.split(":", 1)[1].strip()
                  for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "nproc": os.cpu_count(), "cpu_model": model, "ram_gib": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(), "kernel": platform.release(),
        "wrk": (wrk_version.stdout or wrk_version.stderr).split("[")[0].strip(),
    }


def benchmark(duration: int, max_requests: int, launcher: str = "auto",
              python: str = sys.executable) -> dict[str, Any]:
    """Start a server, seed, measure every scenario, stop; return all figures of one run."""
    runs: list[LoadResult] = []
    info = machine()
    info["server_python"] = python
    with start_server(python=python, launcher=launcher) as server:
        info["launcher"] = server.launcher
        startup_s = server.startup_s
        seed_started = time.perf_counter()
        ids = server.seed_assets(100)
        seed_100_s = time.perf_counter() - seed_started
        time.sleep(IDLE_S)
        idle_rss_100 = server.rss_mb()

        get = "/api/v2/assets"
        run_wrk(server, "warm-up", get, WARMUP_S, max_requests)
        runs.append(run_wrk(server, "GET /api/v2/assets (100 assets)", get, duration,
                            max_requests))
        seed_started = time.perf_counter()
        server.seed_assets(1000)
        seed_1000_s = time.perf_counter() - seed_started
        time.sleep(IDLE_S)
        idle_rss_1000 = server.rss_mb()
        run_wrk(server, "warm-up", get, WARMUP_S, max_requests)
        runs.append(run_wrk(server, "GET /api/v2/assets (1,000 assets)", get, duration,
                            max_requests))
        runs.append(run_wrk(server, "PATCH /api/v2/assets/<id> (1,000 assets)",
                            f"{get}/{ids[0]}", duration, max_requests, "PATCH",
                            {"name": "patched"}))
        runs.append(run_wrk(server, "POST /api/v2/assets (from 1,000 assets)", get, duration,
                            max_requests, "POST", v2_asset()))
        assets_after = server.asset_count()
        peak_rss = server.peak_rss_mb()
        rss_after = server.rss_mb()
    info["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return {
        "machine": info,
        "settings": {"wrk_threads": THREADS, "connections": CONNECTIONS,
                     "duration_s": duration, "max_requests": max_requests,
                     "warmup_s": WARMUP_S, "idle_s": IDLE_S},
        "startup_to_first_200_s": round(startup_s, 3),
        "idle_rss_mb": {"100_assets": round(idle_rss_100, 1),
                        "1000_assets": round(idle_rss_1000, 1)},
        "rss_after_load_mb": round(rss_after, 1),
        "peak_rss_mb": round(peak_rss, 1),
        "seed_seconds": {"first_100": round(seed_100_s, 2), "to_1000": round(seed_1000_s, 2)},
        "assets_after_post": assets_after,
        "runs": [asdict(run) for run in runs],
    }


def table(result: dict[str, Any]) -> str:
    """The figures as a compact plain-text table."""
    m = result["machine"]
    lines = [
        f"{m['date_utc']} | {m['nproc']} x {m['cpu_model']} | {m['ram_gib']} GiB | "
        f"Python {m['python']} | kernel {m['kernel']} | {m['wrk']}",
        f"load average at start {m['load_average_at_start']}, at end "
        f"{m['load_average_at_end']} (other processes share these cores)",
        f"server: {m['launcher']}; wrk -t{THREADS} -c{CONNECTIONS} "
        f"-d{result['settings']['duration_s']}s, cap {result['settings']['max_requests']} "
        "requests per run",
        "",
        f"{'scenario':44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} "
        f"{'errors':>6} {'server CPU':>10} {'wrk CPU':>8}",
    ]
    for run in result["runs"]:
        lines.append(
            f"{run['scenario']:44} {run['requests_per_s']:8.1f} {run['p50_ms']:8.2f} "
            f"{run['p99_ms']:8.2f} {run['requests']:9d} {run['errors']:6d} "
            f"{run['server_cpu_pct']:9.0f}% {run['wrk_cpu_pct']:7.0f}%")
    idle = result["idle_rss_mb"]
    lines += [
        "",
        f"start-up, spawn to first 200:   {result['startup_to_first_200_s']:.3f} s",
        f"idle RSS, 100 assets:           {idle['100_assets']:.1f} MiB",
        f"idle RSS, 1,000 assets:         {idle['1000_assets']:.1f} MiB",
        f"RSS after load / peak (VmHWM):  {result['rss_after_load_mb']:.1f} / "
        f"{result['peak_rss_mb']:.1f} MiB",
        f"seeding through the API:        100 in {result['seed_seconds']['first_100']:.2f} s, "
        f"900 more in {result['seed_seconds']['to_1000']:.2f} s",
        f"assets after the POST run:      {result['assets_after_post']}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Parse the flags, check for wrk, run once and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10,
                        help="seconds per measured wrk run (default 10)")
    parser.add_argument("--max-requests", type=int, default=50_000,
                        help="cap on requests per wrk run (default 50000)")
    parser.add_argument("--launcher", choices=("auto", "cli", "inline"), default="auto",
                        help="auto: the CLI when anthias_edge.cli exists, else inline waitress")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--python", default=sys.executable,
                        help="interpreter of the install to measure, e.g. a device-like venv "
                             "made with `pip install .` (no PostgreSQL driver)")
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 120:
        parser.error("--duration must be between 1 and 120 seconds")
    if shutil.which("wrk") is None:
        sys.stderr.write("error: wrk is not installed; on Debian/Ubuntu run "
                         "`sudo apt-get install -y wrk`\n")
        return 2
    result = benchmark(args.duration, args.max_requests, args.launcher, args.python)
    sys.stdout.write((json.dumps(result, indent=2) if args.json else table(result)) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
