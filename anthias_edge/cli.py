"""The ``anthias-edge`` command line: ``serve``, ``player``, ``migrate``, ``import-anthias``.

Subcommands are looked up lazily (``LazyGroup``) and import Flask, peewee and waitress only in
their bodies, so ``anthias-edge --help`` and ``--version`` start fast on a Raspberry Pi. User
errors end as one ``Error: ...`` line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from anthias_edge import __version__

if TYPE_CHECKING:
    from anthias_edge.runtime import Runtime
    from anthias_edge.settings import Settings

logger = logging.getLogger(__name__)

LISTEN_HINT = "must be HOST:PORT, e.g. 127.0.0.1:8080"
SERVER_THREADS = 8


class LazyGroup(click.Group):
    """A group whose subcommands are ``"module:attribute"`` strings, imported when first used."""

    def __init__(
        self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        """Take the usual ``click.Group`` arguments plus ``lazy_commands``: name -> import path."""
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, eager and lazy, sorted."""
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a lazy command on first use; eager ones as ``click.Group`` does."""
        if cmd_name in self.lazy_commands:
            return self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
        return command


class BadUsage(click.ClickException):
    """A wrong option value: one ``Error:`` line and exit code 2, without the usage block.

    ``click.UsageError`` raised inside a command gets the usage text prepended by click.
    """

    exit_code = 2


@click.group(
    "anthias-edge",
    cls=LazyGroup,
    lazy_commands={
        "serve": "anthias_edge.cli:serve",
        "migrate": "anthias_edge.cli:migrate",
        "import-anthias": "anthias_edge.cli:import_anthias_command",
        "player": "anthias_edge.cli:player_command",
        "tenant": "anthias_edge.cli_tenancy:tenant_group",
        "user": "anthias_edge.cli_tenancy:user_group",
        "keys": "anthias_edge.cli_tenancy:keys_group",
        "migrate-to-postgresql": "anthias_edge.cli_tenancy:migrate_to_postgresql_command",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", prog_name="anthias-edge",
                      message="%(prog)s %(version)s")
def main() -> None:
    """Anthias Edge: offline-first digital signage, a drop-in successor to Anthias.

    Data lives in $HOME/.screenly and $HOME/screenly_assets, as on Anthias; settings come from
    $HOME/.screenly/screenly.conf and ANTHIAS_* environment variables.
    """


# -- shared helpers ------------------------------------------------------------------------------


def load_settings() -> Settings:
    """The settings of ``$HOME``; a broken ``screenly.conf`` or variable is a one-line error."""
    from anthias_edge.errors import AnthiasError
    from anthias_edge.settings import Settings

    home = Path(os.environ.get("HOME") or Path.home())
    try:
        return Settings.load(home)
    except AnthiasError as exc:
        raise click.ClickException(exc.message) from exc


def parse_listen(value: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (``[::1]:8080`` for IPv6); raise ValueError when it is not one."""
    host, sep, port = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isdecimal() or int(port) > 65535:
        raise ValueError(value)
    return host, int(port)


POSTGRES_HINT = ("PostgreSQL support is not installed: pip install 'anthias-edge[postgres]' "
                 "(it brings the psycopg driver).")


def require_postgresql_driver(url: str) -> None:
    """For a ``postgresql://`` URL, a one-line error naming the extra when no driver imports.

    peewee works with psycopg (3) or psycopg2, and names only psycopg2 when both are missing;
    the ``postgres`` extra installs psycopg.
    """
    if not url.startswith(("postgres://", "postgresql://")):
        return
    for driver in ("psycopg", "psycopg2"):
        try:
            importlib.import_module(driver)
        except ImportError:
            continue
        return
    raise click.ClickException(POSTGRES_HINT)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# -- serve ---------------------------------------------------------------------------------------


@click.command("serve")
@click.option("--listen", metavar="HOST:PORT",
              help="Address and port to serve on (default: the listen setting, ANTHIAS_LISTEN, "
                   "127.0.0.1:8080). Port 0 picks a free port.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Cloud mode: worker processes (default: 2 x CPU cores).")
@click.option("--threads", type=click.IntRange(min=1), default=SERVER_THREADS, show_default=True,
              help="Cloud mode: threads per worker process.")
def serve(listen: str | None, workers: int | None, threads: int) -> None:
    """Serve the web UI and the API until SIGTERM or Ctrl-C.

    On a device (mode ``device``) one waitress process; in cloud mode (ANTHIAS_MODE=cloud,
    DATABASE_URL on PostgreSQL) several gunicorn workers.
    """
    settings = load_settings()
    try:
        host, port = parse_listen(settings["listen"] if listen is None else listen)
    except ValueError:
        if listen is not None:
            raise BadUsage(f"--listen {LISTEN_HINT}") from None
        raise click.ClickException(
            f"The listen setting (ANTHIAS_LISTEN or screenly.conf) {LISTEN_HINT}"
        ) from None
    configure_logging(settings)
    if settings["mode"] == "cloud":
        from anthias_edge.cloud import serve_cloud

        serve_cloud(settings, host, port, workers=workers, threads=threads)
        return

    import waitress

    from anthias_edge.app import create_app
    from anthias_edge.errors import StartupError

    try:
        app = create_app(settings, start_jobs=True)
    except StartupError as exc:
        raise click.ClickException(exc.message) from exc
    runtime = app.extensions["anthias"]
    try:
        server = waitress.create_server(app, host=host, port=port, threads=SERVER_THREADS,
                                        ident="anthias-edge")
    except OSError as exc:
        close_runtime(runtime)
        reason = (exc.strerror or str(exc)).lower()
        raise click.ClickException(f"Cannot listen on {host}:{port}: {reason}.") from exc
    _run_until_stopped(server, runtime)


