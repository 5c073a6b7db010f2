"""Cloud console figures in the system Chromium against the production cloud server.

Prints, for one run (the median over ``--runs`` cold loads):

- first contentful paint of the Content page of a tenant with 1,000 assets: navigation start
  to ``first-contentful-paint`` (Performance API), cold cache (a fresh browser context per
  load, signed in through ``/api/v3/auth/session`` first, so the page opens on the content
  list as it does for someone coming back); also when the first page of the list is drawn;
- page weight: bytes transferred by that load before images (the HTML, CSS, JS modules and
  the API's JSON: session renewal, ``/auth/me``, the first page of assets).

Targets: first contentful paint ≤ 500 ms, page weight ≤ 200 kB.

The server is ``anthias-edge serve`` in cloud mode (gunicorn workers) on a PostgreSQL database
of its own (``--database``, dropped and created first, dropped again at the end) on the server
``--server`` names. Chromium resolves ``bench.signage.test`` to 127.0.0.1.
Usage: ``.venv/bin/python benchmarks/console.py [--runs 5] [--json] [--database NAME]``.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _browser import chromium
from _server import HOST, REPO, ServerProcess, free_port, server_environ

BASE_DOMAIN = "signage.test"
SUBDOMAIN = "bench"
OWNER = "bench-owner"
PASSWORD = "benchmark password"
ASSETS = 1000
TARGETS = {"first_contentful_paint_ms": 500, "page_kB": 200}

# Records when the first asset row appears, from before any page script runs.
WATCH_LIST = """
new MutationObserver((_records, observer) => {
  if (document.querySelector(".asset-list .asset")) {
    window.__listDrawnAt = performance.now();
    observer.disconnect();
  }
}).observe(document, { childList: true, subtree: true });
"""

MEASURE_PAGE = """() => {
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource")
    .filter((r) => r.initiatorType !== "img");
  return {
    fcp_ms: fcp ? fcp.startTime : null,
    list_ms: window.__listDrawnAt ?? null,
    rows: document.querySelectorAll(".asset-list .asset").length,
    document_bytes: nav.transferSize,
    resource_bytes: resources.reduce((sum, r) => sum + r.transferSize, 0),
    resources: resources.map((r) => [r.name.replace(location.origin, ""), r.transferSize]),
  };
}"""


def database_urls(server: str, name: str) -> tuple[str, str]:
    """The maintenance database's URL and the benchmark database's URL on ``server``."""
    base = urlparse(server)
    return (urlunparse(base._replace(path="/postgres")),
            urlunparse(base._replace(path=f"/{name}")))


def recreate_database(server: str, name: str, drop_only: bool = False) -> str:
    """Drop ``name`` and (unless ``drop_only``) create it empty; return its URL."""
    import psycopg

    maintenance, url = database_urls(server, name)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')
    return url


def cloud_environ(home: Path, database_url: str) -> dict[str, str]:
    """The production cloud settings: PostgreSQL, a base domain, a fresh secret key."""
    environ = server_environ(home)
    environ.update(ANTHIAS_MODE="cloud", DATABASE_URL=database_url,
                   ANTHIAS_BASE_DOMAIN=BASE_DOMAIN,
                   ANTHIAS_SECRET_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode())
    return environ


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Poll ``/readyz`` until it answers 200 (database migrated, keys open)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering")
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                return
        except (ConnectionError, OSError, http.client.HTTPException):
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise RuntimeError(f"no 200 from /readyz within {timeout:.0f} s")


def start_cloud(database_url: str, workers: int) -> tuple[ServerProcess, dict[str, str]]:
    """``anthias-edge serve`` in cloud mode; answers once /readyz says 200."""
    home = Path(tempfile.mkdtemp(prefix="anthias-bench-console-"))
    port = free_port()
    environ = cloud_environ(home, database_url)
    log = (home / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "anthias_edge.cli", "serve", "--listen", f"{HOST}:{port}",
         "--workers", str(workers)],
        cwd=REPO, env=environ, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    server = ServerProcess(process=process, port=port, home=home,
                           launcher=f"cli serve, cloud, {workers} workers")
    try:
        wait_ready(port, process)
    except BaseException:
        sys.stderr.write(server.log_path.read_text(errors="replace")[-2000:] + "\n")
        server.stop()
        raise
    return server, environ


def make_tenant(environ: dict[str, str], database_url: str) -> None:
    """The tenant, made as the README says (``tenant create``), with room for the assets."""
    import psycopg

    subprocess.run([sys.executable, "-m", "anthias_edge.cli", "tenant", "create",
                    "--name", "Bench", "--subdomain", SUBDOMAIN, "--owner-username", OWNER,
                    "--owner-password", PASSWORD], cwd=REPO, env=environ, check=True,
                   stdout=subprocess.DEVNULL)
    # Plans are not editable through the API yet; a free plan holds 100 assets.
    with psycopg.connect(database_url) as conn:
        conn.execute("UPDATE tenants SET max_assets = %s WHERE subdomain = %s",
                     (ASSETS * 2, SUBDOMAIN))


def call(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None,
         token: str | None = None) -> tuple[int, Any]:
    """One JSON request on the tenant's host."""
    headers = {"Host": f"{SUBDOMAIN}.{BASE_DOMAIN}", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    response = conn.getresponse()
    raw = response.read()
    return response.status, (json.loads(raw) if raw else None)


def seed_assets(server: ServerProcess, total: int) -> float:
    """Create ``total`` web-page assets through v3 as a script would; answer seconds taken."""
    conn = server.connection()
    started = time.perf_counter()
    try:
        status, pair = call(conn, "POST", "/api/v3/auth/token",
                            {"username": OWNER, "password": PASSWORD, "tenant": SUBDOMAIN})
        if status != 200:
            raise RuntimeError(f"login answered {status}: {pair}")
        for number in range(total):
            status, body = call(conn, "POST", "/api/v3/assets", {
                "name": f"Bench asset {number:04d}", "uri": f"https://example.com/{number}",
                "mimetype": "webpage", "duration": 10, "is_enabled": True,
                "skip_asset_check": True}, token=pair["access_token"])
            if status != 201:
                raise RuntimeError(f"seeding asset {number}: HTTP {status} {body}")
    finally:
        conn.close()
    return time.perf_counter() - started


def session_cookies(port: int) -> list[dict[str, Any]]:
    """Sign in through the console's session endpoint; its cookies, for a browser context.

    Done outside Chromium so that the measured load is the context's first (a cold cache).
    """
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request("POST", "/api/v3/auth/session",
                     body=json.dumps({"username": OWNER, "password": PASSWORD}),
                     headers={"Host": f"{SUBDOMAIN}.{BASE_DOMAIN}:{port}",
                              "Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"session sign-in answered {response.status}")
        jar = SimpleCookie()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar.load(header)
    finally:
        conn.close()
    return [{"name": name, "value": morsel.value, "domain": f"{SUBDOMAIN}.{BASE_DOMAIN}",
             "path": morsel["path"] or "/", "httpOnly": bool(morsel["httponly"]),
             "secure": False, "sameSite": "Strict"} for name, morsel in jar.items()]


def content_page(browser: Any, port: int, runs: int) -> dict[str, Any]:
    """Median first contentful paint, list drawn and bytes over ``runs`` cold loads."""
    origin = f"http://{SUBDOMAIN}.{BASE_DOMAIN}:{port}"
    samples = []
    for _ in range(runs):
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.add_cookies(session_cookies(port))
        page = context.new_page()
        page.add_init_script(WATCH_LIST)
        page.goto(origin + "/#/content", wait_until="load")
        page.wait_for_function("() => window.__listDrawnAt !== undefined")
        page.wait_for_load_state("networkidle")
        samples.append(page.evaluate(MEASURE_PAGE))
        context.close()
    fcps = [s["fcp_ms"] for s in samples]
    lists = [s["list_ms"] for s in samples]
    weights = [s["document_bytes"] + s["resource_bytes"] for s in samples]
    return {"fcp_ms_median": statistics.median(fcps), "fcp_ms_runs": [round(f, 1) for f in fcps],
            "list_drawn_ms_median": statistics.median(lists),
            "list_drawn_ms_runs": [round(v, 1) for v in lists],
            "rows_on_first_page": samples[-1]["rows"], "page_bytes": max(weights),
            "document_bytes": samples[-1]["document_bytes"],
            "resources": samples[-1]["resources"]}


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="cold loads (median reported)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--server", default=os.environ.get(
        "ANTHIAS_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="any URL of the PostgreSQL server to use")
    parser.add_argument("--database", default="anthias_bench_console",
                        help="the benchmark's own database (dropped and recreated)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)

    database_url = recreate_database(args.server, args.database)
    server, environ = start_cloud(database_url, args.workers)
    try:
        make_tenant(environ, database_url)
        seed_s = seed_assets(server, ASSETS)
        with chromium(f"--host-resolver-rules=MAP *.{BASE_DOMAIN} 127.0.0.1") as browser:
            figures = content_page(browser, server.port, args.runs)
    finally:
        server.stop()
        recreate_database(args.server, args.database, drop_only=True)

    result = {
        "machine": f"{platform.machine()} {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}",
        "server": server.launcher, "assets": ASSETS, "seed_s": round(seed_s, 1),
        **figures, "targets": TARGETS,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    kilobytes = figures["page_bytes"] / 1000
    print(f"machine: {result['machine']}; server: {result['server']}")
    print(f"tenant with {ASSETS} assets (seeded through v3 in {seed_s:.1f} s); "
          f"{args.runs} cold loads of #/content, medians:")
    print(f"  first contentful paint  {figures['fcp_ms_median']:7.1f} ms   runs "
          f"{figures['fcp_ms_runs']}   target <= {TARGETS['first_contentful_paint_ms']} ms")
    print(f"  first page of the list  {figures['list_drawn_ms_median']:7.1f} ms   runs "
          f"{figures['list_drawn_ms_runs']} ({figures['rows_on_first_page']} rows)")
    print(f"  page weight before images {kilobytes:6.1f} kB   target <= {TARGETS['page_kB']} kB")
    for name, size in [["(document)", figures["document_bytes"]], *figures["resources"]]:
        print(f"    {size:8d} B  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
