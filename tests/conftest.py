"""Shared fixtures: a real HOME in tmp_path, a real database, real ZeroMQ sockets.

The database is SQLite by default; set ``ANTHIAS_TEST_DATABASE_URL`` to a
PostgreSQL URL to run the same suite against PostgreSQL (each test gets the
``public`` schema as the migrations leave it, tests/migrated_postgresql.py).
"""

from __future__ import annotations

import os
import shutil
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from anthias_edge.app import create_app
from anthias_edge.db import db
from anthias_edge.messaging import ViewerEndpoint
from tests.migrated_postgresql import MigratedSchema, migrated_schema
from tests.template_database import build_template, seed_fresh_home

pytest_plugins = ["tests.plugins.media"]

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REAL = FIXTURES / "anthias-real"
FLASK_ERA = FIXTURES / "anthias-flask-era"
TEST_DATABASE_URL = os.environ.get("ANTHIAS_TEST_DATABASE_URL", "")


def reset_postgresql(url: str) -> None:
    """Give the test an empty database: drop and recreate the public schema."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read ANTHIAS_* variables; a developer's shell must not leak into tests."""
    for name in list(os.environ):
        if name.startswith("ANTHIAS_") and name not in (
            "ANTHIAS_TEST_DATABASE_URL", "ANTHIAS_FAIL_ON_SKIP"):
            monkeypatch.delenv(name)
    monkeypatch.delenv("DATABASE_URL", raising=False)


@pytest.fixture(autouse=True)
def _restore_database_proxy() -> Iterator[None]:
    """Put the models' database proxy back as it was before the test.

    ``create_app``, the agent's ``ensure_database`` and the player bind the one process-wide
    proxy (``anthias_edge.db.db``); a CLI command run in-process with CliRunner reuses a bound
    proxy as a server process would. Without this, a test's command acted on the previous
    test's database (a linked device's, say: tests/sync_device before test_cli_sync.py), and
    on PostgreSQL reopened that closed app's pool, whose connection was then garbage-collected
    open during some later test (psycopg's ResourceWarning). tests/test_isolation.py.
    """
    before = db.obj
    yield
    if db.obj is not before:
        db.initialize(before)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty device HOME."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def real_home(home: Path) -> Path:
    """A HOME holding the real Anthias device's data, as Anthias left it."""
    with tarfile.open(REAL / "anthias-home.tar.gz") as archive:
        archive.extractall(home, filter="data")
    return home


@pytest.fixture
def flask_era_home(home: Path) -> Path:
    """A HOME as an older (Flask-era) Anthias install starts it."""
    config = home / ".screenly"
    config.mkdir()
    for name in ("screenly.conf", "screenly.db", "default_assets.yml"):
        shutil.copyfile(FLASK_ERA / name, config / name)
    return home


@pytest.fixture
def environ(home: Path) -> dict[str, str]:
    """The server's environment: this HOME, free ZeroMQ ports, harmless host commands."""
    values = {
        "HOME": str(home),
        "ANTHIAS_ZMQ_PUBLISHER": "tcp://127.0.0.1:*",
        "ANTHIAS_ZMQ_COLLECTOR": "tcp://127.0.0.1:*",
        "ANTHIAS_REBOOT_COMMAND": "true",
        "ANTHIAS_SHUTDOWN_COMMAND": "true",
    }
    if TEST_DATABASE_URL:
        values["DATABASE_URL"] = TEST_DATABASE_URL
    return values


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory
                      ) -> Path | MigratedSchema | None:
    """What each test's database starts from (None: an empty one, and apps migrate it).

    On SQLite the migrated file each fresh HOME gets a copy of; on PostgreSQL the test
    database's migrated schema, put back before each test. A module that tests the
    migrations overrides this fixture with one returning None.
    """
    if TEST_DATABASE_URL:
        return migrated_schema(TEST_DATABASE_URL)
    return build_template(tmp_path_factory.mktemp("database-template"))


@pytest.fixture
def make_app(environ: dict[str, str], database_template: Path | MigratedSchema | None
             ) -> Iterator[Callable[..., Flask]]:
    """Build apps on the test's HOME and database; close their sockets afterwards."""
    apps: list[Flask] = []

    def build(**overrides: str) -> Flask:
        if isinstance(database_template, MigratedSchema) and not apps:
            database_template.reset()
        elif TEST_DATABASE_URL and not apps:
            reset_postgresql(TEST_DATABASE_URL)
        elif database_template and not apps:
            seed_fresh_home(database_template, {**environ, **overrides})
        app = create_app(environ={**environ, **overrides})
        app.config["TESTING"] = True
        # Dates render in the device's zone; tests must not depend on the host's /etc/timezone.
        zone_file = Path(environ["HOME"]).parent / "timezone"
        if not zone_file.exists():
            zone_file.write_text("Etc/UTC\n")
        app.extensions["anthias"].zone_file = str(zone_file)
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["anthias"].close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """A server on an empty device."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def viewer(app: Flask) -> Iterator[ViewerEndpoint]:
    """The player's end of the server's real ZeroMQ sockets, connected and proven to receive."""
    messenger = app.extensions["anthias"].messenger
    endpoint = ViewerEndpoint(messenger.publisher_endpoint, messenger.collector_endpoint)
    endpoint.start()
    for _ in range(200):  # ZeroMQ's slow joiner: publish until the subscription is live
        messenger.send_to_viewer("probe")
        if endpoint.receive(timeout_s=0.05) is not None:
            break
    else:
        pytest.fail("the viewer endpoint never received from the server")
    while endpoint.receive(timeout_s=0.05) is not None:
        pass
    yield endpoint
    endpoint.close()
