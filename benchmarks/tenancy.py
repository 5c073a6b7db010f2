"""Tenancy benchmark: does a tenant's list cost grow with other tenants' data?

Seeds PostgreSQL database ``anthias_bench`` (dropped and recreated) with N tenants x 1,000
assets by COPY, one owner and one API token per tenant, starts ``anthias-edge serve`` in cloud
mode with 4 gunicorn workers, and drives ``GET /api/v3/assets?limit=50`` with wrk, a Lua
script rotating across every tenant's token, once per connection count. Prints requests/s,
p50 and p99 per size and connection count, and the EXPLAIN of the list query exactly as
``asset_queries.list_query`` builds it, for the last tenant seeded (the one whose rows come
after every other tenant's): it must use the (tenant_id, seq) index, not filter a global one.

    .venv/bin/python benchmarks/tenancy.py                       # 1000 tenants, then 10
    .venv/bin/python benchmarks/tenancy.py --sizes 10 --duration 10
    .venv/bin/python benchmarks/tenancy.py --sizes 10 --in-process 2000 --profile
    .venv/bin/python benchmarks/tenancy.py --endpoint /api/v2/assets   # v2 on subdomains
    .venv/bin/python benchmarks/tenancy.py --sizes 10 --connections 4 --writes
    .venv/bin/python benchmarks/tenancy.py --sizes 10 --connections 4 --writes --assets 100

``--writes`` adds, after the list runs, writes at 4 connections (``--write-tenants`` tenants,
default 1: four editors on one tenant, the case that contends): v2 PATCH on the tenant's
subdomain (Basic, Anthias's play_order renumbering over its 1,000 active assets), v3 PATCH
(Bearer), v2 POST of a disabled asset (renumbering too) and v3 POST. Each request names
another asset and a new name, so no write is a no-op.

``--connections`` defaults to 4 and 8: 4 is one request in flight per worker, the lowest
load that can keep every worker busy; 8 adds queueing. With wrk, PostgreSQL and the workers
on the same cores, latency is mostly queueing (p50 ~ connections / throughput), so compare
sizes at the same connection count. A keep-alive connection stays with the worker that
accepted it, and which one does is chance, so each count runs ``--repeat`` times (new
connections each time), shows the connections each worker held, and the medians.
``--in-process N`` also times N requests through the Flask test client in this process (no
HTTP, no queueing): the server's own cost per request.

PostgreSQL runs on the same cores as the server and wrk, in its own session. With the
kernel's session autogroups on (``kernel.sched_autogroup_enabled=1``, Debian's default), each
session shares the CPU as one group, so at saturation PostgreSQL's backends queue behind
their group's turn and single requests wait 100-900 ms on a plain indexed SELECT. The
output names the setting; measure with it off (``sysctl kernel.sched_autogroup_enabled=0``,
restored afterwards) unless that is the deployment being measured.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import re
import secrets
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

from anthias_edge.services.auth.passwords import Passwords  # noqa: E402
from anthias_edge.services.auth.tokens import API_TOKEN_PREFIX, _sha256  # noqa: E402
from benchmarks._batches import median_batch_ms  # noqa: E402
from benchmarks._postgres import recreate_database  # noqa: E402

DATABASE = "anthias_bench"
BASE_DOMAIN = "bench.test"
ASSETS_PER_TENANT = 1000
PASSWORD = "bench password 1"
LUA = """
local creds = {}
for line in io.lines("%(creds)s") do creds[#creds + 1] = line end
local i = 0
request = function()
  i = i %% #creds + 1
  local sub, auth = creds[i]:match("([^ ]+) (.+)")
  return wrk.format("GET", "%(path)s", {["Host"] = sub .. ".%(base)s", ["Authorization"] = auth})
end
"""

WRITE_LUA = """
local rows = {}
for line in io.lines("%(rows)s") do
  local sub, auth, ids = line:match("([^|]+)|([^|]+)|(.+)")
  local list = {}
  for id in ids:gmatch("[^,]+") do list[#list + 1] = id end
  rows[#rows + 1] = {sub = sub, auth = auth, ids = list}
end
local created = 0
function setup(thread)
  thread:set("index", created)
  created = created + 1
end
local n = 0
request = function()
  n = n + 1
  local k = n * 2 + index
  local row = rows[(k %% #rows) + 1]
  local id = row.ids[(math.floor(k / #rows) %% #row.ids) + 1]
  local path = "%(path)s"
  if "%(method)s" ~= "POST" then path = path .. id end
  return wrk.format("%(method)s", path, {["Host"] = row.sub .. ".%(base)s",
                    ["Authorization"] = row.auth, ["Content-Type"] = "application/json"},
                    %(body)s)
end
"""
# (scenario, method, path, Basic or Bearer, body as a Lua expression; k makes names unique)
WRITE_SCENARIOS = (
    ("v2 PATCH (renumbers)", "PATCH", "/api/v2/assets/", "basic",
     """'{"name":"w' .. k .. '"}'"""),
    ("v3 PATCH", "PATCH", "/api/v3/assets/", "bearer", """'{"name":"w' .. k .. '"}'"""),
    ("v2 POST disabled (renumbers)", "POST", "/api/v2/assets", "basic",
     """'{"name":"p' .. k .. '","uri":"https://example.org/p","mimetype":"webpage",'
     .. '"start_date":"2024-01-01T00:00:00Z","end_date":"2099-01-01T00:00:00Z",'
     .. '"duration":10,"is_enabled":false,"nocache":false,"play_order":0,'
     .. '"skip_asset_check":true}'"""),
    ("v3 POST", "POST", "/api/v3/assets", "bearer",
     """'{"name":"p' .. k .. '","uri":"https://example.org/p","mimetype":"webpage",'
     .. '"skip_asset_check":true}'"""),
)
WRITE_PERMISSIONS = '["assets.view", "assets.create", "assets.edit", "assets.delete"]'
WRITE_IDS_PER_TENANT = 200


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def seed(url: str, tenants: int, basic: bool, writes: bool = False,
         assets_per_tenant: int = ASSETS_PER_TENANT,
         ) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
    """N tenants x ``assets_per_tenant`` assets (1,000 unless asked) by COPY.

    Returns [(subdomain, Authorization header)] per tenant for the list runs, and per tenant
    its subdomain, both headers and some asset ids for the write runs (tokens may then
    create, edit and delete).
    """
    writers: list[dict[str, Any]] = []
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    password_hash = Passwords().hash(PASSWORD)
    credentials = []
    started = time.monotonic()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy("COPY tenants (id, name, subdomain, is_active, plan_type, max_assets, "
                      "max_devices, storage_quota_gb, created_at, updated_at) FROM STDIN") as cp, \
                conn.cursor() as _:
            ids = []
            for n in range(tenants):
                tenant_id = str(uuid.uuid4())
                ids.append(tenant_id)
                cp.write_row((tenant_id, f"Tenant {n}", f"t{n:05d}", True, "bench", 9999, 10,
                              10, now, now))
        with cur.copy("COPY users (id, username, email, password_hash, is_active, created_at) "
                      "FROM STDIN") as cp:
            users = [str(uuid.uuid4()) for _ in ids]
            for n, user_id in enumerate(users):
                cp.write_row((user_id, f"owner{n:05d}", "", password_hash, True, now))
        with cur.copy("COPY tenant_users (user_id, tenant_id, role, is_active, created_at) "
                      "FROM STDIN") as cp:
            for user_id, tenant_id in zip(users, ids, strict=True):
                cp.write_row((user_id, tenant_id, "owner", True, now))
        with cur.copy("COPY api_tokens (id, tenant_id, user_id, name, prefix, secret_hash, "
                      "permissions, created_at, last_used_at) FROM STDIN") as cp:
            for n, (user_id, tenant_id) in enumerate(zip(users, ids, strict=True)):
                prefix = secrets.token_hex(6)
                secret = f"{API_TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
                cp.write_row((str(uuid.uuid4()), tenant_id, user_id, "bench", prefix,
                              _sha256(secret),
                              WRITE_PERMISSIONS if writes else '["assets.view"]', now, now))
                basic_token = base64.b64encode(f"owner{n:05d}:{PASSWORD}".encode()).decode()
                writers.append({"sub": f"t{n:05d}", "basic": f"Basic {basic_token}",
                                "bearer": f"Bearer {secret}", "ids": []})
                if basic:
                    token = base64.b64encode(f"owner{n:05d}:{PASSWORD}".encode()).decode()
                    credentials.append((f"t{n:05d}", f"Basic {token}"))
                else:
                    credentials.append((f"t{n:05d}", f"Bearer {secret}"))
        with cur.copy("COPY assets (asset_id, name, uri, mimetype, duration, start_date, "
                      "end_date, is_enabled, play_order, tenant_id, created_at, updated_at) "
                      "FROM STDIN") as cp:
            for t, tenant_id in enumerate(ids):
                for a in range(assets_per_tenant):
                    asset_id = uuid.uuid4().hex
                    if a < WRITE_IDS_PER_TENANT:
                        writers[t]["ids"].append(asset_id)
                    cp.write_row((asset_id, f"Asset {a} of {t}",
                                  f"https://example.org/{t}/{a}", "webpage", 10,
                                  dt.datetime(2024, 1, 1), dt.datetime(2099, 1, 1), True, a,
                                  tenant_id, now, now))
                if (t + 1) % 100 == 0:
                    log(f"  seeded {t + 1}/{tenants} tenants "
                        f"({(t + 1) * assets_per_tenant:,} assets, "
                        f"{time.monotonic() - started:.0f} s)")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        # Write the seeded pages out now, not in a background checkpoint during the runs.
        conn.execute("CHECKPOINT")
    log(f"  seeded {tenants} tenants x {assets_per_tenant} assets in "
        f"{time.monotonic() - started:.1f} s")
    return credentials, writers


def explain(url: str) -> str:
    """EXPLAIN ANALYZE of the v3 list query for the last tenant seeded, as the server runs it.

    Twice: planned for this tenant's id, and as the generic plan a prepared statement may
    switch to after five runs (psycopg prepares repeated queries); neither may filter a
    global index.
    """
    from anthias_edge.db import db, open_database
    from anthias_edge.services.asset_queries import list_query

    db.initialize(open_database(url))  # list_query builds PostgreSQL's SQL; it never connects
    analyze = "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "
    with psycopg.connect(url, cursor_factory=psycopg.ClientCursor) as conn:
        tenant_id = conn.execute("SELECT id FROM tenants WHERE plan_type = 'bench' "
                                 "ORDER BY subdomain DESC LIMIT 1").fetchone()[0]
        # As a cloud request runs it: role anthias_app and the tenant set, so the row-level
        # security policy (migration 0009) is part of the plan.
        conn.execute("SELECT set_config('role', 'anthias_app', false), "
                     "set_config('anthias.tenant_id', %s, false)", (tenant_id,))
        sql, params = list_query(tenant_id, limit=51).sql()
        custom = conn.execute(analyze + sql, params).fetchall()
        numbered = sql
        for n in range(1, len(params) + 1):
            numbered = numbered.replace("%s", f"${n}", 1)
        conn.execute(f"PREPARE list_page AS {numbered}")
        conn.execute("SET plan_cache_mode = force_generic_plan")
        generic = conn.execute(f"{analyze}EXECUTE list_page({', '.join(['%s'] * len(params))})",
                               params).fetchall()
    return (f"{sql}\n\n-- for this tenant's id\n" + "\n".join(r[0] for r in custom)
            + "\n\n-- generic plan (prepared statement)\n" + "\n".join(r[0] for r in generic))


def in_process(url: str, path: str, credentials: list[tuple[str, str]], requests: int,
               profile: bool) -> float:
    """Milliseconds per request through the Flask test client, rotating over every tenant."""
    from cryptography.fernet import Fernet

    from anthias_edge.app import create_app

    home = tempfile.mkdtemp(prefix="anthias-bench-")
    environ = {"HOME": home, "ANTHIAS_MODE": "cloud", "DATABASE_URL": url,
               "ANTHIAS_BASE_DOMAIN": BASE_DOMAIN, "ANTHIAS_SECRET_KEY": Fernet.generate_key()
               .decode()}
    saved = dict(os.environ)
    os.environ.update(environ)  # the auth stack reads the key from the environment
    try:
        app = create_app(environ=environ)
        client = app.test_client()
        headers = [{"Host": f"{sub}.{BASE_DOMAIN}", "Authorization": auth}
                   for sub, auth in credentials]

        def run(count: int) -> None:
            for n in range(count):
                response = client.get(path, headers=headers[n % len(headers)])
                if response.status_code != 200:
                    raise SystemExit(f"in-process request failed: {response.status_code}")

        per_request = median_batch_ms(run, requests, min(requests, 200), profile, top=40)
        app.extensions["anthias"].close()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return per_request


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    """``anthias-edge serve`` in cloud mode; returns once it answers."""
    from cryptography.fernet import Fernet

    home = tempfile.mkdtemp(prefix="anthias-bench-")
    key_file = Path(home, "secret.key")
    key_file.write_text(Fernet.generate_key().decode() + "\n")
    key_file.chmod(0o600)
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ANTHIAS_")},
           "HOME": home, "ANTHIAS_MODE": "cloud", "DATABASE_URL": url,
           "ANTHIAS_BASE_DOMAIN": BASE_DOMAIN, "ANTHIAS_SECRET_KEY_FILE": f"{home}/secret.key"}
    proc = subprocess.Popen([sys.executable, "-m", "anthias_edge.cli", "serve", "--listen",
                             f"127.0.0.1:{port}", "--workers", str(workers)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if "running at" in proc.stdout.readline():
            time.sleep(2)  # workers import the app after the arbiter is ready
            return proc
    proc.kill()
    raise SystemExit("the server did not start")


def worker_connections(server_pid: int, port: int) -> str:
    """Established client connections per gunicorn worker, most first (``2/1/1/0``).

    Keep-alive connections stay with the worker that accepted them, and which one does is
    chance: at -c4, ``3/1/0/0`` leaves two workers idle and queues three requests behind one
    GIL, which moves p50 and p99 more than any code change. Shown beside every run.
    """
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    try:
        out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    counts = {pid: out.count(f"pid={pid},") for pid in children}
    return "/".join(str(n) for n in sorted(counts.values(), reverse=True))


AUTOGROUP = Path("/proc/sys/kernel/sched_autogroup_enabled")


def autogroup_state() -> str:
    """``on``, ``off`` or ``absent``: the kernel's per-session CPU sharing (module docstring)."""
    try:
        return "on" if AUTOGROUP.read_text().strip() == "1" else "off"
    except OSError:
        return "absent"


def run_wrk(port: int, path: str, credentials: list[tuple[str, str]], duration: int,
            connections: int, warm_up: int, server_pid: int) -> dict[str, Any]:
    """wrk with the rotating Lua script; requests/s, p50 and p99 in ms, connections/worker."""
    with tempfile.TemporaryDirectory() as tmp:
        creds = Path(tmp, "creds.txt")
        creds.write_text("".join(f"{sub} {auth}\n" for sub, auth in credentials))
        script = Path(tmp, "rotate.lua")
        script.write_text(LUA % {"creds": creds, "path": path, "base": BASE_DOMAIN})
        target = f"http://127.0.0.1:{port}"
        if warm_up:
            subprocess.run(["wrk", "-t2", f"-c{warm_up}", "-d5s", "-s", str(script), target],
                           capture_output=True, check=True)
        wrk = subprocess.Popen(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
                                "-s", str(script), target], stdout=subprocess.PIPE, text=True)
        time.sleep(duration / 2)
        spread = worker_connections(server_pid, port)
        out = wrk.communicate()[0]
    log(f"{out}connections per worker: {spread}\n")
    if wrk.returncode or "Non-2xx" in out:
        raise SystemExit("some requests failed: " + out)

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "spread": spread}


def run_writes(port: int, writers: list[dict[str, Any]], duration: int,
               connections: int) -> list[dict[str, Any]]:
    """Each write scenario once at ``connections``; requests/s, p50, p99, non-2xx count."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, (name, method, path, scheme, body) in enumerate(WRITE_SCENARIOS):
            rows = Path(tmp, "rows.txt")
            rows.write_text("".join(f"{w['sub']}|{w[scheme]}|{','.join(w['ids'])}\n"
                                    for w in writers))
            script = Path(tmp, "write.lua")
            script.write_text(WRITE_LUA % {"rows": rows, "path": path, "method": method,
                                           "base": BASE_DOMAIN, "body": body})
            if number == 0:
                # Each worker verifies the Basic password once (argon2id) and opens its pool:
                # not part of a write's cost, so done before the first measured run.
                subprocess.run(["wrk", "-t2", "-c8", "-d5s", "--timeout", "30s", "-s",
                                str(script), f"http://127.0.0.1:{port}"],
                               capture_output=True, check=True)
            out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s",
                                  "--timeout", "30s", "--latency", "-s", str(script),
                                  f"http://127.0.0.1:{port}"],
                                 capture_output=True, text=True, check=True).stdout
            log(f"{name}:\n{out}")
            errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)

            def ms(label: str, out: str = out) -> float:
                value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
                return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

            results.append({"scenario": name, "connections": connections,
                            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
                            "p50": ms("50"), "p99": ms("99"),
                            "errors": int(errors[1]) if errors else 0})
    return results


def main() -> None:
    """Seed, serve, measure, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10", help="tenant counts, comma-separated")
    parser.add_argument("--endpoint", default="/api/v3/assets?limit=50")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", default="4,8",
                        help="wrk connection counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3,
                        help="wrk runs per connection count (each draws new connections)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per run")
    parser.add_argument("--in-process", type=int, default=0, metavar="N",
                        help="also time N requests in this process (Flask test client)")
    parser.add_argument("--profile", action="store_true",
                        help="with --in-process: print a cProfile of the N requests")
    parser.add_argument("--port", type=int, default=18089)
    parser.add_argument("--writes", action="store_true",
                        help="also measure writes at 4 connections (see the module docstring)")
    parser.add_argument("--assets", type=int, default=ASSETS_PER_TENANT,
                        help=f"assets per tenant (default {ASSETS_PER_TENANT})")
    parser.add_argument("--write-tenants", type=int, default=1,
                        help="tenants the writes go to, rotating (default 1)")
    args = parser.parse_args()
    basic = not args.endpoint.startswith("/api/v3")
    sizes = [int(size) for size in args.sizes.split(",")]
    connection_counts = [int(count) for count in args.connections.split(",")]
    log(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    autogroup = autogroup_state()
    if autogroup == "on":
        log("note: kernel.sched_autogroup_enabled is 1: PostgreSQL on this machine gets half "
            "the CPU as one group and its backends stall behind it at saturation. Set it to 0 "
            "for the run (sysctl kernel.sched_autogroup_enabled=0) to measure the server.")
    results = []
    write_results = []
    plans = {}
    for size in sizes:
        log(f"== {size} tenants x {args.assets} assets")
        url = recreate_database(DATABASE)
        credentials, writers = seed(url, size, basic, args.writes, args.assets)
        plans[size] = explain(url)
        log(plans[size])
        per_request = None
        if args.in_process:
            per_request = in_process(url, args.endpoint, credentials, args.in_process,
                                     args.profile)
            log(f"  in process: {per_request:.2f} ms per request")
        proc = start_server(url, args.port, args.workers)
        try:
            # Enough warm-up connections to reach every worker: each imports the auth stack
            # and opens its pool on its first v3 request.
            warm_up = 4 * args.workers
            for connections in connection_counts:
                for _ in range(args.repeat):
                    figures = run_wrk(args.port, args.endpoint, credentials, args.duration,
                                      connections, warm_up, proc.pid)
                    warm_up = 0
                    results.append((size, connections, figures, per_request))
            for _ in range(args.repeat if args.writes else 0):
                for figures in run_writes(args.port, writers[:args.write_tenants],
                                          args.duration, 4):
                    write_results.append((size, figures))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    log(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.endpoint}, {args.workers} workers, wrk -t2 -d{args.duration}s; "
          f"in process: {args.in_process} requests through the Flask test client; "
          f"kernel session autogroups {autogroup}\n")
    print("| tenants x assets | wrk -c | requests/s | p50 | p99 | connections/worker "
          "| in process |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for size, connections, f, per_request in results:
        own = f"{per_request:.2f} ms" if per_request is not None else "n/a"
        print(f"| {size:,} x {args.assets:,} | {connections} | {f['rps']:.0f} "
              f"| {f['p50']:.2f} ms | {f['p99']:.2f} ms | {f['spread']} | {own} |")
    print("\nMedians of the runs:\n")
    print("| tenants x assets | wrk -c | requests/s | p50 | p99 |")
    print("|---|---:|---:|---:|---:|")
    for size in sizes:
        for connections in connection_counts:
            runs = [f for s, c, f, _ in results if (s, c) == (size, connections)]
            rps, p50, p99 = (statistics.median(f[key] for f in runs)
                             for key in ("rps", "p50", "p99"))
            print(f"| {size:,} x {args.assets:,} | {connections} | {rps:.0f} "
                  f"| {p50:.2f} ms | {p99:.2f} ms |")
    if write_results:
        print(f"\nWrites at -c4 to {args.write_tenants} tenant(s), medians of {args.repeat} "
              "runs:\n")
        print("| tenants x assets | scenario | writes/s | p50 | p99 | non-2xx |")
        print("|---|---|---:|---:|---:|---:|")
        for size in sizes:
            for name, *_ in WRITE_SCENARIOS:
                runs = [f for s, f in write_results if s == size and f["scenario"] == name]
                rps, p50, p99 = (statistics.median(f[key] for f in runs)
                                 for key in ("rps", "p50", "p99"))
                print(f"| {size:,} x {args.assets:,} | {name} | {rps:.0f} "
                      f"| {p50:.2f} ms | {p99:.2f} ms | {sum(f['errors'] for f in runs)} |")
    print(f"\nEXPLAIN ({max(sizes):,} tenants):\n```\n{plans[max(sizes)]}\n```")


if __name__ == "__main__":
    main()
