"""The objects one running server shares: settings, database, messenger, background jobs.

Built once by ``create_app`` and kept on the app (``runtime_of(app)``; inside a request
``current_runtime()``); request handlers ask it for tenant-scoped services instead of building
them by hand. ``close()`` is the one way to shut it down: the command line, gunicorn workers and
the tests all call it. Flask is imported only by ``current_runtime``, so code outside requests
(jobs, the WSGI fast path) can use the runtime without it.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from peewee import Database

from anthias_edge.db import checkpoint, close_connections, db, run_migrations
from anthias_edge.messaging import Messenger
from anthias_edge.render_cache import DataGeneration, RenderCache
from anthias_edge.services.asset_events import NO_ASSET_EVENTS
from anthias_edge.services.assets import AssetService, relocate_asset_uris
from anthias_edge.services.media import tenant_media_dir
from anthias_edge.services.reachability import ReachabilityChecker
from anthias_edge.settings import Settings
from anthias_edge.timeutil import device_timezone, utcnow

if TYPE_CHECKING:  # the v3 auth stack (jwt, cryptography, argon2) loads on first use only
    from apscheduler.schedulers.background import BackgroundScheduler
    from flask import Flask

    from anthias_edge.plugins.manager import PluginHost
    from anthias_edge.services.auth.login_throttle import LoginThrottle
    from anthias_edge.services.auth.passwords import Passwords
    from anthias_edge.services.auth.tokens import AuthService

logger = logging.getLogger(__name__)

# Where ``create_app`` keeps the runtime among the app's extensions.
EXTENSION_KEY = "anthias"


class Metrics(Protocol):
    """What jobs and the asset-list fast path count into (``ops.Metrics``, one per app)."""

    @property
    def registry(self) -> Any:
        """The Prometheus registry ``/metrics`` exposes."""

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its duration."""

    def count_job_run(self, job: str, outcome: str) -> None:
        """Count one run of a background job by outcome."""


def runtime_of(app: Flask) -> Runtime:
    """The runtime ``create_app`` built for ``app``."""
    return app.extensions[EXTENSION_KEY]


def current_runtime() -> Runtime:
    """The runtime of the app handling the current request (or app context)."""
    from flask import current_app

    return runtime_of(current_app)


