"""The end-to-end world: a real cloud process on PostgreSQL and devices as real processes.

- ``Cloud``: ``ANTHIAS_MODE=cloud`` behind waitress on a free loopback port, in a process of
  its own, on a PostgreSQL database of this run's own (named after ANTHIAS_TEST_DATABASE_URL's),
  with tenants ``alpha`` and ``beta``. The tests act on it as an admin would, through v3 over
  HTTP (a bearer token per tenant); what only an operator may do (a tenant's limits) runs in a
  short-lived process through the services. Checks read its tables with psycopg as the
  database owner (which row-level security does not restrict).
- ``Device``: a HOME of its own on SQLite, running ``anthias-edge serve`` (its own HTTP,
  ZeroMQ and relay ports), the agent ``anthias-edge sync`` and, when asked, the player
  ``anthias-edge player --renderer headless``. Models reach their database through one proxy
  per process, so no device can live in the test process.
- The device's outbox rows are deleted once the hub acknowledges them, so every device gets a
  test-only trigger copying each outbox row into ``e2e_outbox_history``: the device's full
  history of changes, which the exactly-once checks compare with the hub's receipts.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.cloud.pg import drop_database, fresh_database, query
from tests.helpers import free_ports
from tests.web.cloud_process import cloud_database_name, run_in_cloud

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="
PASSWORD = "correct horse battery"
DEVICE_USER = "owner"
START_TIMEOUT_S = 60
SYNC_INTERVAL_S = 5  # the setting's minimum; the hub's interval (30 s) is longer and wins
# Bounds on waiting, not speeds: the agent pulls every 30 s (+-20 % jitter).
CYCLE_WAIT_S = 80

SERVE = """
import sys, waitress
from anthias_edge.app import create_app
from anthias_edge.services.auth.passwords import Passwords
from anthias_edge.services.tenants import create_tenant
app = create_app(environ=ENVIRON)
runtime = app.extensions["anthias"]
ids = []
with runtime.database.connection_context():
    for subdomain in ("alpha", "beta"):
        tenant, _owner = create_tenant(subdomain.title(), subdomain, subdomain + "-owner",
                                       PASSWORD)
        ids.append(tenant.id)
server = waitress.create_server(app, host="127.0.0.1", port=0, threads=8)
print("READY", server.effective_port, *ids, flush=True)
server.run()
"""

HISTORY = """
CREATE TABLE IF NOT EXISTS e2e_outbox_history (seq INTEGER, idem_key TEXT, kind TEXT,
                                               payload TEXT);
CREATE TRIGGER IF NOT EXISTS e2e_outbox_copy AFTER INSERT ON sync_outbox BEGIN
    INSERT INTO e2e_outbox_history VALUES (NEW.seq, NEW.idem_key, NEW.kind, NEW.payload);
END;
"""


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without ANTHIAS_*, DATABASE_URL or systemd's socket."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("ANTHIAS_") and key not in ("DATABASE_URL", "NOTIFY_SOCKET")}
    return {**env, **extra}


def http(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30, form: dict[str, str] | None = None
         ) -> tuple[int, Any, dict[str, str]]:
    """One request (a JSON ``body`` or a urlencoded ``form``); answer (status, JSON or text or
    None, headers). Never raises on 4xx/5xx."""
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    else:
        data = None if body is None else json.dumps(body).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw, status, got = response.read(), response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        raw, status, got = error.read(), error.code, dict(error.headers)
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text) if text else None, got
    except ValueError:
        return status, text, got


def wait_until(predicate: Callable[[], Any], timeout_s: float, what: str) -> Any:
    """Poll ``predicate`` until truthy (its value); fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s} s")
        time.sleep(0.25)


def stop_process(process: subprocess.Popen | None, timeout_s: float = 20) -> int | None:
    """SIGTERM, then SIGKILL if it will not end; its exit code."""
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


# -- the cloud ----------------------------------------------------------------------------------


