"""services/tenant_writes.py: one tenant's playlist writes are serialised and retried."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from flask import Flask

from anthias_edge.errors import WriteContention
from anthias_edge.models import Asset
from anthias_edge.services.tenant_writes import ATTEMPTS, in_tenant_write

# A real error of PostgreSQL's with the deadlock code, as the server raises it.
RAISE_DEADLOCK = ("DO $$ BEGIN RAISE EXCEPTION 'deadlock detected' "
                  "USING ERRCODE = 'deadlock_detected'; END $$")


def _insert(tenant_id: str, name: str) -> None:
    Asset.create(asset_id=name.ljust(32, "0"), tenant=tenant_id, name=name,
                 uri="https://example.org/", mimetype="webpage", play_order=0)


def _names(tenant_id: str) -> list[str]:
    return [a.name for a in Asset.select().where(Asset.tenant == tenant_id)]


@pytest.mark.postgres
def test_a_deadlocked_tenant_write_is_run_again_in_a_fresh_transaction(app: Flask):
    runtime = app.extensions["anthias"]
    attempts = []

    def work() -> str:
        attempts.append(1)
        _insert(runtime.local_tenant_id, f"try{len(attempts)}")
        if len(attempts) < 3:
            runtime.database.execute_sql(RAISE_DEADLOCK)
        return "done"

    with runtime.database.connection_context():
        result = in_tenant_write(runtime.local_tenant_id, work, runtime.database)
        names = _names(runtime.local_tenant_id)

    assert result == "done"
    assert len(attempts) == 3
    assert names == ["try3"]  # the failed attempts left nothing behind


@pytest.mark.postgres
def test_a_deadlock_inside_a_callers_transaction_is_retried_in_a_savepoint(app: Flask):
    runtime = app.extensions["anthias"]
    attempts = []

    def work() -> None:
        attempts.append(1)
        _insert(runtime.local_tenant_id, f"try{len(attempts)}")
        if len(attempts) < 2:
            runtime.database.execute_sql(RAISE_DEADLOCK)

    with runtime.database.connection_context():
        with runtime.database.atomic():
            _insert(runtime.local_tenant_id, "before")
            in_tenant_write(runtime.local_tenant_id, work, runtime.database)
        names = sorted(_names(runtime.local_tenant_id))

    assert names == ["before", "try2"]


@pytest.mark.postgres
def test_a_write_that_deadlocks_every_time_gives_up_without_the_database_text(app: Flask):
    runtime = app.extensions["anthias"]
    attempts = []

    def work() -> None:
        attempts.append(1)
        runtime.database.execute_sql(RAISE_DEADLOCK)

    with runtime.database.connection_context(), pytest.raises(WriteContention) as raised:
        in_tenant_write(runtime.local_tenant_id, work, runtime.database)

    assert len(attempts) == ATTEMPTS
    assert raised.value.status == 503
    assert "deadlock" not in raised.value.message
    assert raised.value.message == "The asset library is busy with other changes. Try again."


@pytest.mark.postgres
def test_a_second_write_of_the_same_tenant_waits_for_the_first_and_another_tenant_does_not(
        app: Flask):
    runtime = app.extensions["anthias"]
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        def work() -> None:
            order.append("first in")
            inside.set()
            release.wait(30)
            order.append("first out")
        with runtime.database.connection_context():
            in_tenant_write("tenant-a", work, runtime.database)

    def second(tenant: str) -> None:
        with runtime.database.connection_context():
            in_tenant_write(tenant, lambda: order.append(f"{tenant} in"), runtime.database)

    holder = threading.Thread(target=first)
    holder.start()
    assert inside.wait(30)
    other = threading.Thread(target=second, args=("tenant-b",))
    other.start()
    other.join(30)  # another tenant's write is not held up
    same = threading.Thread(target=second, args=("tenant-a",))
    same.start()
    with runtime.database.connection_context():
        # Wait until the second writer of tenant-a really is blocked on the advisory lock.
        give_up = time.monotonic() + 30
        while time.monotonic() < give_up and not runtime.database.execute_sql(
                "SELECT 1 FROM pg_locks JOIN pg_database d ON d.oid = pg_locks.database "
                "WHERE d.datname = current_database() AND locktype = 'advisory' "
                "AND NOT granted").fetchone():
            assert same.is_alive()
            time.sleep(0.01)
    release.set()
    holder.join(30)
    same.join(30)

    assert order == ["first in", "tenant-b in", "first out", "tenant-a in"]


@pytest.mark.sqlite_only
def test_a_tenant_write_on_sqlite_holds_the_write_lock_from_its_start(app: Flask):
    runtime = app.extensions["anthias"]
    path = runtime.database.database
    seen = []

    def work() -> None:
        Asset.select().count()  # only a read so far
        other = sqlite3.connect(path, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            seen.append("another writer got in")
        except sqlite3.OperationalError as exc:
            seen.append(str(exc))
        finally:
            other.close()

    with runtime.database.connection_context():
        in_tenant_write(runtime.local_tenant_id, work, runtime.database)

    assert seen == ["database is locked"]
