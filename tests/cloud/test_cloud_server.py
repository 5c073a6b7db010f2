"""``anthias-edge serve`` in cloud mode: gunicorn workers on PostgreSQL, for real."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from anthias_edge.cli import main
from tests.cloud.conftest import BASE_DOMAIN
from tests.cloud.pg import query, reset_schema

PASSWORD = "correct horse battery"
# Cloud serve refuses to start without one (tests/cloud/test_cloud_secret_key.py).
SECRET_KEY = Fernet.generate_key().decode()
START_TIMEOUT_S = 60
RUNNING = re.compile(r"running at http://127\.0\.0\.1:(\d+)/ with (\d+) workers")


def server_env(home: Path, url: str) -> dict[str, str]:
    """The environment of a cloud server subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHIAS_")}
    env.update({"HOME": str(home), "ANTHIAS_MODE": "cloud", "DATABASE_URL": url,
                "ANTHIAS_BASE_DOMAIN": BASE_DOMAIN, "PYTHONUNBUFFERED": "1",
                "ANTHIAS_SECRET_KEY": SECRET_KEY})
    return env


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen, int]]]:
    """Start ``anthias-edge serve --workers 2`` subprocesses; stop them all afterwards."""
    started: list[subprocess.Popen] = []

    def start(url: str, name: str = "a") -> subprocess.Popen:
        home = tmp_path / f"home-{name}"
        home.mkdir(exist_ok=True)
        proc = subprocess.Popen(
            [sys.executable, "-m", "anthias_edge.cli", "serve", "--listen", "127.0.0.1:0",
             "--workers", "2", "--threads", "4"],
            env=server_env(home, url), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            stream.close()


def wait_running(proc: subprocess.Popen) -> tuple[int, int]:
    """(port, workers) from the line the server prints once gunicorn is ready."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        match = RUNNING.search(line)
        if match:
            return int(match.group(1)), int(match.group(2))
        if not line and proc.poll() is not None:
            pytest.fail(f"the server exited {proc.returncode}: {proc.stderr.read()}")
    pytest.fail("the server did not start in time")


def get(port: int, path: str, host: str, user: str, password: str = PASSWORD):
    """(status, body) of a GET with Basic credentials and a Host header."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={
        "Host": host, "Authorization": f"Basic {token}"})
    deadline = time.monotonic() + 20
    while True:  # the workers may still be importing the app
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def cli(home: Path, url: str, *args: str) -> str:
    """Run a tenancy command against the cloud database; its stdout."""
    result = CliRunner().invoke(main, list(args), env={"HOME": str(home), "DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def add_asset(url: str, tenant_id: str, asset_id: str, name: str) -> None:
    """An asset row written straight into PostgreSQL."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO assets (asset_id, name, uri, mimetype, duration, start_date, end_date, "
            "is_enabled, tenant_id) VALUES (%s, %s, 'https://example.org', 'webpage', 10, "
            "'2024-01-01', '2099-01-01', true, %s)", (asset_id, name, tenant_id))


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_serve_each_tenant_only_its_own_assets_on_its_subdomain(
        cloud_url, start_server, tmp_path):
    acme = cli(tmp_path, cloud_url, "tenant", "create", "--name", "Acme", "--subdomain", "acme",
               "--owner-username", "alice", "--owner-password", PASSWORD)
    globex = cli(tmp_path, cloud_url, "tenant", "create", "--name", "Globex", "--subdomain",
                 "globex", "--owner-username", "gina", "--owner-password", PASSWORD)
    add_asset(cloud_url, acme, "a" * 32, "Acme page")
    add_asset(cloud_url, globex, "b" * 32, "Globex page")
    port, workers = wait_running(start_server(cloud_url))

    statuses, bodies = set(), set()
    for _ in range(6):  # enough requests to reach both workers
        status, body = get(port, "/api/v2/assets", f"acme.{BASE_DOMAIN}", "alice")
        statuses.add(status)
        bodies.add(body)
    crossed, denied = get(port, "/api/v2/assets", f"acme.{BASE_DOMAIN}", "gina")

    assert workers == 2
    assert statuses == {200} and len(bodies) == 1
    assert [a["name"] for a in json.loads(bodies.pop())] == ["Acme page"]
    assert (crossed, denied) == (401, b"Access denied")


@pytest.mark.postgres
@pytest.mark.slow
def test_two_servers_starting_at_once_on_an_empty_database_migrate_it_once(
        cloud_url, start_server):
    reset_schema(cloud_url)  # cloud_url comes migrated; this test migrates it itself
    first, second = start_server(cloud_url, "a"), start_server(cloud_url, "b")

    ports = [wait_running(first)[0], wait_running(second)[0]]

    applied = query(cloud_url, "SELECT name, count(*) FROM anthias_edge_migrations GROUP BY name")
    assert applied and all(n == 1 for _name, n in applied)
    # A cloud database has no device tenant (migration 0009 removes it).
    assert query(cloud_url, "SELECT count(*) FROM tenants WHERE subdomain = 'local'") == [(0,)]
    for port in ports:
        assert get(port, "/api/v2/assets", f"nobody.{BASE_DOMAIN}", "x")[0] == 401


@pytest.mark.parametrize(("url", "message"), [
    ("", "Cloud mode (ANTHIAS_MODE=cloud) needs DATABASE_URL"),
    ("sqlite:////tmp/x.db", "DATABASE_URL must start with postgresql://"),
])
def test_cloud_mode_without_a_postgresql_url_is_one_error_line(home, url, message):
    result = CliRunner().invoke(main, ["serve", "--listen", "127.0.0.1:0"], env={
        "HOME": str(home), "ANTHIAS_MODE": "cloud", "DATABASE_URL": url or None})

    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