@dataclass
class Cloud:
    """The running cloud process."""

    url: str
    tenants: dict[str, str]
    environ: dict[str, str]
    database_url: str
    process: subprocess.Popen
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, tenant: str) -> str:
        """A v3 access token of ``tenant``'s owner (``alpha`` or ``beta``)."""
        if tenant not in self._tokens:
            status, body, _ = http("POST", self.url + "/api/v3/auth/token",
                                   {"username": f"{tenant}-owner", "password": PASSWORD,
                                    "tenant": tenant})
            assert status == 200, body
            self._tokens[tenant] = body["access_token"]
        return self._tokens[tenant]

    def api(self, tenant: str, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """A v3 call as ``tenant``'s owner: (status, body)."""
        status, answer, _ = http(method, self.url + path, body,
                                 {"Authorization": f"Bearer {self.token(tenant)}",
                                  **(headers or {})})
        return status, answer

    def pairing_code(self, tenant: str) -> str:
        status, body = self.api(tenant, "POST", "/api/v3/pairing-codes", {})
        assert status == 201, body
        return body["code"]

    def fleet_token(self, tenant: str, max_devices: int = 2) -> str:
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
        status, body = self.api(tenant, "POST", "/api/v3/fleet-tokens",
                                {"name": "E2E shops", "max_devices": max_devices,
                                 "expires_at": expires})
        assert status == 201, body
        return body["token"]

    def run(self, tenant: str, body: str) -> Any:
        """Run ``body`` (Python setting ``result``) within ``tenant`` in a process of its own."""
        return run_in_cloud(self.environ, self.tenants[tenant], body)

    def set_limits(self, tenant: str, **limits: int) -> None:
        """Change a tenant's own limits, as an operator (or billing) does."""
        self.run(tenant, f"""
            from anthias_edge.services.tenants import TenantService
            TenantService(TENANT).set_plan(**{limits!r})
            result = True
        """)

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        """Rows of one query as the database owner (all tenants)."""
        return query(self.database_url, statement, params)


@contextlib.contextmanager
def running_cloud(home: Path, logs: Path) -> Iterator[Cloud]:
    """The cloud app on this run's own fresh database, served until the block ends."""
    name = cloud_database_name("sync_e2e")
    url = fresh_database(name)
    environ = {"HOME": str(home), "ANTHIAS_MODE": "cloud", "DATABASE_URL": url,
               "ANTHIAS_SECRET_KEY": SECRET_KEY}
    script = f"ENVIRON = {environ!r}\nPASSWORD = {PASSWORD!r}\n" + SERVE
    log = (logs / "cloud.log").open("w")
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=log, env=clean_env(environ))
    try:
        line = _ready_line(process, logs / "cloud.log")
        _ready, port, alpha, beta = line.split()
        yield Cloud(f"http://127.0.0.1:{port}", {"alpha": alpha, "beta": beta}, environ, url,
                    process)
    finally:
        stop_process(process)
        process.stdout.close()
        log.close()
        drop_database(name)


def _ready_line(process: subprocess.Popen, log: Path) -> str:
    import selectors

    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=START_TIMEOUT_S):
        raise AssertionError(f"the cloud did not start within {START_TIMEOUT_S} s:\n"
                             f"{log.read_text()[-3000:]}")
    line = process.stdout.readline()
    if not line.startswith("READY "):
        raise AssertionError(f"the cloud did not start ({process.poll()}):\n"
                             f"{log.read_text()[-3000:]}")
    return line


# -- a device -----------------------------------------------------------------------------------


