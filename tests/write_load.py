"""Clients writing one asset library at once, for a fixed time, through a served v2 API.

Shared by tests/services/test_write_concurrency.py (a device's server on SQLite) and
tests/cloud/test_write_concurrency.py (cloud workers on PostgreSQL); its ``HttpClient`` also
by tests/cloud/test_concurrent_writes.py. Each client creates,
patches and deletes assets of its own and reorders the playlist, as a dashboard, a sync agent
and a script do together; it remembers what it last wrote to each of its assets, so the end
state can be checked against it.
"""

from __future__ import annotations

import http.client
import json
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.helpers import v2_asset

DURATION_S = 30.0
CLIENTS = 4
SEED_ASSETS = 8
# Statuses each kind of request may answer; anything else is a failure.
EXPECTED = {"create": 201, "patch": 200, "patch seed": 200, "delete": 204, "list": 200,
            "order": 204, "final patch": 200}


class HttpClient:
    """One keep-alive HTTP/1.1 connection, as one script would hold it."""

    def __init__(self, port: int, prefix: str = "/api/v2",
                 headers: dict[str, str] | None = None, timeout: float = 60) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.prefix = prefix
        self.headers = dict(headers or {})

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        """(status, body text) of one request under the prefix."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, self.prefix + path, body=data, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


def stop_server(server: subprocess.Popen) -> None:
    """SIGTERM a served ``anthias-edge serve`` and wait for it; kill it if it will not end."""
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@dataclass
class ClientLog:
    """What one client did and what it last wrote to each asset it made."""

    last_written: dict[str, tuple[str, int]] = field(default_factory=dict)  # id: (name, duration)
    deleted: set[str] = field(default_factory=set)
    done: Counter = field(default_factory=Counter)
    failures: list[tuple[str, int, str]] = field(default_factory=list)

    def answered(self, what: str, status: int, text: str) -> bool:
        """Count the request; keep it as a failure unless its status is the expected one."""
        self.done[what] += 1
        if status != EXPECTED[what]:
            self.failures.append((what, status, text[:300]))
            return False
        return True


def mixed_writes(client: HttpClient, number: int, seeds: list[str], duration_s: float
                 ) -> ClientLog:
    """Create, patch, delete and reorder at random until ``duration_s`` has passed."""
    rng = random.Random(number)
    log = ClientLog()
    mine: list[str] = []
    deadline = time.monotonic() + duration_s
    step = 0
    while time.monotonic() < deadline:
        step += 1
        kind = rng.choices(("create", "patch", "patch seed", "delete", "order"),
                           weights=(3, 4, 1, 2, 1))[0]
        if kind == "create" or (kind in ("patch", "delete") and not mine):
            name = f"client{number}-{step}"
            status, text = client.call("POST", "/assets", v2_asset(
                name=name, duration=step, play_order=rng.randrange(10)))
            if log.answered("create", status, text):
                asset_id = json.loads(text)["asset_id"]
                mine.append(asset_id)
                log.last_written[asset_id] = (name, step)
        elif kind == "patch":
            asset_id, name = rng.choice(mine), f"client{number}-{step}"
            status, text = client.call("PATCH", f"/assets/{asset_id}", {
                "name": name, "duration": step, "play_order": rng.randrange(10)})
            if log.answered("patch", status, text):
                log.last_written[asset_id] = (name, step)
        elif kind == "patch seed":  # every client moves the same rows
            status, text = client.call("PATCH", f"/assets/{rng.choice(seeds[-SEED_ASSETS:])}",
                                       {"play_order": rng.randrange(10)})
            log.answered("patch seed", status, text)
        elif kind == "delete":
            asset_id = mine.pop(rng.randrange(len(mine)))
            status, text = client.call("DELETE", f"/assets/{asset_id}")
            if log.answered("delete", status, text):
                log.deleted.add(asset_id)
                del log.last_written[asset_id]
        else:
            status, text = client.call("GET", "/assets")
            if log.answered("list", status, text):
                ids = [a["asset_id"] for a in json.loads(text) if a["is_active"]]
                rng.shuffle(ids)
                status, text = client.call("POST", "/assets/order", {"ids": ",".join(ids)})
                log.answered("order", status, text)
    return log


def run_clients(clients: list[HttpClient], duration_s: float = DURATION_S
                ) -> tuple[list[ClientLog], list[dict[str, Any]], list[str]]:
    """Seed, let every client write for ``duration_s``, then end with one renumbering PATCH
    each, all at once; return each client's log, the assets as listed, and the ids of the
    assets no client deletes (the seeds and any there were before).

    The renumbering PATCHes come last because an order posted from a list read before
    another client's create may leave two assets at one position (as in Anthias); a
    renumbering write numbers every active asset 0..n-1 again.
    """
    status, text = clients[0].call("GET", "/assets")
    assert status == 200, text
    seeds = [a["asset_id"] for a in json.loads(text)]  # a device's default assets, if any
    for n in range(SEED_ASSETS):
        status, text = clients[0].call("POST", "/assets", v2_asset(name=f"seed{n}"))
        assert status == 201, text
        seeds.append(json.loads(text)["asset_id"])
    logs: list[ClientLog] = [ClientLog() for _ in clients]

    def work(number: int) -> None:
        logs[number] = mixed_writes(clients[number], number, seeds, duration_s)

    _together(len(clients), work, timeout_s=duration_s + 120)

    def final(number: int) -> None:
        status, text = clients[number].call("PATCH", f"/assets/{seeds[-1 - number]}",
                                            {"play_order": number})
        logs[number].answered("final patch", status, text)

    _together(len(clients), final, timeout_s=120)
    status, text = clients[0].call("GET", "/assets")
    assert status == 200, text
    return logs, json.loads(text), seeds


def write_and_check(port: int, headers: dict[str, str] | None = None) -> None:
    """CLIENTS clients on ``port`` write for DURATION_S (``run_clients``); then
    ``assert_consistent`` on what they did and what the server lists."""
    clients = [HttpClient(port, headers=headers) for _ in range(CLIENTS)]
    try:
        logs, assets, kept = run_clients(clients, DURATION_S)
    finally:
        for client in clients:
            client.close()
    assert_consistent(logs, assets, kept)


def _together(count: int, target: Any, timeout_s: float) -> None:
    errors: list[BaseException] = []

    def guarded(number: int) -> None:
        try:
            target(number)
        except BaseException as exc:  # a dropped connection, for one
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout_s)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    assert errors == []


def assert_consistent(logs: list[ClientLog], assets: list[dict[str, Any]],
                      seeds: list[str]) -> None:
    """No failed request, one active asset per position, and every client's last write kept.

    Also that each client really did every kind of write, so a run that did nothing fails.
    """
    failures = [failure for log in logs for failure in log.failures]
    assert failures == [], failures[:10]
    for log in logs:
        assert all(log.done[kind] > 0 for kind in ("create", "patch", "delete", "order")), log.done
    orders = sorted(a["play_order"] for a in assets if a["is_active"])
    assert orders == list(range(len(orders))), orders
    listed = {a["asset_id"]: (a["name"], a["duration"]) for a in assets}
    expected_ids = set(seeds).union(*(log.last_written for log in logs))
    # Nothing deleted survives, nothing created is lost.
    assert set(listed) == expected_ids, (set(listed) - expected_ids, expected_ids - set(listed))
    for log in logs:
        kept = {asset_id: listed[asset_id] for asset_id in log.last_written}
        lost = {key: (value, kept[key]) for key, value in log.last_written.items()
                if kept[key] != value}
        assert lost == {}, lost  # id: (last written, now listed)
