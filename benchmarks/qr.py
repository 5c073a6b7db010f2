"""QR sharing benchmark: the public landing page ``/q/<code>`` and QR image generation.

Device: ``anthias-edge serve`` (waitress) on a fresh HOME with SQLite, N shared codes of the
device's own tenant. Cloud: ``anthias-edge serve`` in cloud mode with gunicorn workers on
PostgreSQL database ``anthias_bench_qr`` (dropped and recreated), T tenants with one shared
code each, every request on its tenant's subdomain. wrk drives ``GET /q/<code>`` with a Lua
script rotating over the codes; then 8 clients x 250 GETs of one code, each waiting for every
answer, must raise its ``access_count`` by exactly 2,000. The per-address limit is off
(``ANTHIAS_QR_RATE_LIMIT=0``): every request comes from 127.0.0.1. Also: QR SVG/PNG and
Code 128 generation time (``services/qr_images.py``), and the page's own cost in this process
(``--in-process``).

    .venv/bin/python benchmarks/qr.py                       # device and cloud, -c8, 3 runs
    .venv/bin/python benchmarks/qr.py --only cloud --connections 4,8,16 --duration 10
    .venv/bin/python benchmarks/qr.py --only device --in-process 5000 --profile

PostgreSQL, the server and wrk share this machine's cores; see benchmarks/tenancy.py on the
kernel's session autogroups, which the output names.
"""

from __future__ import annotations

import argparse
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

from benchmarks._batches import median_batch_ms  # noqa: E402
from benchmarks._postgres import recreate_database  # noqa: E402
from benchmarks.tenancy import autogroup_state  # noqa: E402
from tests.helpers import free_ports  # noqa: E402

DATABASE = "anthias_bench_qr"
BASE_DOMAIN = "bench.test"
EXACT_CLIENTS, EXACT_GETS = 8, 250
LUA = """
local rows = {}
for line in io.lines("%(rows)s") do rows[#rows + 1] = line end
local i = 0
init = function(args) i = math.random(#rows) end
request = function()
  i = i %% #rows + 1
  local host, path = rows[i]:match("([^ ]+) (.+)")
  return wrk.format("GET", path, {["Host"] = host})
end
"""


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def new_code() -> str:
    return "QR" + secrets.token_hex(8).upper()


def base_environ(home: str) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANTHIAS_")}
    environ.pop("DATABASE_URL", None)
    environ.pop("WEB_CONCURRENCY", None)
    environ.update(HOME=home, ANTHIAS_QR_RATE_LIMIT="0", PYTHONDONTWRITEBYTECODE="1",
                   ANTHIAS_ZMQ_PUBLISHER="tcp://127.0.0.1:*",
                   ANTHIAS_ZMQ_COLLECTOR="tcp://127.0.0.1:*", MALLOC_ARENA_MAX="2")
    return environ


# -- seeding -------------------------------------------------------------------
def seed_device(home: str, codes: int) -> list[tuple[str, str]]:
    """A device HOME with ``codes`` shared pictures; [(host, path)] to request."""
    from anthias_edge.app import create_app
    from anthias_edge.models import Asset, QRContent
    from anthias_edge.timeutil import utcnow

    app = create_app(environ=base_environ(home))
    runtime = app.extensions["anthias"]
    rows = []
    with runtime.database.connection_context(), runtime.database.atomic():
        tenant_id = runtime.local_tenant_id
        for n in range(codes):
            asset_id = uuid.uuid4().hex
            Asset.create(asset_id=asset_id, name=f"Poster {n}", mimetype="image", duration=10,
                         uri=str(runtime.settings.asset_dir / f"{asset_id}.png"),
                         tenant=tenant_id, is_enabled=True)
            code = QRContent.create(tenant=tenant_id, asset=asset_id, qr_code=new_code(),
                                    title=f"Poster {n}", description="Benchmark poster",
                                    created_at=utcnow(), updated_at=utcnow())
            rows.append(("127.0.0.1", f"/q/{code.qr_code}"))
    runtime.close()
    return rows


