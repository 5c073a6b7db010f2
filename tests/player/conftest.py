"""Fixtures the player's tests share: the device's database as the player reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from peewee import Database

from anthias_edge.db import db, open_database, run_migrations


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite file bound to the model proxy for one test."""
    handle = open_database(tmp_path / "screenly.db")
    run_migrations(handle)
    db.initialize(handle)
    yield handle
    handle.close_all()