@dataclass
class Runtime:
    """Everything request handlers and jobs need, wired in one place."""

    settings: Settings
    database: Database
    messenger: Messenger
    mode: str = "device"
    clock: Callable[[], dt.datetime] = utcnow
    zone_file: str = "/etc/timezone"
    run_in_background: Callable[[Callable[[], None]], None] | None = None
    # Set by ``ops.init_request_metrics``: this app's own Prometheus registry and counters.
    metrics: Metrics | None = None
    # Set by ``jobs.start_jobs`` and cleared by ``jobs.stop_jobs``.
    scheduler: BackgroundScheduler | None = None
    scheduler_shutdown: Callable[[], None] | None = None
    # Set by ``app.init_plugins``: the loaded plugins; None where no plugin runs (the player).
    plugins: PluginHost | None = None
    # The device's own tenant, looked up on first use (``local_tenant_id``).
    _local_tenant_id: str | None = field(default=None, init=False, repr=False)

    @cached_property
    def render_cache(self) -> RenderCache:
        """Rendered list bodies, reused until the data or a schedule edge changes."""
        return RenderCache(DataGeneration(self.database))

    @cached_property
    def passwords(self) -> Passwords:
        """Password hashing (argon2id); tests may assign a cheaper instance."""
        from anthias_edge.services.auth.passwords import Passwords

        return Passwords()

    @cached_property
    def login_throttle(self) -> LoginThrottle:
        """Failed sign-ins per account and address, on the runtime's clock (read late)."""
        from anthias_edge.services.auth.login_throttle import LoginThrottle

        return LoginThrottle(clock=lambda: self.clock())

    @cached_property
    def auth(self) -> AuthService:
        """v3 authentication, built on first use.

        Only configuration lives here: refresh tokens and failed-login counts are read from
        the database on every call, so any worker can serve any request; a signing key, once
        read, is trusted for ``KEY_CACHE_TTL`` (10 s) before it is read again.
        """
        from anthias_edge.services.auth.crypto_box import load_crypto_box
        from anthias_edge.services.auth.jwt_tokens import AccessTokens
        from anthias_edge.services.auth.tokens import AuthService

        box = load_crypto_box(self.settings.deployment, self.settings.home, cloud=self.is_cloud)

        def clock() -> dt.datetime:
            return self.clock()  # late-bound, so a test may swap ``self.clock``

        return AuthService(AccessTokens(box, clock=clock), passwords=self.passwords, clock=clock)

    @property
    def is_cloud(self) -> bool:
        """Cloud mode: many tenants, no local player, no internal URL fetches."""
        return self.mode == "cloud"

    @property
    def zone(self) -> dt.tzinfo:
        """The device's time zone, for rendering dates and judging play windows."""
        return device_timezone(self.zone_file)

    def checker(self) -> ReachabilityChecker:
        """URL probing with the device's SSL setting; internal addresses blocked in the cloud."""
        return ReachabilityChecker(verify_ssl=bool(self.settings["verify_ssl"]),
                                   block_internal=self.is_cloud)

    @property
    def local_tenant_id(self) -> str:
        """The device's own tenant, which legacy v1-v2 act on; looked up once per database."""
        if self._local_tenant_id is None:
            if self.is_cloud:  # a cloud database has no device tenant, nor may it get one
                from anthias_edge.errors import TenantNotFound

                raise TenantNotFound()
            from anthias_edge.services.tenants import local_tenant_id

            self._local_tenant_id = local_tenant_id()
        return self._local_tenant_id

    def media_dir(self, tenant_id: str | None = None) -> Path:
        """The folder one tenant's files live in (``None``: the device's own tenant's)."""
        own_library = not self.is_cloud and (tenant_id is None
                                             or tenant_id == self.local_tenant_id)
        return tenant_media_dir(self.settings.asset_dir, tenant_id, own_library=own_library)

    def assets(self, tenant_id: str | None = None) -> AssetService:
        """The asset service for one tenant (``None``: the device's own; the cloud has none)."""
        tenant_id = tenant_id or self.local_tenant_id
        return AssetService(
            asset_dir=self.settings.asset_dir,
            tenant_id=tenant_id,
            media_dir=self.media_dir(tenant_id),
            checker=self.checker(),
            on_change=self.tell_player_data_changed,
            run_in_background=self.run_in_background,
            notify_websocket=self.messenger.send_to_websocket,
            clock=self.clock,
            events=self.plugins.events if self.plugins is not None else NO_ASSET_EVENTS,
        )

    def tell_player_data_changed(self) -> None:
        """The player rebuilds its playlist on ``refresh`` (WAL writes do not move the mtime)."""
        self.messenger.send_to_viewer("refresh")

    def close(self) -> None:
        """Stop the background jobs, close the messenger and the database; log, never raise."""
        steps: list[tuple[str, Callable[[], object]]] = [
            ("background jobs", self.stop_jobs),
            ("messenger", self.messenger.close),
            ("database", self.close_database),
        ]
        for name, close in steps:
            try:
                close()
            except Exception:
                logger.exception("Could not close the %s", name)

    def stop_jobs(self) -> None:
        """Stop the scheduler ``jobs.start_jobs`` started (if any); one-off work runs inline."""
        shutdown = self.scheduler_shutdown
        self.scheduler = self.scheduler_shutdown = None
        self.run_in_background = None
        if shutdown is not None:
            atexit.unregister(shutdown)
            shutdown()

    def close_database(self) -> None:
        """Checkpoint and close every pooled connection (before files are swapped)."""
        try:
            checkpoint(self.database)
        finally:
            close_connections(self.database)

    def checkpoint_database(self) -> None:
        """Make ``screenly.db`` complete on its own, so a copy of the file is a backup."""
        checkpoint(self.database)

    def after_restore(self) -> None:
        """Reload settings, then open the replaced database, migrate it and fix its paths."""
        self.settings.reload()
        self._local_tenant_id = None  # a restored database has its own
        db.initialize(self.database)
        with self.database.connection_context():
            run_migrations(self.database)
            relocate_asset_uris(self.settings.asset_dir)
        self.messenger.send_to_viewer("reload")