def seed_cloud(url: str, tenants: int) -> list[tuple[str, str]]:
    """T tenants, each with one shared picture, by COPY; [(host, path)] to request."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = []
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        ids = [str(uuid.uuid4()) for _ in range(tenants)]
        with cur.copy("COPY tenants (id, name, subdomain, is_active, plan_type, max_assets, "
                      "max_devices, storage_quota_gb, created_at, updated_at) FROM STDIN") as cp:
            for n, tenant_id in enumerate(ids):
                cp.write_row((tenant_id, f"Tenant {n}", f"t{n:05d}", True, "bench", 100, 10,
                              10, now, now))
        assets = [uuid.uuid4().hex for _ in ids]
        with cur.copy("COPY assets (asset_id, name, uri, mimetype, duration, is_enabled, "
                      "play_order, tenant_id, created_at, updated_at) FROM STDIN") as cp:
            for tenant_id, asset_id in zip(ids, assets, strict=True):
                cp.write_row((asset_id, "Poster", f"/srv/{tenant_id}/{asset_id}.png", "image",
                              10, True, 0, tenant_id, now, now))
        with cur.copy("COPY qr_contents (qr_id, tenant_id, asset_id, qr_code, title, "
                      "description, created_at, updated_at) FROM STDIN") as cp:
            for n, (tenant_id, asset_id) in enumerate(zip(ids, assets, strict=True)):
                code = new_code()
                cp.write_row((str(uuid.uuid4()), tenant_id, asset_id, code, f"Poster {n}",
                              "Benchmark poster", now, now))
                rows.append((f"t{n:05d}.{BASE_DOMAIN}", f"/q/{code}"))
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")
    return rows


def total_count(url: str | None, home: str | None) -> int:
    """The sum of every code's access_count, read from the database itself."""
    if url:
        with psycopg.connect(url) as conn:
            return int(conn.execute("SELECT coalesce(sum(access_count), 0) "
                                    "FROM qr_contents").fetchone()[0])
    import sqlite3

    with sqlite3.connect(Path(home, ".screenly", "screenly.db")) as conn:
        return int(conn.execute("SELECT coalesce(sum(access_count), 0) "
                                "FROM qr_contents").fetchone()[0])


