"""The application factory: ``create_app`` reads as the list of things it sets up."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from anthias_edge.db import db, open_database, run_migrations
from anthias_edge.errors import AnthiasError, StartupError
from anthias_edge.messaging import Messenger, NullMessenger, ServerMessenger
from anthias_edge.proxies import Network, TrustedProxies, parse_trusted_proxies
from anthias_edge.runtime import EXTENSION_KEY, Runtime, runtime_of
from anthias_edge.services.assets import relocate_asset_uris
from anthias_edge.services.file_swap import undo_interrupted_swaps
from anthias_edge.settings import Settings

logger = logging.getLogger(__name__)

WEB_UI = Path(__file__).resolve().parent.parent / "web_ui"


def create_app(
    settings: Settings | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    messenger: Messenger | None = None,
    start_jobs: bool = False,
) -> Flask:
    """Build the Anthias Edge server; raise StartupError when it cannot run.

    Its whole configuration is ``settings``, else what ``Settings.load`` reads from ``environ``
    (``os.environ`` if None): ``screenly.conf``, ``ANTHIAS_<KEY>`` and the deployment variables.
    """
    environ = os.environ if environ is None else environ
    app: Flask | None = None
    try:
        settings = settings or Settings.load(Path(environ.get("HOME") or Path.home()), environ)
        proxies = trusted_proxies(settings)  # a typo stops the start before anything opens
        app = Flask("anthias_edge", static_folder=None,
                    template_folder=str(WEB_UI / "templates"))
        app.config["MAX_CONTENT_LENGTH"] = 4 * 1024**3  # Anthias's nginx limit
        runtime = init_runtime(app, settings, messenger)
        init_database(app, runtime)
        configure_errors(app)
        register_blueprints(app)
        init_plugins(app, runtime, environ)
        init_device_owner(runtime)
        init_metrics(app)
        init_origin_check(app)
        init_fast_paths(app, runtime)
        init_compression(app)
        configure_proxies(app, proxies)
        if start_jobs:
            init_jobs(app, runtime)
    except BaseException as exc:
        # A start that fails half-way (a broken built-in plugin) leaves no socket open.
        if app is not None and EXTENSION_KEY in app.extensions:
            runtime_of(app).close()
        if isinstance(exc, StartupError) or not isinstance(exc, (AnthiasError, OSError)):
            raise
        raise StartupError(f"Anthias Edge could not start: {exc}") from exc
    return app


def init_runtime(app: Flask, settings: Settings, messenger: Messenger | None) -> Runtime:
    """Choose the database and messenger for this deployment and keep them on the app."""
    mode = settings["mode"]
    # A restore cut short by a crash or power cut is undone before anything reads the data.
    if undo_interrupted_swaps(settings.home):
        settings.reload()
    url = settings.database_url or str(settings.database_path)
    if messenger is None:
        if mode == "cloud":
            messenger = NullMessenger()
        else:
            messenger = ServerMessenger(settings["zmq_publisher"], settings["zmq_collector"])
            messenger.start()
    runtime = Runtime(settings=settings, database=open_database(url), messenger=messenger,
                      mode=mode)
    settings.asset_dir.mkdir(parents=True, exist_ok=True)
    app.extensions[EXTENSION_KEY] = runtime
    return runtime


def init_database(app: Flask, runtime: Runtime) -> None:
    """Migrate at start; a request's first query takes a pooled connection, returned after."""
    database = runtime.database
    db.initialize(database)
    if runtime.is_cloud:
        from cloud_sync.device.outbox import never_record

        never_record(database)  # a cloud is never linked: its writes skip the outbox's probe
    with database.connection_context():
        run_migrations(database)
        relocate_asset_uris(runtime.settings.asset_dir)

    @app.teardown_request
    def _close_connection(_exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()

    from anthias_edge.tenant_context import init_app as init_tenant_context

    init_tenant_context(app, runtime)  # its teardown runs before the one above


def configure_errors(app: Flask) -> None:
    """One handler picks each API version's error body by URL prefix."""
    from anthias_edge.api.error_handling import register_error_handlers

    register_error_handlers(app)


def register_blueprints(app: Flask) -> None:
    """Mount every API version, the operations endpoints, the web pages and (cloud) the console."""
    from anthias_edge.api import docs_routes, v1, v1_1, v1_2, v2, v3
    from anthias_edge.api.unversioned import bp as unversioned_bp
    from anthias_edge.ops import bp as ops_bp
    from anthias_edge.web import init_web

    if runtime_of(app).is_cloud:
        from anthias_edge.console import console_blueprint

        # First: its page answers "/" in the cloud; a device keeps its dashboard there.
        app.register_blueprint(console_blueprint())
        from cloud_sync.hub import init_hub

        init_hub(app, runtime_of(app))  # the sync hub: /api/v3/sync/..., devices only
    for blueprint in (v1.bp, v1_1.bp, v1_2.bp, v2.bp, v3.bp, docs_routes.bp, unversioned_bp,
                      ops_bp):
        app.register_blueprint(blueprint)
    init_web(app)


def init_plugins(app: Flask, runtime: Runtime, environ: Mapping[str, str]) -> None:
    """Load the plugins (a broken one is logged and left out) and mount their routes."""
    from anthias_edge.plugins.manager import load_plugins, parse_names
    from anthias_edge.plugins.settings import PluginSettingsStore, crypto_box_loader

    settings = runtime.settings
    store = PluginSettingsStore(crypto_box_loader(settings, cloud=runtime.is_cloud), environ)
    with runtime.database.connection_context():
        host = load_plugins(store, safe=bool(settings["plugins_safe_mode"]),
                            disabled=parse_names(settings["disabled_plugins"]))
    host.mount_blueprints(app)
    runtime.plugins = host


def init_device_owner(runtime: Runtime) -> None:
    """On a device, make the screenly.conf login the owner of the device's tenant for v3."""
    from anthias_edge.services.device.owner import sync_device_owner_at_start

    sync_device_owner_at_start(runtime)


def init_metrics(app: Flask) -> None:
    """Request counts and latency per route for ``/metrics``."""
    from anthias_edge.ops import init_request_metrics

    init_request_metrics(app)


def init_origin_check(app: Flask) -> None:
    """Refuse state changes that a page of another site made a browser send."""
    from anthias_edge.api.origin_check import init_origin_check as install

    install(app)


def init_fast_paths(app: Flask, runtime: Runtime) -> None:
    """Serve the polled asset list from its cache before Flask's request machinery."""
    from anthias_edge.api.legacy.list_fast_path import ListFastPath

    app.wsgi_app = ListFastPath(app.wsgi_app, runtime, app.config["SESSION_COOKIE_NAME"])


def init_compression(app: Flask) -> None:
    """gzip for clients that accept it; the others get the same bytes as before."""
    from anthias_edge.compression import GzipMiddleware

    app.wsgi_app = GzipMiddleware(app.wsgi_app)


def trusted_proxies(settings: Settings) -> tuple[Network, ...]:
    """The reverse proxies whose forwarded headers are believed (none by default)."""
    return parse_trusted_proxies(settings["trusted_proxies"])


def configure_proxies(app: Flask, proxies: tuple[Network, ...]) -> None:
    """Take the client's address and scheme from trusted proxies' headers (ProxyFix).

    Outermost, so the asset-list fast path and the login throttle see the client too.
    """
    if proxies:
        app.wsgi_app = TrustedProxies(app.wsgi_app, proxies)


def init_jobs(app: Flask, runtime: Runtime) -> None:
    """Start the in-process background jobs (clean-up, reachability checks)."""
    from anthias_edge.jobs import start_jobs

    start_jobs(runtime)
