"""The device database as the agent process opens it, and connections that nest politely.

The agent runs beside the server and the player on the same SQLite file; every transaction it
makes is short (one outbox read, one acknowledgement, one state update), so the others never
wait on it for long. Its functions are also called inside the server (the dashboard's Cloud
page), where a request already holds a connection: ``connected`` then leaves it open.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from peewee import Database

from anthias_edge.db import db, open_database, run_migrations
from anthias_edge.errors import StartupError
from anthias_edge.settings import Settings

logger = logging.getLogger(__name__)

MIGRATION_ATTEMPTS = 3


def open_agent_database(settings: Settings) -> Database:
    """Open the device's database for this process and bring its schema up to date.

    The server may be migrating the same file at this moment; its work then suffices.
    """
    database = open_database(settings.database_url or settings.database_path)
    db.initialize(database)
    for attempt in range(MIGRATION_ATTEMPTS):
        try:
            with database.connection_context():
                run_migrations(database)
            break
        except StartupError:
            logger.warning("Migrations failed (attempt %d); retrying", attempt + 1, exc_info=True)
            threading.Event().wait(1.0)
    return database


def ensure_database(settings: Settings) -> None:
    """Initialise the shared database handle unless this process already did (the server)."""
    if db.obj is None:
        open_agent_database(settings)


@contextlib.contextmanager
def connected() -> Iterator[None]:
    """A connection for the block; one already open (a server request's) is left open."""
    database = db.obj
    opened = database.is_closed()
    if opened:
        database.connect()
    try:
        yield
    finally:
        if opened:
            database.close()
