"""Cloud serving: ``anthias-edge serve`` with ``mode = cloud`` on gunicorn, several workers.

The arbiter checks ``DATABASE_URL`` (PostgreSQL only), applies the migrations once under a
PostgreSQL advisory lock (several hosts may start together), binds the socket, and forks
``gthread`` workers. Nothing is preloaded: each worker builds its own app and its own
connection pool after the fork, and keeps no state another worker would need.
Background jobs do not run in cloud workers (they would run once per worker), except the
billing reconciler, which each worker schedules and one at a time runs (``reconciler.py``).
Without a secret key that opens the stored signing keys every login would fail, so the
arbiter refuses to start instead (``check_secret_key``, ``check_stored_keys``). Every refusal is
a ``StartupError``, which the command line prints as one ``Error:`` line.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from anthias_edge.errors import StartupError
from anthias_edge.settings import Settings

if TYPE_CHECKING:
    from peewee import Database

    from anthias_edge.services.auth.crypto_box import CryptoBox

logger = logging.getLogger(__name__)

GRACEFUL_TIMEOUT_S = 20
WORKER_TIMEOUT_S = 60


def default_workers() -> int:
    """Two workers per CPU core, gunicorn's usual starting point for I/O-bound apps."""
    return 2 * (os.cpu_count() or 1)


def cloud_database_url(environ: Mapping[str, str]) -> str:
    """``DATABASE_URL`` when it names PostgreSQL; StartupError otherwise."""
    url = (environ.get("DATABASE_URL") or "").strip()
    if not url:
        raise StartupError(
            "Cloud mode (ANTHIAS_MODE=cloud) needs DATABASE_URL=postgresql://user@host/db.")
    if not url.startswith(("postgres://", "postgresql://")):
        raise StartupError(
            "Cloud mode needs PostgreSQL: DATABASE_URL must start with postgresql://.")
    return url


def check_secret_key(environ: Mapping[str, str], home: Path) -> CryptoBox:
    """The configured secret key; an AnthiasError when it is missing or malformed."""
    from anthias_edge.services.auth.crypto_box import load_crypto_box

    return load_crypto_box(environ, home, cloud=True)


def check_stored_keys(database: Database, box: CryptoBox) -> None:
    """SecretKeyUnusable unless ``box`` opens every signing key stored in ``database``."""
    from anthias_edge.models import SigningKey
    from anthias_edge.services.auth.jwt_tokens import AccessTokens

    with database.connection_context(), database.bind_ctx([SigningKey]):
        AccessTokens(box).check_keys()


def migrate_before_fork(url: str, box: CryptoBox | None = None) -> list[str]:
    """Apply pending migrations once, under the advisory lock, then close every connection.

    With ``box``, also check that it opens the stored signing keys.
    """
    from anthias_edge.services.pg_migration import apply_pending_migrations, open_target

    database = open_target(url)
    try:
        applied = apply_pending_migrations(database)
        if box is not None:
            check_stored_keys(database, box)
    finally:
        database.close_all()
    for name in applied:
        logger.info("Applied %s", name)
    return applied


def listen_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free port, which every worker then shares."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise StartupError(f"Cannot listen on {host}:{port}: {reason}.") from exc
    sock.set_inheritable(True)
    return sock


def gunicorn_options(bind: str, workers: int, threads: int,
                     trusted_proxies: str = "") -> dict[str, Any]:
    """The gunicorn settings of a cloud server (hooks added by ``serve_cloud``).

    gunicorn believes ``X-Forwarded-Proto`` from ``forwarded_allow_ips`` (by default
    127.0.0.1): give it the ``trusted_proxies`` setting instead, so one setting decides
    which peers' forwarded headers count (the app applies the same list, ``proxies.py``).
    """
    return {
        "forwarded_allow_ips": trusted_proxies,  # a comma-separated string, "" trusts none
        "bind": [bind],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # Each worker must open its own pool: sockets must not be shared across a fork.
        "preload_app": False,
        "proc_name": "anthias-edge-cloud",
        "graceful_timeout": GRACEFUL_TIMEOUT_S,
        "timeout": WORKER_TIMEOUT_S,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
    }


def serve_cloud(settings: Settings, host: str, port: int, *, workers: int | None,
                threads: int) -> None:
    """Run the cloud server until SIGTERM or Ctrl-C (gunicorn handles both gracefully)."""
    from anthias_edge.db import require_postgresql_driver

    url = cloud_database_url(settings.deployment)
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError as exc:
        raise StartupError(
            "Cloud mode needs gunicorn: pip install 'anthias-edge[cloud]'.") from exc
    require_postgresql_driver(url)
    box = check_secret_key(settings.deployment, settings.home)
    migrate_before_fork(url, box)
    sock = listen_socket(host, port)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    options = gunicorn_options(f"fd://{sock.fileno()}", workers or default_workers(), threads,
                               settings["trusted_proxies"])
    # Limits kept per process (the landing page's per-address limit) divide by the workers.
    os.environ["WEB_CONCURRENCY"] = str(options["workers"])

    def when_ready(_server: Any) -> None:
        click.echo(f"Anthias Edge (cloud) is running at http://{shown}:{bound_port}/ "
                   f"with {options['workers']} workers")

    def worker_exit(_server: Any, worker: Any) -> None:
        app = getattr(worker, "wsgi", None)
        if app is not None and hasattr(app, "extensions"):
            from anthias_edge.runtime import runtime_of

            runtime_of(app).close()

    class CloudApplication(BaseApplication):
        """gunicorn configured in code; ``load`` runs in each worker after the fork."""

        def load_config(self) -> None:
            for key, value in {**options, "when_ready": when_ready,
                               "worker_exit": worker_exit}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from anthias_edge.app import create_app
            from anthias_edge.reconciler import start_reconciler
            from anthias_edge.runtime import runtime_of

            # Migrations already ran in the arbiter; this finds none pending.
            app = create_app(settings=Settings.load(settings.home), start_jobs=False)
            # Every worker schedules it; one at a time wins its advisory lock (reconciler.py).
            start_reconciler(runtime_of(app))
            return app

    logger.info("starting %d gunicorn workers x %d threads", options["workers"], threads)
    CloudApplication().run()
