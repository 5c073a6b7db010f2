"""Player start-up (``anthias-edge player``): settings, database, renderer, commands, systemd.

Wires a ``PlayLoop`` to the database (rotation and proof of play), to the
server's ZeroMQ sockets (``player.commands``) and to systemd (READY, WATCHDOG,
STOPPING), then plays on a thread of its own until SIGTERM or SIGINT
(docs/legacy-api.md §8.6).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Sequence

from peewee import Database, PeeweeException

from anthias_edge import sd_notify
from anthias_edge.db import close_connections, db, open_database, run_migrations
from anthias_edge.errors import StartupError
from anthias_edge.messaging import ViewerEndpoint
from anthias_edge.settings import Settings
from anthias_edge.stop_signals import StopSignals
from anthias_edge.timeutil import device_timezone, utcnow
from player.availability import PROBE_TIMEOUT_S, Availability
from player.commands import CommandHandler, CommandListener
from player.loop import PlayLoop
from player.pages import splash_item, standby_item
from player.renderers import Renderer, choose_renderer, has_display
from player.rotation import PlayItem, Rotation

logger = logging.getLogger(__name__)

PRUNE_EVERY = dt.timedelta(days=1)
STOP_TIMEOUT_S = 10.0


class DatabaseRecorder:
    """Proof of play in the ``play_log`` table; prunes old rows at start and once a day.

    A failing write is logged and never stops playback.
    """

    def __init__(self, database: Database, retention_days: int,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.database = database
        self.retention_days = retention_days
        self.clock = clock
        self._last_prune: dt.datetime | None = None

    def _write(self, action: Callable[[], object]) -> object:
        try:
            with self.database.connection_context():
                return action()
        except PeeweeException:
            logger.warning("Could not write the play log", exc_info=True)
            return None

    def open(self) -> None:
        """Close plays a previous process left open, and prune."""
        from anthias_edge.services import play_log

        self._write(play_log.close_unfinished)
        self.prune_if_due()

    def prune_if_due(self) -> None:
        """Prune rows older than the retention when the last prune is a day old."""
        from anthias_edge.services import play_log

        now = self.clock()
        if self._last_prune is None or now - self._last_prune >= PRUNE_EVERY:
            self._last_prune = now
            self._write(lambda: play_log.prune(self.retention_days, now))

    def started(self, item: PlayItem, renderer: str) -> object:
        """Insert a ``playing`` row; return its id."""
        from anthias_edge.services import play_log

        self.prune_if_due()
        return self._write(lambda: play_log.record_start(item.asset_id, item.name, renderer,
                                                         self.clock()))

    def ended(self, token: object, outcome: str) -> None:
        """Set the end time and outcome of the row ``started`` inserted."""
        from anthias_edge.services import play_log

        if isinstance(token, int):
            self._write(lambda: play_log.record_end(token, outcome, self.clock()))

    def skipped(self, item: PlayItem, renderer: str, outcome: str) -> None:
        """Insert a row for an asset that was due but not shown."""
        from anthias_edge.services import play_log

        self._write(lambda: play_log.record_skip(item.asset_id, item.name, renderer, outcome,
                                                 self.clock()))


def last_good(load: Callable[[], Sequence[PlayItem]]) -> Callable[[], Sequence[PlayItem]]:
    """``load``, but when it fails the last list it returned (offline, the show goes on)."""
    kept: list[Sequence[PlayItem]] = [()]

    def guarded() -> Sequence[PlayItem]:
        try:
            kept[0] = load()
        except Exception:
            logger.exception("Could not read the assets; keeping the last playlist")
        return kept[0]

    return guarded


def open_player_database(settings: Settings) -> Database:
    """Open the server's database and make sure the schema is current (the server may lag)."""
    database = open_database(settings.database_url or settings.database_path)
    db.initialize(database)
    for attempt in range(3):
        try:
            with database.connection_context():
                run_migrations(database)
            return database
        except StartupError:
            # The server may be migrating the same file right now; its work then suffices.
            logger.warning("Migrations failed (attempt %d); retrying", attempt + 1, exc_info=True)
            threading.Event().wait(1.0)
    return database


def renderer_factory(name: str, settings: Settings) -> Callable[[], Renderer]:
    """Build renderers by ``name``; the first one is built now, so a bad name fails at start."""
    headless = name != "auto" and not has_display()
    record = settings.config_dir / "shown.jsonl"

    def build() -> Renderer:
        return choose_renderer(name, headless=headless, audio_output=settings["audio_output"],
                               record_path=record)

    first = [build()]
    describe = type(first[0]).__name__
    if hasattr(first[0], "browser"):
        describe = "MediaRouter(BrowserRenderer for images and web pages, MpvRenderer for media)"
    logger.info("Renderer: %s (asked for %s%s)", describe, name,
                ", no display: headless" if headless else "")

    def make() -> Renderer:
        return first.pop() if first else build()

    return make