# -- serving and measuring ------------------------------------------------------
def start_server(environ: dict[str, str], port: int, workers: int | None) -> subprocess.Popen:
    """``anthias-edge serve``; returns once it answers (cloud: once its workers are up)."""
    command = [sys.executable, "-m", "anthias_edge.cli", "serve", "--listen",
               f"127.0.0.1:{port}"]
    if workers:
        command += ["--workers", str(workers)]
    proc = subprocess.Popen(command, env=environ, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if "running at" in line or "Serving on" in line or "listening" in line.lower():
            time.sleep(2 if workers else 0.5)
            return proc
        if proc.poll() is not None:
            break
    proc.kill()
    raise SystemExit("the server did not start")


def wait_until_up(port: int, host: str, path: str) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("HEAD", path, headers={"Host": host})
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server never answered the landing page")


def run_wrk(port: int, rows: list[tuple[str, str]], duration: int,
            connections: int) -> dict[str, Any]:
    """One wrk run; requests/s, p50/p99 ms, requests answered, non-2xx."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp, "rows.txt")
        listing.write_text("".join(f"{host} {path}\n" for host, path in rows))
        script = Path(tmp, "landing.lua")
        script.write_text(LUA % {"rows": listing})
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
                              "-s", str(script), f"http://127.0.0.1:{port}"],
                             capture_output=True, text=True, check=True).stdout
    log(out)

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]),
            "p50": ms("50"), "p99": ms("99"),
            "answered": int(re.search(r"(\d+) requests in", out)[1]),
            "errors": int(errors[1]) if errors else 0}


def exact_count(port: int, host: str, path: str, url: str | None, home: str) -> tuple[int, int]:
    """8 keep-alive clients x 250 GETs of one code, each waiting for its answers: (200s, the
    code's count afterwards minus before). Exact counting means both are 2,000."""
    import http.client
    import threading

    before = total_count(url, home)
    answered = []

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        ok = 0
        for _ in range(EXACT_GETS):
            conn.request("GET", path, headers={"Host": host})
            response = conn.getresponse()
            response.read()
            ok += response.status == 200
        conn.close()
        answered.append(ok)

    threads = [threading.Thread(target=client) for _ in range(EXACT_CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(answered), total_count(url, home) - before


def measure(name: str, environ: dict[str, str], rows: list[tuple[str, str]], args: Any,
            url: str | None, home: str, workers: int | None) -> list[dict[str, Any]]:
    """Serve, warm up, then ``--repeat`` wrk runs per connection count, each counted."""
    port = free_ports(1)[0]
    proc = start_server(environ, port, workers)
    results = []
    try:
        wait_until_up(port, rows[0][0], rows[0][1])
        run_wrk(port, rows, 3, 4 * (workers or 2))  # warm-up: every worker, its pool
        for connections in args.connections:
            for _ in range(args.repeat):
                before = total_count(url, home)
                figures = run_wrk(port, rows, args.duration, connections)
                time.sleep(0.5)  # requests still in flight when wrk stopped
                figures["counted"] = total_count(url, home) - before
                figures.update(name=name, connections=connections)
                log(f"{name} -c{connections}: {figures}")
                results.append(figures)
        exact = exact_count(port, rows[0][0], rows[0][1], url, home)
        log(f"{name} exact: {exact}")
        for figures in results:
            figures["exact"] = exact
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return results


def in_process(environ: dict[str, str], rows: list[tuple[str, str]], requests: int,
               profile: bool) -> float:
    """Milliseconds per landing GET through the app in this process (no HTTP)."""
    from anthias_edge.app import create_app

    saved = dict(os.environ)
    os.environ.update(environ)
    try:
        app = create_app(environ=environ)
        app.config["ANTHIAS_BASE_DOMAIN"] = BASE_DOMAIN
        client = app.test_client()

        def run(count: int) -> None:
            for n in range(count):
                host, path = rows[n % len(rows)]
                response = client.get(path, headers={"Host": host})
                if response.status_code != 200:
                    raise SystemExit(f"in-process request failed: {response.status_code}")

        per_request = median_batch_ms(run, requests, 200, profile, top=30)
        app.extensions["anthias"].close()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return per_request


def image_times(rounds: int) -> list[tuple[str, float]]:
    """Median milliseconds to draw each image kind of one landing URL (qr_images)."""
    from anthias_edge.services import qr_images

    url = f"https://t00001.{BASE_DOMAIN}/q/{new_code()}"
    kinds = [("QR SVG (default size)", lambda: qr_images.qr_svg(url)),
             ("QR PNG (default size)", lambda: qr_images.qr_png(url)),
             ("QR PNG size 20, EC H", lambda: qr_images.qr_png(url, size=20,
                                                               error_correction="H")),
             ("Code 128 SVG", lambda: qr_images.barcode_svg("BC" + secrets.token_hex(6)
                                                            .upper())),
             ("Code 128 PNG", lambda: qr_images.barcode_png("BC" + secrets.token_hex(6)
                                                            .upper()))]
    times = []
    for label, draw in kinds:
        draw()
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            draw()
            samples.append((time.perf_counter() - started) * 1000)
        times.append((label, statistics.median(samples)))
    return times


def main() -> None:
    """Seed, serve, measure, print Markdown tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("device", "cloud"), default=None)
    parser.add_argument("--codes", type=int, default=100, help="device: shared codes")
    parser.add_argument("--tenants", type=int, default=100, help="cloud: tenants, 1 code each")
    parser.add_argument("--workers", type=int, default=4, help="cloud: gunicorn workers")
    parser.add_argument("--connections", default="8")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--in-process", type=int, default=0, metavar="N")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--image-rounds", type=int, default=200)
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    log(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results, own = [], {}
    if args.only in (None, "device"):
        home = tempfile.mkdtemp(prefix="anthias-bench-qr-")
        rows = seed_device(home, args.codes)
        environ = base_environ(home)
        if args.in_process:
            own["device"] = in_process(environ, rows, args.in_process, args.profile)
        results += measure("device (SQLite, waitress)", environ, rows, args, None, home, None)
    if args.only in (None, "cloud"):
        from cryptography.fernet import Fernet

        url = recreate_database(DATABASE)
        rows = seed_cloud(url, args.tenants)
        home = tempfile.mkdtemp(prefix="anthias-bench-qr-")
        environ = {**base_environ(home), "ANTHIAS_MODE": "cloud", "DATABASE_URL": url,
                   "ANTHIAS_BASE_DOMAIN": BASE_DOMAIN,
                   "ANTHIAS_SECRET_KEY": Fernet.generate_key().decode()}
        if args.in_process:
            own["cloud"] = in_process(environ, rows, args.in_process, args.profile)
        results += measure(f"cloud (PostgreSQL, {args.workers} gunicorn workers)", environ,
                           rows, args, url, home, args.workers)
    images = image_times(args.image_rounds)
    log(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"GET /q/<code>, wrk -t2 -d{args.duration}s, kernel session autogroups "
          f"{autogroup_state()}\n")
    # wrk stops mid-flight: requests the server answered (and counted) after wrk stopped
    # reading make ``counted`` exceed ``answered`` by a few; hence the exact run below, where
    # every client waits for all of its answers.
    print("| server | wrk -c | requests/s | p50 | p99 | answered | counted | non-2xx |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['name']} | {r['connections']} | {r['rps']:.0f} | {r['p50']:.2f} ms "
              f"| {r['p99']:.2f} ms | {r['answered']:,} | {r['counted']:,} | {r['errors']} |")
    for name, connections in sorted({(r["name"], r["connections"]) for r in results}):
        runs = [r for r in results if (r["name"], r["connections"]) == (name, connections)]
        ok, counted = runs[0]["exact"]
        print(f"\nmedian {name} -c{connections}: "
              f"{statistics.median(r['rps'] for r in runs):.0f} req/s, "
              f"p50 {statistics.median(r['p50'] for r in runs):.2f} ms, "
              f"p99 {statistics.median(r['p99'] for r in runs):.2f} ms; exact run "
              f"{EXACT_CLIENTS} x {EXACT_GETS} GETs: {ok:,} answered 200, {counted:,} counted "
              f"({'exact' if ok == counted == EXACT_CLIENTS * EXACT_GETS else 'NOT EXACT'})")
    for name, ms in own.items():
        print(f"in process ({name}): {ms:.3f} ms per GET")
    print("\n| QR image | median ms |")
    print("|---|---:|")
    for label, ms in images:
        print(f"| {label} | {ms:.2f} |")


if __name__ == "__main__":
    main()
