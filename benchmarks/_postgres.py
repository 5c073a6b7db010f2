"""A fresh, migrated PostgreSQL database for a cloud benchmark, on the local server.

The QR and tenancy benchmarks each seed their own database; both start from an empty one
at the newest schema, made the way ``migrate-to-postgresql`` makes it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from anthias_edge.services.pg_migration import apply_pending_migrations, open_target  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"


def recreate_database(name: str, server: str = SERVER) -> str:
    """Drop ``name`` (closing its sessions), create it empty, migrate it; its URL."""
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    url = f"{server}/{name}"
    database = open_target(url)
    apply_pending_migrations(database)
    database.close_all()
    return url
