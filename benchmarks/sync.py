"""Sync hub benchmark: conditional pulls (304) and pushes per second, 10,000 devices.

Seeds PostgreSQL database ``anthias_bench_sync`` (dropped and recreated) with T tenants and
N devices by COPY, each device with its own Ed25519 key pair, starts ``anthias-edge serve`` in
cloud mode (gunicorn workers), and drives it with wrk:

- **pull**: ``GET /api/v3/sync/state`` with ``If-None-Match`` of the device's current ETag,
  signed by the device, every request from another device (rotating over all N) and with a
  fresh ``jti``; the hub checks each signature and records each jti, and answers 304.
- **push**: ``POST /api/v3/sync/push`` of one play entry with a fresh idempotency key, signed
  (body hash included), rotating over the devices; the hub applies each once.

Signatures are real and a token is good for 60 s, so each run's requests are signed just
before it (the signing is not timed) and each wrk thread takes its own share of them (a
token used twice would be a replay, refused). The devices' ETags are computed as the hub does
and checked against real pulls of a sample first. Every response is counted by status in Lua:
a run passes only if every pull answered 304 and every push 200.

    .venv/bin/python benchmarks/sync.py                          # 10,000 devices, -c8,16
    .venv/bin/python benchmarks/sync.py --devices 1000 --connections 8 --duration 5

PostgreSQL, the server, this script and wrk share this machine's cores, and other work may
too: each run also reports the CPU time the server (all gunicorn processes) and the database
sessions serving it used per request, and what two cores would answer at that cost.
Every worker verifies a device's key once (one more round trip) before its fast path knows
it; the warm-up sends each device's pull ``--warm-up`` times so the runs measure the steady
state, as a fleet polling every 30 s is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks._postgres import recreate_database  # noqa: E402
from benchmarks._server import _cpu_ticks, process_tree  # noqa: E402
from benchmarks.qr import base_environ, log, start_server  # noqa: E402
from benchmarks.tenancy import autogroup_state  # noqa: E402
from cloud_sync.hub.state import state_etag  # noqa: E402
from cloud_sync.protocol import new_key_pair, sign_request  # noqa: E402
from tests.helpers import free_ports  # noqa: E402

DATABASE = "anthias_bench_sync"
STATE = "/api/v3/sync/state"
PUSH = "/api/v3/sync/push"
SIGNED_PER_SECOND = 5000  # tokens signed per second of a run: more than the hub can answer
LUA = """
local lines = {}
local index, threads = 0, 1
local counts = {}
local created = {}
function setup(thread)
  thread:set("index", #created)
  table.insert(created, thread)
end
function init(args)
  index = wrk.thread:get("index")
  threads = tonumber(%(threads)d)
  local n = 0
  for line in io.lines("%(lines)s") do
    if n %% threads == index then lines[#lines + 1] = line end
    n = n + 1
  end
end
local i = 0
function request()
  i = i + 1
  if i > #lines then i = 1 end -- only if the run outlasts its tokens (replays: refused)
  local auth, extra = lines[i]:match("([^\\t]+)\\t(.*)")
  %(request)s
end
local answered = 0
function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  wrk.thread:set("counts", counts)
  answered = answered + 1
  if answered == %(limit)d then
    local f = io.open("%(lines)s.done", "a")
    f:write("x")
    f:close()
    wrk.thread:stop()
  end
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(created) do
    local c = thread:get("counts") or {}
    for status, n in pairs(c) do total[status] = (total[status] or 0) + n end
  end
  for status, n in pairs(total) do io.write(string.format("status %%d: %%d\\n", status, n)) end
end
"""
PULL_REQUEST = (f'return wrk.format("GET", "{STATE}", {{["Authorization"] = auth, '
                '["If-None-Match"] = extra})')
PUSH_REQUEST = (f'return wrk.format("POST", "{PUSH}", {{["Authorization"] = auth, '
                '["Content-Type"] = "application/json"}, extra)')


def seed(url: str, tenants: int, devices: int) -> list[tuple[str, Any]]:
    """T tenants and N devices (round robin) by COPY; [(device_id, private key)]."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    keys = []
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        tenant_ids = [str(uuid.uuid4()) for _ in range(tenants)]
        with cur.copy("COPY tenants (id, name, subdomain, is_active, plan_type, max_assets, "
                      "max_devices, storage_quota_gb, created_at, updated_at) FROM STDIN") as cp:
            for n, tenant_id in enumerate(tenant_ids):
                cp.write_row((tenant_id, f"Tenant {n}", f"t{n:05d}", True, "bench", 1000,
                              devices, 10, now, now))
        with cur.copy("COPY devices (device_id, tenant_id, name, public_key, status, "
                      "linked_via, created_at) FROM STDIN") as cp:
            for n in range(devices):
                key, public = new_key_pair()
                device_id = str(uuid.uuid4())
                keys.append((device_id, key))
                cp.write_row((device_id, tenant_ids[n % tenants], f"Screen {n}", public,
                              "active", "fleet_token", now))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    return keys


def pull_lines(keys: list[tuple[str, Any]], count: int) -> list[str]:
    """``count`` signed conditional pulls, rotating over the devices."""
    now = time.time()
    lines = []
    for n in range(count):
        device_id, key = keys[n % len(keys)]
        auth = sign_request(key, device_id, "GET", STATE, b"", now=now)
        lines.append(f"{auth}\t{state_etag(device_id, 0, 0, now)}")
    return lines


def push_lines(keys: list[tuple[str, Any]], count: int, offset: int) -> list[str]:
    """``count`` signed pushes of one play each (fresh keys), rotating over the devices."""
    now = time.time()
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = []
    for n in range(count):
        device_id, key = keys[(n + offset) % len(keys)]
        seq = offset + n + 1
        body = json.dumps({"entries": [{
            "seq": seq, "key": str(uuid.uuid4()), "kind": "play", "at": started,
            "payload": {"asset_id": "a1", "asset_name": "Menu", "started_at": started,
                        "duration_s": 10.0}}]}, separators=(",", ":"))
        auth = sign_request(key, device_id, "POST", PUSH, body.encode(), now=now)
        lines.append(f"{auth}\t{body}")
    return lines


def check_etags(port: int, keys: list[tuple[str, Any]], sample: int = 20) -> None:
    """Real pulls of ``sample`` devices: each answers 200 with the ETag computed here."""
    for device_id, key in keys[:sample]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", STATE, headers={
            "Authorization": sign_request(key, device_id, "GET", STATE, b"")})
        response = conn.getresponse()
        response.read()
        expected = state_etag(device_id, 0, 0, time.time())
        if response.status != 200 or response.getheader("ETag") != expected:
            raise SystemExit(f"device {device_id}: {response.status} "
                             f"{response.getheader('ETag')} != {expected}")


