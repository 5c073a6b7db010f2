"""Several clients writing one asset library at once through the legacy v2 endpoints.

Shared by the device test (tests/api/v2/test_concurrent_writes.py) and the cloud one
(tests/cloud/test_concurrent_writes.py); a client is anything with ``call``.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from tests.helpers import v2_asset

OPS_PER_CLIENT = 40
SEED_ASSETS = 4


class Caller(Protocol):
    """One client: ``call(method, path under the API prefix, JSON body)`` -> (status, text)."""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        """(status, body text) of one request."""


Failure = tuple[str, int, str]


def seed_assets(client: Caller) -> list[str]:
    """SEED_ASSETS active assets, which every client updates and none deletes."""
    seeded = []
    for n in range(SEED_ASSETS):
        status, text = client.call("POST", "/assets", v2_asset(name=f"seed{n}"))
        assert status == 201, text
        seeded.append(json.loads(text)["asset_id"])
    return seeded


def random_writes(client: Caller, seed: list[str], rng: random.Random,
                  failures: list[Failure]) -> None:
    """Creates, renumbering updates, deletes of its own assets and reorders; keep every 5xx."""
    mine: list[str] = []

    def record(what: str, status: int, text: str) -> None:
        if status >= 500:
            failures.append((what, status, text))

    for n in range(OPS_PER_CLIENT):
        kind = rng.choice(("create", "create", "update", "update", "delete", "order"))
        if kind == "create" or (kind == "delete" and not mine):
            status, text = client.call("POST", "/assets", v2_asset(
                name=f"c{n}", play_order=rng.randrange(8)))
            record("create", status, text)
            if status == 201:
                mine.append(json.loads(text)["asset_id"])
        elif kind == "update":
            status, text = client.call("PATCH", f"/assets/{rng.choice(seed + mine)}",
                                       {"play_order": rng.randrange(8)})
            record("update", status, text)
        elif kind == "delete":
            status, text = client.call("DELETE", f"/assets/{mine.pop(rng.randrange(len(mine)))}")
            record("delete", status, text)
        else:
            status, text = client.call("GET", "/assets")
            record("list", status, text)
            if status == 200:
                ids = [a["asset_id"] for a in json.loads(text) if a["is_active"]]
                rng.shuffle(ids)
                status, text = client.call("POST", "/assets/order", {"ids": ",".join(ids)})
                record("order", status, text)


def run_together(clients: Sequence[Caller], target: Callable[[int, Caller], None]) -> None:
    """Run ``target(i, client)`` for every client in its own thread; wait for all."""
    threads = [threading.Thread(target=target, args=(i, c)) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a client hung"


def write_at_once(clients: Sequence[Caller]) -> tuple[list[Failure], list[int], list[str]]:
    """Seed, let every client write at random, then end with one renumbering write each.

    Returns the 5xx answers, the play orders of the enabled (all active) assets and every
    asset's name, read through the API. Whichever renumbering write runs last numbers the
    playlist 0..n-1; clients creating the same name at once get distinct names
    (docs/legacy-api.md §4.4).
    """
    seed = seed_assets(clients[0])
    failures: list[Failure] = []
    run_together(clients, lambda i, c: random_writes(c, seed, random.Random(i), failures))

    def last_write(i: int, client: Caller) -> None:
        status, text = client.call("PATCH", f"/assets/{seed[i % SEED_ASSETS]}", {"play_order": i})
        if status >= 500:
            failures.append(("final update", status, text))

    run_together(clients, last_write)
    status, text = clients[0].call("GET", "/assets")
    assert status == 200, text
    assets = json.loads(text)
    orders = sorted(a["play_order"] for a in assets if a["is_enabled"])
    return failures, orders, [a["name"] for a in assets]
