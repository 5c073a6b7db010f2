"""A migrated SQLite database built once per test session and copied into each fresh HOME.

Migrating an empty database on every app creation cost each test tens of milliseconds for
the same result. The copy is what the migrations built (their own history table included),
so the app's start finds nothing pending, exactly as on a device that has run them before.
The template is built anew in each session (each xdist worker has its own temporary
folder), under a name carrying the hash of the migration files, so a changed migration never
meets an old template.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Mapping
from pathlib import Path

from anthias_edge.db import MIGRATIONS_DIR, checkpoint, open_database, run_migrations

# Where a fresh HOME keeps its database when no setting moves it.
DEFAULT_DATABASE = Path(".screenly") / "screenly.db"


def migrations_hash() -> str:
    """A short hash of every migration file's name and bytes."""
    digest = hashlib.sha256()
    for path in sorted(MIGRATIONS_DIR.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_template(folder: Path) -> Path:
    """Migrate an empty SQLite file in ``folder``; return its path (one file, WAL folded in)."""
    path = folder / f"migrated-{migrations_hash()}.db"
    database = open_database(path)
    with database.connection_context():
        run_migrations(database)
        checkpoint(database)
    database.close_all()
    return path


def seed_fresh_home(template: Path, environ: Mapping[str, str]) -> bool:
    """Copy ``template`` to where an app on ``environ`` will open its SQLite database.

    Only a HOME the app has never started in gets it, and only when the database is the
    default file: a HOME holding Anthias's own data, or a test's chosen database, keeps
    what it has and is migrated by the app as on a device. True when it copied.
    """
    if environ.get("DATABASE_URL") or environ.get("ANTHIAS_DATABASE"):
        return False
    home = Path(environ["HOME"])
    target = home / DEFAULT_DATABASE
    if target.parent.exists():
        return False
    target.parent.mkdir(parents=True)
    shutil.copyfile(template, target)
    return True
