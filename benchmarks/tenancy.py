"""Tenancy benchmark: does a tenant's list cost grow with other tenants' data?

Seeds PostgreSQL database ``anthias_bench`` (dropped and recreated) with N tenants x 1,000
assets by COPY, one owner and one API token per tenant, starts ``anthias-edge serve`` in cloud
mode with 4 gunicorn workers, and drives ``GET /api/v3/assets?limit=50`` with wrk, a Lua
script rotating across every tenant's token. Prints requests/s, p50 and p99 per size and the
EXPLAIN of the list query (it must use a (tenant_id, ...) index).

    .venv/bin/python benchmarks/tenancy.py                       # 1000 tenants, then 10
    .venv/bin/python benchmarks/tenancy.py --sizes 10 --duration 10
    .venv/bin/python benchmarks/tenancy.py --endpoint /api/v2/assets   # v2 on subdomains
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from anthias_edge.services.auth_tokens import API_TOKEN_PREFIX, _sha256  # noqa: E402
from anthias_edge.services.passwords import Passwords  # noqa: E402
from anthias_edge.services.pg_migration import migrate_locked, open_target  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
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


def log(message: str) -> None:
    """Progress on stderr."""
    print(message, file=sys.stderr, flush=True)


def recreate_database() -> str:
    """An empty ``anthias_bench`` database, migrated; its URL."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    url = f"{SERVER}/{DATABASE}"
    database = open_target(url)
    migrate_locked(database)
    database.close_all()
    return url


def seed(url: str, tenants: int, basic: bool) -> list[tuple[str, str]]:
    """N tenants x 1,000 assets by COPY; [(subdomain, Authorization header)] per tenant."""
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
                              _sha256(secret), '["assets.view"]', now, now))
                if basic:
                    import base64

                    token = base64.b64encode(f"owner{n:05d}:{PASSWORD}".encode()).decode()
                    credentials.append((f"t{n:05d}", f"Basic {token}"))
                else:
                    credentials.append((f"t{n:05d}", f"Bearer {secret}"))
        with cur.copy("COPY assets (asset_id, name, uri, mimetype, duration, start_date, "
                      "end_date, is_enabled, play_order, tenant_id, created_at, updated_at) "
                      "FROM STDIN") as cp:
            for t, tenant_id in enumerate(ids):
                for a in range(ASSETS_PER_TENANT):
                    cp.write_row((uuid.uuid4().hex, f"Asset {a} of {t}",
                                  f"https://example.org/{t}/{a}", "webpage", 10,
                                  dt.datetime(2024, 1, 1), dt.datetime(2099, 1, 1), True, a,
                                  tenant_id, now, now))
                if (t + 1) % 100 == 0:
                    log(f"  seeded {t + 1}/{tenants} tenants "
                        f"({(t + 1) * ASSETS_PER_TENANT:,} assets, "
                        f"{time.monotonic() - started:.0f} s)")
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
    log(f"  seeded {tenants} tenants x {ASSETS_PER_TENANT} assets in "
        f"{time.monotonic() - started:.1f} s")
    return credentials


def explain(url: str) -> str:
    """The plan of the v3 list query for one tenant (as asset_store.list_page issues it)."""
    with psycopg.connect(url) as conn:
        tenant_id = conn.execute("SELECT id FROM tenants WHERE plan_type = 'bench' "
                                 "ORDER BY subdomain LIMIT 1").fetchone()[0]
        rows = conn.execute(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT *, seq AS position FROM assets "
            "WHERE tenant_id = %s ORDER BY seq LIMIT 51", (tenant_id,)).fetchall()
    return "\n".join(row[0] for row in rows)


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


def run_wrk(port: int, path: str, credentials: list[tuple[str, str]], duration: int,
            connections: int) -> dict[str, float]:
    """wrk with the rotating Lua script; requests/s, p50 and p99 in ms."""
    with tempfile.TemporaryDirectory() as tmp:
        creds = Path(tmp, "creds.txt")
        creds.write_text("".join(f"{sub} {auth}\n" for sub, auth in credentials))
        script = Path(tmp, "rotate.lua")
        script.write_text(LUA % {"creds": creds, "path": path, "base": BASE_DOMAIN})
        subprocess.run(["wrk", "-t2", f"-c{connections}", "-d3s", "-s", str(script),
                        f"http://127.0.0.1:{port}"], capture_output=True, check=True)  # warm-up
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency",
                              "-s", str(script), f"http://127.0.0.1:{port}"],
                             capture_output=True, text=True, check=True).stdout
    log(out)
    if "Non-2xx" in out:
        raise SystemExit("some requests failed: " + out)

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "p50": ms("50"), "p99": ms("99")}


def main() -> None:
    """Seed, serve, measure, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10", help="tenant counts, comma-separated")
    parser.add_argument("--endpoint", default="/api/v3/assets?limit=50")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per size")
    parser.add_argument("--port", type=int, default=18089)
    args = parser.parse_args()
    basic = not args.endpoint.startswith("/api/v3")
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        log(f"== {size} tenants x {ASSETS_PER_TENANT} assets")
        url = recreate_database()
        credentials = seed(url, size, basic)
        plan = explain(url)
        log(plan)
        proc = start_server(url, args.port, args.workers)
        try:
            figures = run_wrk(args.port, args.endpoint, credentials, args.duration,
                              args.connections)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        results.append((size, figures, plan))
    print(f"| tenants x assets | requests/s | p50 | p99 | ({args.endpoint}, {args.workers} "
          f"workers, wrk -c{args.connections} -d{args.duration}s) |")
    print("|---|---:|---:|---:|---|")
    for size, f, _plan in results:
        print(f"| {size:,} x {ASSETS_PER_TENANT:,} | {f['rps']:.0f} | {f['p50']:.2f} ms "
              f"| {f['p99']:.2f} ms | |")
    print("\nEXPLAIN (largest size):\n```\n" + results[0][2] + "\n```")


if __name__ == "__main__":
    main()