@dataclass
class Device:
    """One device: its HOME, ports and processes."""

    name: str
    home: Path
    logs: Path
    env: dict[str, str]
    base: str
    publisher: str
    server: subprocess.Popen | None = None
    agent: subprocess.Popen | None = None
    player: subprocess.Popen | None = None
    _log_files: list[Any] = field(default_factory=list)
    _token: str | None = None

    @property
    def database(self) -> Path:
        return self.home / ".screenly" / "screenly.db"

    # processes

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``anthias-edge ARGS`` as this device."""
        return subprocess.run([sys.executable, "-m", "anthias_edge.cli", *args], env=self.env,
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def _start(self, role: str, *args: str) -> subprocess.Popen:
        log = (self.logs / f"{self.name}-{role}.log").open("ab")
        self._log_files.append(log)
        return subprocess.Popen([sys.executable, "-m", "anthias_edge.cli", *args], env=self.env,
                                cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def start_server(self) -> None:
        self.server = self._start("server", "serve")
        wait_until(self._answers, START_TIMEOUT_S, f"{self.name}'s server answering")

    def start_player(self) -> None:
        self.player = self._start("player", "player", "--renderer", "headless")

    def start_agent(self) -> subprocess.Popen:
        self.agent = self._start("agent", "sync")
        return self.agent

    def stop_agent(self) -> int | None:
        code, self.agent = stop_process(self.agent), None
        return code

    def stop_all(self) -> None:
        for process in (self.agent, self.player, self.server):
            stop_process(process)
        self.agent = self.player = self.server = None
        for log in self._log_files:
            log.close()

    def _answers(self) -> bool:
        try:
            return self.api("GET", "/api/v2/assets")[0] == 200
        except OSError:
            return False

    # what the device holds

    def api(self, method: str, path: str, body: Any = None, *,
            form: dict[str, str] | None = None) -> tuple[int, Any]:
        """A call of the device's API as its owner (Basic on v1-v2, a bearer token on v3)."""
        if path.startswith("/api/v3/"):
            auth = f"Bearer {self._v3_token()}"
        else:
            auth = "Basic " + base64.b64encode(f"{DEVICE_USER}:{PASSWORD}".encode()).decode()
        status, answer, _ = http(method, self.base + path, body, {"Authorization": auth},
                                 form=form)
        return status, answer

    def _v3_token(self) -> str:
        if self._token is None:
            status, body, _ = http("POST", self.base + "/api/v3/auth/token",
                                   {"username": DEVICE_USER, "password": PASSWORD})
            assert status == 200, body
            self._token = body["access_token"]
        return self._token

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(self.database, timeout=30)) as conn, conn:
            return conn.execute(statement, params).fetchall()

    def status(self) -> dict[str, Any]:
        result = self.cli("sync", "status", "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def history(self) -> list[tuple[int, str, str, dict]]:
        """Every outbox row the device ever wrote: (seq, key, kind, payload)."""
        return [(seq, key, kind, json.loads(payload)) for seq, key, kind, payload in
                self.sql("SELECT seq, idem_key, kind, payload FROM e2e_outbox_history "
                         "ORDER BY seq")]

    def pending(self) -> int:
        return self.sql("SELECT count(*) FROM sync_outbox")[0][0]

    def log_tail(self, role: str, chars: int = 3000) -> str:
        path = self.logs / f"{self.name}-{role}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def make_device(name: str, root: Path, logs: Path, cloud_url: str = "") -> Device:
    """A migrated device HOME (with the outbox history trigger); nothing started yet."""
    home = root / name
    home.mkdir()
    port, publisher, collector, relay = free_ports(4)
    env = clean_env({
        "HOME": str(home), "ANTHIAS_LISTEN": f"127.0.0.1:{port}",
        "ANTHIAS_ZMQ_PUBLISHER": f"tcp://127.0.0.1:{publisher}",
        "ANTHIAS_ZMQ_COLLECTOR": f"tcp://127.0.0.1:{collector}",
        "ANTHIAS_ZMQ_RELAY": f"tcp://127.0.0.1:{relay}",
        "ANTHIAS_SYNC_INTERVAL": str(SYNC_INTERVAL_S),
        "ANTHIAS_FLEET_TOKEN_PATH": str(home / "anthias-fleet.token"),
        "ANTHIAS_CLOUD_URL": cloud_url, "ANTHIAS_SHOW_SPLASH": "off",
        "ANTHIAS_REBOOT_COMMAND": "true", "ANTHIAS_SHUTDOWN_COMMAND": "true",
        "ANTHIAS_PLAYER_NAME": name, "ANTHIAS_AUTH_BACKEND": "auth_basic",
        "ANTHIAS_USER": DEVICE_USER, "ANTHIAS_PASSWORD": PASSWORD,
    })
    device = Device(name, home, logs, env, f"http://127.0.0.1:{port}",
                    f"tcp://127.0.0.1:{publisher}")
    migrated = device.cli("migrate")
    assert migrated.returncode == 0, migrated.stderr
    with contextlib.closing(sqlite3.connect(device.database)) as conn:
        conn.executescript(HISTORY)
    return device


def v2_asset(name: str, duration: int = 10, **fields: Any) -> dict[str, Any]:
    """A v2 create body of an active web page."""
    return {"name": name, "uri": f"https://example.com/{name.replace(' ', '-')}",
            "start_date": "2020-01-01T00:00:00Z", "end_date": "2099-01-01T00:00:00Z",
            "duration": duration, "mimetype": "webpage", "is_enabled": True, "nocache": False,
            "play_order": 0, "skip_asset_check": True, **fields}


# -- exactly once -------------------------------------------------------------------------------


def exactly_once_report(device: Device, cloud: Cloud, device_id: str) -> dict[str, Any]:
    """Compare the device's full outbox history with the hub's receipts and effects.

    Answers what went wrong (empty lists when nothing did): entries without a receipt (lost),
    receipts the device never wrote (invented), receipts under another seq, inventory rows not
    written by the asset's last change, and plays not recorded exactly once.
    """
    history = device.history()
    receipts = {key: seq for key, seq in cloud.sql(
        "SELECT idem_key, seq FROM sync_receipts WHERE device_id = %s", (device_id,))}
    written = {key: seq for seq, key, _kind, _payload in history}
    last_change: dict[str, tuple[int, str]] = {}
    for seq, _key, kind, payload in history:
        if kind in ("asset.upsert", "asset.delete"):
            last_change[payload["asset_id"]] = (seq, kind)
    inventory = {asset_id: seq for asset_id, seq in cloud.sql(
        "SELECT asset_id, seq FROM device_assets WHERE device_id = %s", (device_id,))}
    expected_inventory = {asset_id: seq for asset_id, (seq, kind) in last_change.items()
                          if kind == "asset.upsert"}
    plays = cloud.sql("SELECT play_id FROM device_plays WHERE device_id = %s", (device_id,))
    play_keys = [key for _seq, key, kind, _payload in history if kind == "play"]
    local_assets = {row[0] for row in device.sql("SELECT asset_id FROM assets")}
    return {
        "entries": len(history),
        "lost": sorted(set(written) - set(receipts)),
        "invented": sorted(set(receipts) - set(written)),
        "moved": sorted(key for key in set(written) & set(receipts)
                        if written[key] != receipts[key]),
        "inventory_wrong": sorted(
            asset_id for asset_id in set(inventory) | set(expected_inventory)
            if inventory.get(asset_id) != expected_inventory.get(asset_id)),
        "inventory_not_local": sorted(set(inventory) - local_assets),
        "plays_wrong": sorted(set(play_keys) ^ {row[0] for row in plays}),
    }


def assert_exactly_once(device: Device, cloud: Cloud, device_id: str) -> dict[str, Any]:
    """No entry lost, invented or moved, and the outbox empty.

    A running player writes a play whenever an asset ends, so the outbox and the history
    would move between the reads below (once in a run: a play written after the drain). The
    player is paused for them: stopped, the agent given the time to push its last plays, and
    started again afterwards for the tests that follow.
    """
    playing = device.player is not None
    if playing:
        stop_process(device.player)
        device.player = None
        if device.agent is not None:
            wait_until(lambda: device.pending() == 0, CYCLE_WAIT_S, "the last plays pushed")
    try:
        report = exactly_once_report(device, cloud, device_id)
        problems = {key: value for key, value in report.items() if key != "entries" and value}
        assert not problems, problems
        assert device.pending() == 0
    finally:
        if playing:
            device.start_player()
    return report
