"""db.SqlitePool: a process's SQLite transactions take turns and hold the write lock throughout."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from flask import Flask

from anthias_edge.models import Asset

pytestmark = pytest.mark.sqlite_only


def _insert(name: str) -> None:
    Asset.create(asset_id=name.ljust(32, "0"), name=name, uri="https://example.org/",
                 mimetype="webpage", play_order=0)


def _other_writer_gets_in(path: str) -> str:
    other = sqlite3.connect(path, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        return "another writer got in"
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        other.close()


def test_a_plain_transaction_holds_the_write_lock_from_its_start(app: Flask):
    runtime = app.extensions["anthias"]
    with runtime.database.connection_context():
        with runtime.database.atomic():
            Asset.select().count()  # only a read so far
            seen = _other_writer_gets_in(runtime.database.database)
        after = _other_writer_gets_in(runtime.database.database)

    assert (seen, after) == ("database is locked", "another writer got in")


def test_a_second_transaction_of_the_process_runs_after_the_first_ends(app: Flask):
    runtime = app.extensions["anthias"]
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with runtime.database.connection_context(), runtime.database.atomic():
            _insert("first")
            order.append("first in")
            inside.set()
            release.wait(30)
            order.append("first out")

    def second() -> None:
        with runtime.database.connection_context(), runtime.database.atomic():
            _insert("second")
            order.append("second in")

    holder = threading.Thread(target=first)
    holder.start()
    assert inside.wait(30)
    waiter = threading.Thread(target=second)
    waiter.start()
    release.set()
    holder.join(30)
    waiter.join(30)
    with runtime.database.connection_context():
        names = sorted(a.name for a in Asset.select().where(Asset.name.in_(["first", "second"])))

    assert order == ["first in", "first out", "second in"]
    assert names == ["first", "second"]


def test_a_transaction_that_failed_lets_the_next_one_in(app: Flask):
    runtime = app.extensions["anthias"]
    with (runtime.database.connection_context(), pytest.raises(RuntimeError),
          runtime.database.atomic()):
        _insert("rolled back")
        raise RuntimeError("the work failed")

    done: list[str] = []

    def next_writer() -> None:
        with runtime.database.connection_context(), runtime.database.atomic():
            _insert("next")
            done.append("next")

    thread = threading.Thread(target=next_writer)
    thread.start()
    thread.join(30)
    with runtime.database.connection_context():
        names = [a.name for a in Asset.select().where(Asset.name.in_(["rolled back", "next"]))]

    assert done == ["next"]
    assert names == ["next"]