def configure_logging(settings: Settings) -> None:
    """Configure logging once, before the app exists, from the log settings."""
    from anthias_edge.logging_setup import configure_logging as configure

    configure(settings["log_format"], bool(settings["debug_logging"]))


def _run_until_stopped(server: Any, runtime: Runtime) -> None:
    """Print the URL, serve until SIGTERM/SIGINT, then close the server and the runtime.

    Under systemd (``Type=notify``) READY=1 goes out once the socket listens, a watchdog
    heartbeat runs when ``$WATCHDOG_USEC`` asks for one, and STOPPING=1 on the way out.
    """
    from anthias_edge import sd_notify

    listening = getattr(server, "effective_listen", None) or [
        (server.effective_host, server.effective_port)]
    host, port = listening[0][:2]
    heartbeat = None
    try:
        # Handlers first: whoever reads the URL may send SIGTERM at once.
        with _stop_on_signals():
            click.echo(f"Anthias Edge is running at http://{_url_host(host)}:{port}/")
            sd_notify.ready()
            heartbeat = sd_notify.start_heartbeat()
            # waitress's run() returns after shutting its worker threads down on SystemExit.
            server.run()
    finally:
        sd_notify.stopping()
        if heartbeat is not None:
            heartbeat.stop()
        server.close()
        close_runtime(runtime)
    logger.info("Anthias Edge stopped")


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGINT into SystemExit(0), which waitress's loop handles, then restore."""

    def stop(signum: int, _frame: object) -> None:
        logger.info("Received %s; stopping", signal.Signals(signum).name)
        raise SystemExit(0)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def close_runtime(runtime: Runtime) -> None:
    """Stop the background jobs, close the messenger and the database; log, never raise."""
    from anthias_edge.jobs import stop_jobs

    steps: list[tuple[str, Callable[[], object]]] = [
        ("background jobs", lambda: stop_jobs(runtime)),
        ("messenger", runtime.messenger.close),
        ("database", runtime.close_database),
    ]
    for name, close in steps:
        try:
            close()
        except Exception:
            logger.exception("Could not close the %s", name)


# -- player --------------------------------------------------------------------------------------


@click.command("player")
@click.option("--renderer", type=click.Choice(["auto", "browser", "mpv", "headless"]),
              default="auto", show_default=True,
              help="What shows the assets: auto picks Chromium and mpv when installed and a "
                   "display exists, else headless (records to $HOME/.screenly/shown.jsonl).")
def player_command(renderer: str) -> None:
    """Play the schedule on this screen, obeying the server's commands, until SIGTERM or Ctrl-C."""
    settings = load_settings()
    configure_logging(settings)
    from anthias_edge.errors import StartupError
    from player.main import run_player

    try:
        code = run_player(settings, renderer)
    except StartupError as exc:
        raise click.ClickException(exc.message) from exc
    sys.exit(code)


# -- migrate -------------------------------------------------------------------------------------


@click.command("migrate")
def migrate() -> None:
    """Apply pending database migrations (DATABASE_URL, else the database setting)."""
    from peewee import PeeweeException

    from anthias_edge.db import open_database, run_migrations
    from anthias_edge.errors import AnthiasError

    settings = load_settings()
    url = os.environ.get("DATABASE_URL") or str(settings.database_path)
    require_postgresql_driver(url)
    database = open_database(url)
    try:
        with database.connection_context():
            applied = run_migrations(database)
    except AnthiasError as exc:
        raise click.ClickException(exc.message) from exc
    except PeeweeException as exc:
        raise click.ClickException(f"Cannot open the database: {exc}") from exc
    finally:
        database.close_all()
    for name in applied:
        click.echo(f"Applied {name}")
    if not applied:
        click.echo("Database is up to date.")


# -- import-anthias ------------------------------------------------------------------------------


@click.command("import-anthias")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("-y", "--yes", is_flag=True,
              help="Replace this device's existing database without asking.")
def import_anthias_command(path: Path, yes: bool) -> None:
    """Import an Anthias device from PATH: its HOME folder (holding .screenly/) or a backup
    archive (.tar.gz). Replaces this device's settings and library; stop the server first.
    """
    from anthias_edge.errors import AnthiasError
    from anthias_edge.services.importer import check_source, import_anthias

    if os.environ.get("DATABASE_URL"):
        raise click.ClickException(
            "import-anthias fills the device's SQLite database; unset DATABASE_URL first."
        )
    settings = load_settings()
    try:
        check_source(path, settings)
        if settings.database_path.exists() and not yes:
            click.confirm(f"This replaces the library in {settings.database_path}. Continue?",
                          abort=True)
        with _progress_bar("Importing files") as progress:
            summary = import_anthias(path, settings, progress)
    except AnthiasError as exc:
        raise click.ClickException(exc.message) from exc
    except OSError as exc:
        raise click.ClickException(f"Import failed: {exc}") from exc
    click.echo(f"Imported {summary.assets} assets and {summary.files} files from {path} "
               f"into {settings.home}.")
    if summary.migrations:
        click.echo(f"Applied migrations: {', '.join(summary.migrations)}")


@contextlib.contextmanager
def _progress_bar(label: str) -> Iterator[Callable[[int, int], None]]:
    """A ``progress(done, total)`` callback drawing a click progress bar on stderr.

    The bar is created on the first call, when the total is known.
    """
    with contextlib.ExitStack() as stack:
        bars: list[Any] = []

        def update(done: int, total: int) -> None:
            if not bars:
                bars.append(stack.enter_context(click.progressbar(
                    length=total, label=label, file=sys.stderr)))
            bars[0].update(done - bars[0].pos)

        yield update


if __name__ == "__main__":
    main(prog_name="anthias-edge")