def reload_settings(settings: Settings) -> bool:
    """Re-read the settings file, set the log level; return the shuffle setting."""
    settings.reload()
    logging.getLogger().setLevel(logging.DEBUG if settings["debug_logging"] else logging.INFO)
    logger.info("Settings reloaded")
    return bool(settings["shuffle_playlist"])


def code_link(settings: Settings) -> Callable[[str], str] | None:
    """Where the QR codes on screen lead: ``public_url``, else the device's LAN address.

    Looked up at each playlist load, so a changed setting (``reload``) or a new address
    (DHCP) is used from the next load on; None (no code drawn) when the server listens on
    loopback only and no public_url is set: no phone could open such a code.
    """
    from anthias_edge.services.qr_links import device_share_base, landing_url

    base = device_share_base(settings)
    if not base:
        return None
    return lambda code: landing_url(code, public_url=None, base_url=base)


def build_loop(settings: Settings, database: Database, make_renderer: Callable[[], Renderer],
               zone: dt.tzinfo) -> PlayLoop:
    """The play loop on this device's data."""
    from anthias_edge.models import Asset
    from anthias_edge.services.reachability import ReachabilityChecker
    from player.playlist_source import load_items_from_db

    def load() -> Sequence[PlayItem]:
        link = code_link(settings)
        with database.connection_context():
            return load_items_from_db(link=link)

    def marked_unreachable(asset_id: str) -> bool:
        with database.connection_context():
            row = Asset.select(Asset.is_reachable).where(Asset.asset_id == asset_id).first()
        return row is not None and not row.is_reachable

    checker = ReachabilityChecker(verify_ssl=bool(settings["verify_ssl"]),
                                  timeout_s=PROBE_TIMEOUT_S)

    def probe(item: PlayItem) -> bool:
        return checker.is_reachable(item.uri or "", skip_ssl_verify=item.skip_ssl_verify)

    # Shown at start when show_splash is on, and on a show_splash message in any case.
    splash = splash_item(settings["listen"])

    def splash_ready() -> bool:
        return checker.is_reachable(splash.uri)

    rotation = Rotation(last_good(load), zone, shuffle=bool(settings["shuffle_playlist"]))
    recorder = DatabaseRecorder(database, int(settings["play_log_retention_days"]))
    recorder.open()
    return PlayLoop(rotation, make_renderer, recorder=recorder,
                    availability=Availability(probe, marked_unreachable),
                    standby=standby_item(), splash=splash,
                    splash_at_start=bool(settings["show_splash"]), splash_ready=splash_ready,
                    default_duration_s=float(settings["default_duration"]))


def run_player(settings: Settings, renderer_name: str = "auto") -> int:
    """Play until SIGTERM/SIGINT; return the exit code. Raise StartupError when it cannot start."""
    database = open_player_database(settings)
    make_renderer = renderer_factory(renderer_name, settings)
    loop = build_loop(settings, database, make_renderer, device_timezone())
    endpoint = ViewerEndpoint(settings["zmq_publisher"], settings["zmq_collector"])
    endpoint.start()
    handler = CommandHandler(loop, endpoint.reply_current_asset,
                             on_reload=lambda: reload_settings(settings),
                             listen=settings["listen"])
    listener = CommandListener(endpoint, handler)
    listener.start()
    ended = threading.Event()

    def play() -> None:
        try:
            loop.run()
        finally:
            ended.set()

    with StopSignals(logger) as stop_signals:
        player_thread = threading.Thread(target=play, name="play-loop", daemon=True)
        player_thread.start()
        logger.info("Player started (home %s, commands from %s)", settings.home,
                    settings["zmq_publisher"])
        sd_notify.ready()
        heartbeat = sd_notify.start_heartbeat(
            lambda: player_thread.is_alive() and listener.is_alive())
        code = 0
        try:
            stop_signals.wait(ended)
            if ended.is_set() and not loop.stopped:
                logger.error("The play loop ended unexpectedly")
                code = 1
        finally:
            sd_notify.stopping()
            if heartbeat is not None:
                heartbeat.stop()
            loop.shutdown()
            player_thread.join(STOP_TIMEOUT_S)
            listener.stop()
            endpoint.close()
            close_connections(database)
    logger.info("Player stopped")
    return code