def run_wrk(port: int, lines: list[str], request: str, duration: int, connections: int,
            threads: int = 2, limit: int = 0) -> dict[str, Any]:
    """One wrk run over pre-signed lines; req/s, p50/p99 ms, answers by status.

    ``limit``: stop once that many answers came (each thread its share), else at ``duration``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp, "lines.txt")
        listing.write_text("".join(f"{line}\n" for line in lines))
        script = Path(tmp, "sync.lua")
        script.write_text(LUA % {"lines": listing, "threads": threads, "request": request,
                                 "limit": limit // threads if limit else 0})
        process = subprocess.Popen(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s",
                                    "--latency", "-s", str(script), f"http://127.0.0.1:{port}"],
                                   stdout=subprocess.PIPE, text=True)
        if limit:  # wrk sleeps its whole -d: interrupt it once every thread has stopped
            marker = Path(f"{listing}.done")
            while process.poll() is None:
                if marker.exists() and marker.read_text().count("x") >= threads:
                    process.send_signal(2)
                    break
                time.sleep(0.05)
        out = process.communicate()[0]
    log(out)

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    statuses = {int(s): int(n) for s, n in re.findall(r"status (\d+): (\d+)", out)}
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
            "p50": ms("50"), "p99": ms("99"),
            "answered": int(re.search(r"(\d+) requests in", out)[1]), "statuses": statuses}


def cpu_ticks(pids: list[int]) -> dict[int, int]:
    """pid -> user + system CPU ticks so far, for those of ``pids`` still running."""
    ticks = {}
    for pid in pids:
        try:
            ticks[pid] = _cpu_ticks(pid)
        except (OSError, IndexError, ValueError):
            continue
    return ticks


def cpu_used(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds between two readings: a process there at both counts its difference, one
    started in between all of its ticks (a pool may replace a session mid-run)."""
    ticks = sum(now - before.get(pid, 0) for pid, now in after.items())
    return ticks / os.sysconf("SC_CLK_TCK")


def database_pids(url: str) -> list[int]:
    """The server processes of the sessions on the benchmark's database (the hub's pool)."""
    with psycopg.connect(url) as conn:
        return [pid for (pid,) in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (DATABASE,)).fetchall()]


