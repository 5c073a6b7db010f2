"""The agent's loop: push the outbox, pull the state, upload shared media, then wait.

One cycle per (jittered) interval while the hub answers; exponential backoff with full jitter
while it does not. Unlinked, the loop looks for a fleet token file (and for a link made by the
dashboard or the CLI meanwhile). A ``device_revoked`` answer means the cloud unlinked this
device: the link is forgotten (local data stay) and the reason kept for the Cloud page.
Every wait wakes at least once a second, so a stop request is seen at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from anthias_edge.errors import AnthiasError
from anthias_edge.settings import Settings
from anthias_edge.timeutil import utcnow
from cloud_sync.agent import local_state
from cloud_sync.agent.backoff import Backoff, jittered_interval
from cloud_sync.agent.database import connected, ensure_database
from cloud_sync.agent.errors import CloudRefused, CloudUnreachable
from cloud_sync.agent.http import HubClient, Timeouts
from cloud_sync.agent.linking import link_with_fleet_token, signer_of
from cloud_sync.agent.media import MediaState, filler, upload_shared
from cloud_sync.agent.pull import pull
from cloud_sync.agent.push import push_all
from cloud_sync.agent.relay import RelayMessenger
from cloud_sync.agent.token_file import consume_token_file, read_token_file
from cloud_sync.agent.wording import problem_words, retrying
from cloud_sync.device import link_store, outbox
from cloud_sync.device.link_store import LinkState

logger = logging.getLogger(__name__)

WAKE_S = 1.0
# A health-only push (nothing else to send) at most this often, unless what is on screen changed.
HEALTH_EVERY_S = 300.0
CHANGES_PUSHED_AT_ONCE = ("software_version", "address", "on_screen")
# A fleet token the cloud refused is offered again after this long (or at once if the file
# changes): an admin may raise the cap or the file may be replaced.
REFUSED_TOKEN_RETRY_S = 3600.0


def wait(stop: threading.Event, seconds: float) -> bool:
    """Sleep up to ``seconds`` in slices of at most a second; True if ``stop`` was set."""
    deadline = time.monotonic() + max(0.0, seconds)
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        stop.wait(min(WAKE_S, left))
    return True


def interval_of(settings: Settings, link: LinkState | None) -> int:
    """The pull interval: the ``sync_interval`` setting, or longer when the hub asks so."""
    configured = int(settings["sync_interval"])
    if not 5 <= configured <= 3600:
        raise AnthiasError(f"The sync_interval setting must be 5 to 3600 seconds, "
                           f"not {configured}.")
    return max(configured, link.interval_s if link else 0)


class Agent:
    """The state of one running agent between cycles (backoff, client, last health)."""

    def __init__(self, settings: Settings, *, messenger: Any = None,
                 timeouts: Timeouts | None = None, rng: random.Random | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``messenger`` carries pulled commands to the player (see ``cloud_sync.device``)."""
        self.settings = settings
        self.messenger = messenger
        self.timeouts = timeouts or Timeouts()
        self.rng = rng or random.Random()
        self.clock = clock
        self.backoff = Backoff(rng=self.rng)
        self._client: HubClient | None = None
        self._client_for: tuple[str, str] | None = None
        self._health_sent: tuple[float, Any] | None = None
        self._health_pending: dict[str, Any] | None = None
        self._refused_token: tuple[str, float] | None = None
        self.stop = threading.Event()
        # The last step's problem in plain words (None: it went well), for ``sync --once``.
        self.last_problem: str | None = None

    def close(self) -> None:
        """Close the hub connection."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set."""
        self.stop = stop
        local_state.update_agent_state(self.settings, pid=os.getpid(), next_attempt_at=None)
        try:
            while not stop.is_set():
                try:
                    delay = self.step()
                    self._announce(delay)
                except Exception:  # a busy database, a full disk: retry, never die
                    logger.exception("The sync agent's step failed")
                    delay = self.backoff.failed()
                wait(stop, delay)
        finally:
            self.close()
            local_state.update_agent_state(self.settings, pid=None, next_attempt_at=None)

    def step(self) -> float:
        """One cycle (or one enrolment attempt when unlinked); return seconds until the next."""
        self.last_problem = None
        with connected():
            link = link_store.load()
        if link is None:
            return self._unlinked_step()
        interval = interval_of(self.settings, link)
        try:
            self.cycle(link)
        except CloudRefused as exc:
            if exc.code == "device_revoked":
                self._revoked(link)
                return jittered_interval(interval, self.rng)
            return self._failed(exc, None)
        except CloudUnreachable as exc:
            return self._failed(exc, exc.retry_after_s)
        except Exception as exc:
            logger.exception("Sync cycle failed")
            return self._failed(exc, None)
        self.backoff.succeeded()
        return jittered_interval(interval, self.rng)

    def cycle(self, link: LinkState) -> None:
        """Push, pull, upload: one full exchange with the hub."""
        client = self._client_of(link)
        media = MediaState(self.settings, link.device_id)
        stopping = self.stop.is_set
        pushed = push_all(client, self._health_due(), filler(media), stopping)
        with connected():
            if pushed.batches:
                link_store.record_success("push")
        self._health_confirmed(pushed.batches > 0)
        if stopping():
            return
        with connected():
            link = link_store.load() or link
        pull(client, link, self.messenger, str(self.settings["reboot_command"]))
        with connected():
            link_store.record_success("pull")
        if stopping():
            return
        uploaded = upload_shared(client, self.settings, link.device_id, stopping)
        problems = [*pushed.skipped, *uploaded.problems]
        if problems:
            with connected():
                link_store.record_error(" ".join(problems))

    def _client_of(self, link: LinkState) -> HubClient:
        key = (link.cloud_url, link.device_id)
        if self._client is None or self._client_for != key:
            self.close()
            try:
                signer = signer_of(link)
            except (OSError, ValueError) as exc:
                raise AnthiasError(f"This device's key {link.key_path} could not be read "
                                   f"({exc}); unlink and link the device again") from exc
            self._client = HubClient(link.cloud_url, signer, self.timeouts)
            self._client_for = key
        return self._client

    def _health_due(self) -> dict[str, Any] | None:
        """A fresh health snapshot when one should go with this push, else None."""
        try:
            from cloud_sync.device.health import snapshot

            with connected():
                health = snapshot(self.settings.asset_dir, self.messenger)
        except Exception:
            logger.warning("Could not take the health snapshot", exc_info=True)
            return None
        with connected():
            pending = outbox.count()
        # Free disk and uptime move all the time; they travel with the periodic pushes.
        steady = {key: health.get(key) for key in CHANGES_PUSHED_AT_ONCE}
        last = self._health_sent
        if pending or last is None or last[1] != steady or self.clock() - last[0] >= HEALTH_EVERY_S:
            self._health_pending = steady
            return health
        self._health_pending = None
        return None

    def _health_confirmed(self, sent: bool) -> None:
        pending = self._health_pending
        if sent and pending is not None:
            self._health_sent = (self.clock(), pending)

    def _failed(self, exc: BaseException, retry_after_s: float | None) -> float:
        delay = self.backoff.failed(retry_after_s)
        words = retrying(exc, delay)
        self.last_problem = words
        logger.warning("%s", words)
        try:
            with connected():
                link_store.record_error(words)
        except Exception:
            logger.exception("Could not record the sync error")
        return delay

    def _revoked(self, link: LinkState) -> None:
        when = utcnow()
        words = (f"This device was unlinked in the cloud ({link.cloud_url}) on "
                 f"{when:%Y-%m-%d %H:%M} UTC; it no longer syncs. Its assets stay on it; link "
                 "it again to sync.")
        self.last_problem = words
        logger.warning("%s", words)
        with connected():
            link_store.clear_link()
        self.close()
        local_state.forget(self.settings, keep_unlink_notice=True)
        local_state.update_agent_state(self.settings, last_error=words,
                                       last_error_at=_iso(when), unlinked_by_cloud=True)
        self.backoff.succeeded()

    def _unlinked_step(self) -> float:
        interval = interval_of(self.settings, None)
        path = self.settings["fleet_token_path"]
        try:
            found = read_token_file(Path(path))
        except AnthiasError as exc:
            self._note_unlinked(exc.message)
            return jittered_interval(interval, self.rng)
        if found is None:
            return jittered_interval(interval, self.rng)
        fingerprint = hashlib.sha256(found.token.encode()).hexdigest()
        if (self._refused_token and self._refused_token[0] == fingerprint
                and self.clock() < self._refused_token[1]):
            return jittered_interval(interval, self.rng)
        cloud = found.cloud_url or self.settings["cloud_url"]
        if not cloud:
            self._note_unlinked(f"The fleet token file {path} names no cloud: add a line "
                                "cloud=https://... or set the cloud_url setting.")
            return jittered_interval(interval, self.rng)
        name = found.name or self.settings["player_name"] or socket.gethostname()
        try:
            link = link_with_fleet_token(self.settings, cloud, found.token, name)
        except CloudUnreachable as exc:
            delay = self.backoff.failed(exc.retry_after_s)
            self._note_unlinked(f"Enrolling with the fleet token: {retrying(exc, delay)}")
            return delay
        except CloudRefused as exc:
            self._refused_token = (fingerprint, self.clock() + REFUSED_TOKEN_RETRY_S)
            self._note_unlinked(f"{problem_words(exc)}. The token file {path} was left in "
                                "place; replace it with a valid token.")
            return jittered_interval(interval, self.rng)
        self.backoff.succeeded()
        done = consume_token_file(found.path)
        logger.info("Enrolled with the fleet token as %s (%s); the token file was %s",
                    link.device_name, link.device_id, done)
        return 0.0

    def _note_unlinked(self, words: str) -> None:
        self.last_problem = words
        logger.warning("%s", words)
        local_state.update_agent_state(self.settings, last_error=words,
                                       last_error_at=_iso(utcnow()))

    def _announce(self, delay: float) -> None:
        """Publish when the next attempt is (only while backing off: success needs no write)."""
        if self.backoff.failures:
            when = dt.datetime.fromtimestamp(self.clock() + delay, dt.UTC)
            local_state.update_agent_state(self.settings, next_attempt_at=_iso(when))
        elif local_state.agent_state(self.settings).get("next_attempt_at"):
            local_state.update_agent_state(self.settings, next_attempt_at=None)


def run(settings: Settings, stop_event: threading.Event, **options: Any) -> None:
    """Sync until ``stop_event`` is set (the ``anthias-edge sync`` daemon's body)."""
    ensure_database(settings)
    if "messenger" not in options:
        with RelayMessenger(settings["zmq_relay"]) as messenger:
            Agent(settings, messenger=messenger, **options).run(stop_event)
        return
    Agent(settings, **options).run(stop_event)


def sync_once(settings: Settings, **options: Any) -> Agent:
    """One cycle (or one enrolment attempt), for ``anthias-edge sync --once``."""
    ensure_database(settings)
    own = "messenger" not in options
    messenger = RelayMessenger(settings["zmq_relay"]) if own else options.pop("messenger")
    agent = Agent(settings, messenger=messenger, **options)
    try:
        agent.step()
    finally:
        agent.close()
        if own:
            messenger.close()
    return agent


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
