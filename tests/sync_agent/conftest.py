"""Fixtures of the agent tests: a real hub served on a loopback port, devices with own HOMEs.

The hub is the cloud app (SQLite, or PostgreSQL with ANTHIAS_TEST_DATABASE_URL) served by
waitress in a thread; a device is a HOME of its own on SQLite, driven through the real
``anthias-edge`` command in a subprocess, as the first-boot unit and an installer drive it
(the database handle is one per process, so a device cannot live in the hub's process).
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import free_ports, serve_wsgi
from tests.sync_hub.conftest import Hub, make_hub  # noqa: F401  (the hub fixtures)

CLI_TIMEOUT_S = 120


@dataclass
class ServedHub:
    """The hub app and the URL it is served at."""

    hub: Hub
    url: str


@pytest.fixture
def served_hub(make_hub: Callable[..., Hub]) -> Iterator[ServedHub]:  # noqa: F811
    """A cloud app with tenants ``a`` and ``b``, answering on a loopback port."""
    hub = make_hub()
    with serve_wsgi(hub.app, threads=4) as url:
        yield ServedHub(hub, url)


@dataclass
class Device:
    """One device: its HOME and how to run ``anthias-edge`` as it."""

    home: Path
    env: dict[str, str]

    @property
    def database(self) -> Path:
        return self.home / ".screenly" / "screenly.db"

    def cli(self, *args: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess:
        """Run ``anthias-edge ARGS`` as this device."""
        return subprocess.run([sys.executable, "-m", "anthias_edge.cli", *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout, check=False)

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        """Rows of one query on the device's SQLite file."""
        with sqlite3.connect(self.database) as conn:
            return conn.execute(statement, params).fetchall()

    def status(self) -> dict[str, Any]:
        """``anthias-edge sync status --json``."""
        result = self.cli("sync", "status", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def add_asset(self, name: str, *, uri: str = "https://example.com", shared: bool = False,
                  mimetype: str = "webpage") -> str:
        """Insert an asset row as the device's own library holds it."""
        asset_id = uuid.uuid4().hex
        tenant = self.sql("SELECT id FROM tenants LIMIT 1")[0][0]
        self.sql('INSERT INTO assets (asset_id, name, uri, mimetype, duration, is_enabled, '
                 'play_order, tenant_id, is_shared, start_date, end_date) VALUES '
                 "(?, ?, ?, ?, 10, 1, 0, ?, ?, '2020-01-01 00:00:00', '2099-01-01 00:00:00')",
                 (asset_id, name, uri, mimetype, tenant, int(shared)))
        return asset_id


@pytest.fixture
def make_device(tmp_path: Path) -> Callable[[str], Device]:
    """``make_device(name)``: a migrated device HOME on SQLite."""

    def make(name: str) -> Device:
        home = tmp_path / name
        home.mkdir()
        relay = free_ports(1)[0]  # nothing listens there: no server runs for this device
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("ANTHIAS_") and key != "DATABASE_URL"}
        env.update(HOME=str(home), ANTHIAS_ZMQ_RELAY=f"tcp://127.0.0.1:{relay}",
                   ANTHIAS_FLEET_TOKEN_PATH=str(home / "anthias-fleet.token"))
        device = Device(home, env)
        result = device.cli("migrate")
        assert result.returncode == 0, result.stderr
        return device

    return make