def count_plays(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM device_plays").fetchone()[0]


def measure(args: Any, url: str, environ: dict[str, str],
            keys: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    port = free_ports(1)[0]
    proc = start_server(environ, port, args.workers)
    results = []
    pushed = 0
    try:
        check_etags(port, keys)
        # Warm-up: every worker, its pool and its key cache see traffic before the timing.
        for _ in range(args.warm_up):
            lines = pull_lines(keys, len(keys))
            run_wrk(port, lines, PULL_REQUEST, 120, 16, limit=len(lines))
        for kind in ("pull", "push"):
            for connections in args.connections:
                for _ in range(args.repeat):
                    count = SIGNED_PER_SECOND * args.duration
                    if kind == "pull":
                        lines, request = pull_lines(keys, count), PULL_REQUEST
                    else:
                        lines, request = push_lines(keys, count, pushed), PUSH_REQUEST
                        pushed += count
                        before = count_plays(url)
                    server = cpu_ticks(process_tree(proc.pid))
                    database = cpu_ticks(database_pids(url))
                    figures = run_wrk(port, lines, request, args.duration, connections)
                    answered = max(1, figures["answered"])
                    figures["server_ms"] = 1000 * cpu_used(
                        server, cpu_ticks(process_tree(proc.pid))) / answered
                    figures["database_ms"] = 1000 * cpu_used(
                        database, cpu_ticks(database_pids(url))) / answered
                    if kind == "push":
                        time.sleep(0.5)  # requests in flight when wrk stopped reading
                        figures["counted"] = count_plays(url) - before
                    figures.update(kind=kind, connections=connections)
                    log(f"{kind} -c{connections}: {figures}")
                    results.append(figures)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return results


def main() -> None:
    """Seed, serve, measure, print a Markdown table and the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--connections", default="8,16")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warm-up", type=int, default=3, metavar="N",
                        help="pulls of every device before the timed runs")
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    log(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    from cryptography.fernet import Fernet

    url = recreate_database(DATABASE)
    started = time.perf_counter()
    keys = seed(url, args.tenants, args.devices)
    log(f"seeded {args.devices} devices in {args.tenants} tenants in "
        f"{time.perf_counter() - started:.1f} s")
    home = tempfile.mkdtemp(prefix="anthias-bench-sync-")
    environ = {**base_environ(home), "ANTHIAS_MODE": "cloud", "DATABASE_URL": url,
               "ANTHIAS_SECRET_KEY": Fernet.generate_key().decode()}
    results = measure(args, url, environ, keys)
    log(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.devices:,} devices in {args.tenants} tenants, {args.workers} gunicorn "
          f"workers, wrk -t2 -d{args.duration}s, kernel session autogroups "
          f"{autogroup_state()}\n")
    print("| request | wrk -c | requests/s | p50 | p99 | answered | by status | effects "
          "| server CPU/req | database CPU/req | 2 cores at that cost |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
    for r in results:
        statuses = ", ".join(f"{s}: {n:,}" for s, n in sorted(r["statuses"].items()))
        effects = f"{r['counted']:,} plays" if "counted" in r else ""
        capacity = 2000 / max(0.001, r["server_ms"] + r["database_ms"])
        print(f"| {r['kind']} | {r['connections']} | {r['rps']:.0f} | {r['p50']:.2f} ms "
              f"| {r['p99']:.2f} ms | {r['answered']:,} | {statuses} | {effects} "
              f"| {r['server_ms']:.3f} ms | {r['database_ms']:.3f} ms | {capacity:,.0f}/s |")
    for kind, connections in sorted({(r["kind"], r["connections"]) for r in results}):
        runs = [r for r in results if (r["kind"], r["connections"]) == (kind, connections)]
        expected = 304 if kind == "pull" else 200
        clean = all(set(r["statuses"]) == {expected} for r in runs)
        print(f"\nmedian {kind} -c{connections}: "
              f"{statistics.median(r['rps'] for r in runs):.0f} req/s, "
              f"p50 {statistics.median(r['p50'] for r in runs):.2f} ms, "
              f"p99 {statistics.median(r['p99'] for r in runs):.2f} ms, CPU per request "
              f"server {statistics.median(r['server_ms'] for r in runs):.3f} ms + database "
              f"{statistics.median(r['database_ms'] for r in runs):.3f} ms; "
              f"{'every answer ' + str(expected) if clean else 'NOT ALL ' + str(expected)}")


if __name__ == "__main__":
    main()
