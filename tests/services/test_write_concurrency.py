"""Four clients writing for 30 s through a device's real server (``anthias-edge serve``) on SQLite.

The server's threads take turns writing (db.SqlitePool) and write play orders in one
statement (services/play_order.py); under that load no request may fail, no client's last
write may be lost, and the playlist must end with one active asset per position. The cloud's
equivalent on PostgreSQL: tests/cloud/test_write_concurrency.py.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_ports
from tests.write_load import stop_server, write_and_check

pytestmark = [pytest.mark.sqlite_only, pytest.mark.slow]

START_TIMEOUT_S = 60


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/api/v2/assets")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


@pytest.fixture
def device_server(tmp_path: Path) -> Iterator[int]:
    """``anthias-edge serve`` (waitress, its production threads) on a fresh HOME; its port."""
    home = tmp_path / "home"
    home.mkdir()
    port, publisher, collector = free_ports(3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHIAS_")}
    env.pop("DATABASE_URL", None)
    env.update(HOME=str(home), ANTHIAS_LISTEN=f"127.0.0.1:{port}",
               ANTHIAS_ZMQ_PUBLISHER=f"tcp://127.0.0.1:{publisher}",
               ANTHIAS_ZMQ_COLLECTOR=f"tcp://127.0.0.1:{collector}")
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "anthias_edge.cli", "serve"], env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(port):
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not answer in time"
            time.sleep(0.1)
        yield port
    finally:
        stop_server(server)


def test_four_clients_writing_for_30_s_lose_no_write_and_leave_one_asset_per_position(
        device_server: int) -> None:
    write_and_check(device_server)
