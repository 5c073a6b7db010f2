"""Four clients writing one tenant's library for 30 s through cloud workers on PostgreSQL.

``anthias-edge serve`` in cloud mode (gunicorn, two workers) under row-level security; the
clients use v2 on the tenant's subdomain with Basic credentials. Each playlist write waits
for the tenant's advisory lock (services/tenant_writes.py) across both workers; no request
may fail, no client's last write may be lost, and the playlist must end with one active
asset per position. The device's equivalent on SQLite: tests/services/test_write_concurrency.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from anthias_edge.cli import main
from tests.cloud.conftest import BASE_DOMAIN
from tests.cloud.pg import database_fixtures
from tests.helpers import basic
from tests.write_load import HttpClient, stop_server, write_and_check

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

PASSWORD = "correct horse battery"
START_TIMEOUT_S = 60
RUNNING = re.compile(r"running at http://127\.0\.0\.1:(\d+)/ with (\d+) workers")
HEADERS = {"Host": f"acme.{BASE_DOMAIN}", **basic("alice", PASSWORD)}

# A database of this module's own, so colleagues' cloud tests never share it.
server_url, write_url = database_fixtures("anthias_write_concurrency_test", made="server_url",
                                          emptied="write_url", migrated=True)


@pytest.fixture
def cloud_server(tmp_path: Path, write_url: str) -> Iterator[int]:
    """Tenant ``acme`` (owner alice) and two cloud workers serving it; their port."""
    result = CliRunner().invoke(main, [
        "tenant", "create", "--name", "Acme", "--subdomain", "acme", "--owner-username",
        "alice", "--owner-password", PASSWORD], env={"HOME": str(tmp_path),
                                                      "DATABASE_URL": write_url})
    assert result.exit_code == 0, result.output
    import psycopg

    with psycopg.connect(write_url) as conn:  # the default plan's limit would end the creates
        conn.execute("UPDATE tenants SET max_assets = 100000 WHERE subdomain = 'acme'")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHIAS_")}
    env.update(HOME=str(tmp_path), ANTHIAS_MODE="cloud", DATABASE_URL=write_url,
               ANTHIAS_BASE_DOMAIN=BASE_DOMAIN, PYTHONUNBUFFERED="1",
               ANTHIAS_SECRET_KEY=Fernet.generate_key().decode())
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        server = subprocess.Popen(
            [sys.executable, "-m", "anthias_edge.cli", "serve", "--listen", "127.0.0.1:0",
             "--workers", "2", "--threads", "4"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while (match := RUNNING.search(log_path.read_text(errors="replace"))) is None:
            assert server.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "the server did not start in time"
            time.sleep(0.1)
        port = int(match.group(1))
        probe = HttpClient(port, headers=HEADERS)
        while True:  # the workers may still be importing the app
            try:
                if probe.call("GET", "/assets")[0] == 200:
                    break
            except OSError:
                probe.close()
                probe = HttpClient(port, headers=HEADERS)
            assert time.monotonic() < deadline, "the workers did not answer in time"
            time.sleep(0.1)
        probe.close()
        yield port
    finally:
        stop_server(server)


def test_four_clients_writing_a_tenant_for_30_s_lose_no_write_and_leave_one_asset_per_position(
        cloud_server: int) -> None:
    write_and_check(cloud_server, HEADERS)
