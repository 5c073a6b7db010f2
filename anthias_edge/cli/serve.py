"""``anthias-edge serve``: waitress on a device, gunicorn workers in the cloud."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from anthias_edge.cli.common import (
    LISTEN_HINT,
    BadUsage,
    configure_logging,
    load_settings,
    parse_listen,
)

if TYPE_CHECKING:
    from anthias_edge.runtime import Runtime

logger = logging.getLogger(__name__)

SERVER_THREADS = 8


@click.command("serve")
@click.option("--listen", metavar="HOST:PORT",
              help="Address and port to serve on (default: the listen setting, ANTHIAS_LISTEN, "
                   "127.0.0.1:8080). Port 0 picks a free port.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Cloud mode: worker processes (default: 2 x CPU cores).")
@click.option("--threads", type=click.IntRange(min=1), default=SERVER_THREADS, show_default=True,
              help="Cloud mode: threads per worker process.")
@click.option("--safe", is_flag=True,
              help="Load only the built-in plugins, none installed from other packages.")
def serve(listen: str | None, workers: int | None, threads: int, safe: bool) -> None:
    """Serve the web UI and the API until SIGTERM or Ctrl-C.

    On a device (mode ``device``) one waitress process; in cloud mode (ANTHIAS_MODE=cloud,
    DATABASE_URL on PostgreSQL) several gunicorn workers.
    """
    if safe:  # through the environment, so gunicorn's workers are in safe mode too
        os.environ["ANTHIAS_PLUGINS_SAFE_MODE"] = "on"
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
        from anthias_edge.cloud_server import serve_cloud

        serve_cloud(settings, host, port, workers=workers, threads=threads)
        return

    import waitress

    from anthias_edge.app import create_app
    from anthias_edge.player_relay import start_relay
    from anthias_edge.runtime import runtime_of

    app = create_app(settings, start_jobs=True)
    runtime = runtime_of(app)
    # The sync agent's commands reach the player through the server (anthias_edge/player_relay).
    relay = start_relay(runtime.messenger, settings["zmq_relay"])
    try:
        server = waitress.create_server(app, host=host, port=port, threads=SERVER_THREADS,
                                        ident="anthias-edge")
    except OSError as exc:
        relay.close()
        runtime.close()
        reason = (exc.strerror or str(exc)).lower()
        raise click.ClickException(f"Cannot listen on {host}:{port}: {reason}.") from exc
    except BaseException:
        relay.close()
        runtime.close()
        raise
    try:
        _run_until_stopped(server, runtime)
    finally:
        relay.close()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


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
        runtime.close()
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
