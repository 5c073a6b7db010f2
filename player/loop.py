"""The play loop: choose an asset, show it, wait until it ends or a command cuts it short.

Waiting is always a blocking wait on one ``threading.Event`` (through
``Renderer.wait_until_done``), never a sleep loop: an idle player sleeps, and a
command from another thread (``player.commands``) takes effect at once. The
loop never leaves the screen black: the standby image covers an empty or paused
playlist, an unreachable URL is skipped (its check cached), and a renderer that
fails is replaced while playback goes on (docs/legacy-api.md §8.4-8.6).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from anthias_edge.errors import PlayerUnavailable, StartupError
from anthias_edge.timeutil import utcnow
from player.availability import Availability
from player.pages import standby_item
from player.renderers import MediaRouter, Renderer, kind_of
from player.rotation import PlayItem, Rotation

logger = logging.getLogger(__name__)

DEFAULT_DURATION_S = 10.0
# An empty rotation with no deadline still looks again this often, in case a refresh was lost.
IDLE_CAP_S = 3600.0
SPLASH_S = 60.0
SPLASH_POLL_S = 0.5
# After every asset of the playlist was skipped in a row, rest this long on standby.
ALL_SKIPPED_REST_S = 30.0
RESTART_DELAYS_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
RENDERER_ERRORS = (PlayerUnavailable, StartupError, OSError, TimeoutError)
# Renderer outcome -> play log outcome.
OUTCOMES = {"timeout": "completed", "ended": "completed", "interrupted": "interrupted"}


class PlayRecorder(Protocol):
    """Proof of play: where the loop reports each play (``player.main`` writes the play_log)."""

    def started(self, item: PlayItem, renderer: str) -> object:
        """A play began; return a token for ``ended``."""

    def ended(self, token: object, outcome: str) -> None:
        """The play that ``started`` returned ``token`` for ended with ``outcome``."""

    def skipped(self, item: PlayItem, renderer: str, outcome: str) -> None:
        """An asset was due but not shown."""


class NullRecorder:
    """Records nothing (tests, and a player without a database)."""

    def started(self, item: PlayItem, renderer: str) -> object:
        """Return no token."""
        return None

    def ended(self, token: object, outcome: str) -> None:
        """Do nothing."""

    def skipped(self, item: PlayItem, renderer: str, outcome: str) -> None:
        """Do nothing."""


def renderer_label(renderer: Renderer, item: PlayItem) -> str:
    """``browser``, ``mpv`` or ``headless``: the renderer that shows ``item``, for the play log."""
    if isinstance(renderer, MediaRouter):
        renderer = renderer.browser if kind_of(item) in ("image", "web") else renderer.media
    name = type(renderer).__name__.lower()
    return name.removesuffix("renderer") or name


def _still_playable(shown: PlayItem, playlist: list[PlayItem]) -> bool:
    """Whether ``shown`` is in ``playlist`` unchanged; a new position alone does not count."""
    for candidate in playlist:
        if candidate.asset_id == shown.asset_id:
            return dataclasses.replace(candidate, play_order=shown.play_order) == shown
    return False


def _without_expired_code(item: PlayItem) -> PlayItem:
    """``item`` without its QR code once the code expired (its landing page says 410)."""
    overlay = item.qr_overlay
    if overlay is None or overlay.live(utcnow()):
        return item
    return dataclasses.replace(item, qr_overlay=None)


class PlayLoop:
    """Plays the rotation on a renderer; the command methods may be called from any thread."""

    def __init__(self, rotation: Rotation, make_renderer: Callable[[], Renderer], *,
                 recorder: PlayRecorder | None = None, availability: Availability | None = None,
                 standby: PlayItem | None = None, splash: PlayItem | None = None,
                 splash_at_start: bool = True, splash_ready: Callable[[], bool] = lambda: True,
                 default_duration_s: float = DEFAULT_DURATION_S) -> None:
        self.rotation = rotation
        self.make_renderer = make_renderer
        self.recorder = recorder or NullRecorder()
        self.availability = availability or Availability(lambda _item: True)
        self.standby = standby or standby_item()
        self.splash = splash
        self.splash_at_start = splash_at_start
        self.splash_ready = splash_ready
        self.default_duration_s = default_duration_s
        self.renderer: Renderer | None = None
        # Rotation state is shared with the command thread; every touch holds this lock.
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._paused = False
        self._splash_requested = False
        self._page: PlayItem | None = None  # shown instead of standby while paused
        self._on_screen: PlayItem | None = None
        # Chosen but not on screen yet (``show`` can take a while); a refresh judges it as shown.
        self._coming: PlayItem | None = None
        self._still: PlayItem | None = None  # the standby image or page on screen, if any
        self._skips_in_a_row = 0

    # -- commands (any thread) -------------------------------------------------------------

    @property
    def current_asset_id(self) -> str | None:
        """The asset on screen, or None for standby and splash (docs/legacy-api.md §3.13)."""
        item = self._on_screen
        return item.asset_id if item is not None else None

    def skip(self) -> None:
        """End the current asset now (``next``)."""
        self._wake.set()

    def previous(self) -> None:
        """Go back one asset now (``previous``)."""
        with self._lock:
            self.rotation.go_previous()
        self._wake.set()

    def jump(self, asset_id: str) -> None:
        """Show this asset now (``asset&<id>``)."""
        with self._lock:
            self.rotation.jump_to(asset_id)
        self._wake.set()

    def pause(self) -> None:
        """Stop playing and show standby until ``resume`` (``stop``)."""
        with self._lock:
            self._paused = True
        self._wake.set()

    def resume(self) -> None:
        """Play again after ``pause`` or ``show_page`` (``play``)."""
        with self._lock:
            self._paused = False
            self._page = None
        self._wake.set()

    def show_page(self, page: PlayItem) -> None:
        """Stop playing and show ``page`` until ``resume`` (``setup_wifi``)."""
        with self._lock:
            self._paused = True
            self._page = page
        self._wake.set()

    def refresh(self, shuffle: bool | None = None) -> None:
        """The data changed: rebuild the playlist now (``refresh``; ``reload`` passes shuffle).

        The asset on screen plays on unless it left the playlist or changed; standby
        and the splash end at once when there is something to play.
        """
        with self._lock:
            if shuffle is not None:
                self.rotation.shuffle = shuffle
            self.rotation.mark_data_changed()
            try:
                self.rotation.refresh()
            except Exception:
                logger.exception("Could not rebuild the playlist; keeping the last one")
            playlist = self.rotation.playlist
            on_screen, paused = self._coming or self._on_screen, self._paused
        if paused:
            return
        # On standby the wait was sized by the old deadline: recompute it in any case.
        if on_screen is None or not _still_playable(on_screen, playlist):
            self._wake.set()

    def splash_now(self) -> None:
        """Show the splash page for SPLASH_S (``show_splash``), then go on playing."""
        with self._lock:
            self._splash_requested = self.splash is not None
        self._wake.set()

    def shutdown(self) -> None:
        """Make ``run`` return soon."""
        self._stopped.set()
        self._wake.set()

    @property
    def stopped(self) -> bool:
        """Whether ``shutdown`` was called."""
        return self._stopped.is_set()

    # -- the loop (one thread) -------------------------------------------------------------

    def run(self) -> None:
        """Play until ``shutdown``; closes the renderer on the way out."""
        try:
            if not self._start_renderer():
                return
            if self.splash is not None and self.splash_at_start:
                self._show_splash(self.splash)
            while not self._stopped.is_set():
                self.step()
        finally:
            self._close_renderer()
            self.availability.close()

    def step(self) -> None:
        """One iteration: show the next asset and wait for it, or rest on standby."""
        self._wake.clear()  # before reading state: a command from now on wakes the wait below
        with self._lock:
            splash, self._splash_requested = self._splash_requested, False
            paused, page = self._paused, self._page
            item = None if paused or splash else self._next_asset()
            self._coming = item
            idle_s = None if paused else self.rotation.time_until_next_check()
        if splash and self.splash is not None:
            self._on_screen = None
            self._show_splash(self.splash)
            return
        if item is None:
            self._show_still(page if paused and page is not None else self.standby)
            self._wake.wait(IDLE_CAP_S if idle_s is None else min(max(idle_s, 0.0), IDLE_CAP_S))
            return
        self._play(item)

    def _next_asset(self) -> PlayItem | None:
        try:
            return self.rotation.next_asset()
        except Exception:
            logger.exception("Could not choose the next asset")
            return None

    def _play(self, item: PlayItem) -> None:
        renderer = self.renderer
        assert renderer is not None
        label = renderer_label(renderer, item)
        if not self.availability.is_available(item):
            logger.info("Skipping %s (%s): not reachable", item.name, item.uri)
            self.recorder.skipped(item, label, "skipped")
            self._after_skip()
            return
        self._skips_in_a_row = 0
        token = None
        try:
            renderer.show(_without_expired_code(item))
            with self._lock:
                self._on_screen, self._still, self._coming = item, None, None
            token = self.recorder.started(item, label)
            self._preload_next(renderer, item)
            duration = float(item.duration) if item.duration else self.default_duration_s
            outcome = renderer.wait_until_done(duration, self._wake)
        except RENDERER_ERRORS:
            logger.exception("The %s renderer failed on %s; restarting it", label, item.uri)
            if token is None:
                self.recorder.skipped(item, label, "failed")
            else:
                self.recorder.ended(token, "failed")
            self._restart_renderer()
            return
        self.recorder.ended(token, OUTCOMES.get(outcome, "completed"))

    def _after_skip(self) -> None:
        self._skips_in_a_row += 1
        with self._lock:
            count = len(self.rotation.playlist)
        if self._skips_in_a_row >= max(count, 1):
            # Nothing playable right now: rest on standby instead of spinning through the list.
            self._skips_in_a_row = 0
            self._show_still(self.standby)
            self._wake.wait(ALL_SKIPPED_REST_S)

    def _preload_next(self, renderer: Renderer, current: PlayItem) -> None:
        with self._lock:
            rotation = self.rotation
            if rotation.pending_jump or rotation.reverse or not rotation.playlist:
                return
            upcoming = rotation.playlist[rotation.index % len(rotation.playlist)]
        if upcoming is current:
            return
        self.availability.warm(upcoming)
        try:
            renderer.preload(upcoming)
        except RENDERER_ERRORS:
            logger.warning("Preloading %s failed", upcoming.uri, exc_info=True)

    def _show_still(self, still: PlayItem) -> None:
        """Show the standby image or a page, unless it is on screen already."""
        self._on_screen = self._coming = None
        if self._still is still:
            return
        try:
            assert self.renderer is not None
            self.renderer.show(still)
            self._still = still
        except RENDERER_ERRORS:
            logger.exception("The renderer failed to show %s; restarting it", still.name)
            self._restart_renderer()

    def _show_splash(self, splash: PlayItem) -> None:
        """Show the splash page for SPLASH_S, or until the first command
        (docs/legacy-api.md §8.6)."""
        deadline = time.monotonic() + SPLASH_S
        while not self.splash_ready():
            # The server may still be starting: show the standby image (a local file) at
            # once rather than a black screen, and look again twice a second, for up to
            # the splash time.
            self._show_still(self.standby)
            if self._wake.wait(SPLASH_POLL_S) or time.monotonic() >= deadline:
                logger.info("Splash page not reachable; skipping it")
                return
        try:
            assert self.renderer is not None
            self.renderer.show(splash)
            self._still = None
        except RENDERER_ERRORS:
            logger.exception("Could not show the splash page")
            return
        self._wake.wait(max(0.0, deadline - time.monotonic()))

    # -- renderer life cycle ---------------------------------------------------------------

    def _start_renderer(self) -> bool:
        """Start a new renderer, retrying with back-off until it runs or the loop is shut down."""
        delays = itertools.chain((0.0,), RESTART_DELAYS_S, itertools.repeat(RESTART_DELAYS_S[-1]))
        for attempt, delay in enumerate(delays, 1):
            if self._stopped.wait(delay):
                return False
            try:
                renderer = self.make_renderer()
                renderer.start()
            except RENDERER_ERRORS:
                logger.exception("Renderer start failed (attempt %d)", attempt)
                continue
            self.renderer, self._still = renderer, None
            return True
        return False

    def _restart_renderer(self) -> None:
        self._close_renderer()
        self._on_screen = self._coming = None
        self._start_renderer()

    def _close_renderer(self) -> None:
        renderer, self.renderer = self.renderer, None
        if renderer is not None:
            with contextlib.suppress(Exception):
                renderer.close()
