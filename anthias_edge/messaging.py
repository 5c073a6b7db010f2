"""ZeroMQ messaging between the server and the player (docs/legacy-api.md §7).

The server binds a PUB socket (commands for the player, asset ids for the websocket
relay) and a PULL socket (the player's replies); the player connects a SUB and a PUSH
socket to them. Every message is one UTF-8 frame, ``"<topic> <payload>"``, and a
viewer payload is ``"<command>[&<parameter>]"``. No Flask here: the player imports it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import zmq

from anthias_edge.errors import PlayerUnavailable, StartupError

logger = logging.getLogger(__name__)

DEFAULT_PUBLISHER_ADDRESS = "tcp://127.0.0.1:10001"
DEFAULT_COLLECTOR_ADDRESS = "tcp://127.0.0.1:5558"
VIEWER_TOPIC = "viewer"
WEBSOCKET_TOPIC = "ws_server"
CURRENT_ASSET_ID = "current_asset_id"


@runtime_checkable
class Messenger(Protocol):
    """What the server needs from its side of the messaging: send, ask, start, close."""

    def start(self) -> None:
        """Open the sockets; calling it again does nothing."""

    def close(self) -> None:
        """Close the sockets; calling it again does nothing."""

    def send_to_viewer(self, command: str) -> None:
        """Publish ``viewer <command>`` to the player."""

    def send_to_websocket(self, payload: str) -> None:
        """Publish ``ws_server <payload>`` to the websocket relay."""

    def ask_current_asset_id(self, timeout_s: float = 2.0) -> str | None:
        """Return the id of the asset on screen, or None; raise PlayerUnavailable."""


@dataclass(frozen=True, slots=True)
class ViewerCommand:
    """One player command: ``asset&<id>`` is ``ViewerCommand("asset", "<id>")``."""

    command: str
    parameter: str | None = None


def parse_viewer_message(raw: str) -> ViewerCommand:
    """Split ``"viewer <command>[&<parameter>]"`` as the Anthias viewer does
    (docs/legacy-api.md §7.1).

    The topic ends at the first space and the command at the first ``&``; the
    parameter keeps any further ``&``. Raise ValueError unless the topic is ``viewer``.
    """
    topic, _, payload = raw.partition(" ")
    if topic != VIEWER_TOPIC:
        raise ValueError(f"Not a viewer message: {raw!r}")
    command, separator, parameter = payload.partition("&")
    return ViewerCommand(command, parameter if separator else None)


def _parse_reply(raw: bytes) -> str | None:
    """Read ``{"current_asset_id": <id or null>}``; raise ValueError otherwise."""
    reply = json.loads(raw.decode("utf-8"))
    if not isinstance(reply, dict) or CURRENT_ASSET_ID not in reply:
        raise ValueError(f"Reply has no {CURRENT_ASSET_ID!r} field")
    asset_id = reply[CURRENT_ASSET_ID]
    if asset_id is not None and not isinstance(asset_id, str):
        raise ValueError(f"{CURRENT_ASSET_ID!r} is neither a string nor null")
    return asset_id or None


def _endpoint(socket: zmq.Socket | None) -> str | None:
    """The address a socket is bound to (``*`` port resolved); None when closed."""
    if socket is None:
        return None
    return socket.getsockopt_string(zmq.LAST_ENDPOINT)


def _bind(context: zmq.Context, kind: int, address: str) -> zmq.Socket:
    """Bind a new socket with linger 0; raise StartupError naming the address."""
    socket = context.socket(kind)
    # Never hold up shutdown for a peer that is not listening.
    socket.setsockopt(zmq.LINGER, 0)
    try:
        socket.bind(address)
    except zmq.ZMQError as exc:
        socket.close()
        raise StartupError(f"Could not bind a ZeroMQ socket to {address}: {exc}") from exc
    return socket


class ServerMessenger:
    """The server's side: a PUB socket towards the player and a PULL socket for replies.

    Safe to share between request threads. Bind an address with port ``*`` to let the
    system choose; ``publisher_endpoint`` then tells the port.
    """

    def __init__(
        self,
        publisher_address: str = DEFAULT_PUBLISHER_ADDRESS,
        collector_address: str = DEFAULT_COLLECTOR_ADDRESS,
        context: zmq.Context | None = None,
    ) -> None:
        self.publisher_address = publisher_address
        self.collector_address = collector_address
        self._context = context
        self._owns_context = context is None
        self._publisher: zmq.Socket | None = None
        self._collector: zmq.Socket | None = None
        # Lock order is always _ask_lock, then _send_lock: ZeroMQ sockets are not
        # thread-safe, and a question must not read another question's answer.
        self._ask_lock = threading.Lock()
        self._send_lock = threading.Lock()

    @property
    def publisher_endpoint(self) -> str | None:
        """The address the PUB socket is bound to, or None before ``start()``."""
        return _endpoint(self._publisher)

    @property
    def collector_endpoint(self) -> str | None:
        """The address the PULL socket is bound to, or None before ``start()``."""
        return _endpoint(self._collector)

    def start(self) -> None:
        """Bind both sockets once; raise StartupError naming the address that failed."""
        with self._ask_lock, self._send_lock:
            if self._publisher is not None:
                return
            if self._context is None:
                self._context = zmq.Context()
            try:
                publisher = _bind(self._context, zmq.PUB, self.publisher_address)
                try:
                    collector = _bind(self._context, zmq.PULL, self.collector_address)
                except StartupError:
                    publisher.close()
                    raise
            except StartupError:
                self._release_context()
                raise
            self._publisher, self._collector = publisher, collector
            logger.info(
                "Messaging started: publishing on %s, collecting on %s",
                _endpoint(publisher),
                _endpoint(collector),
            )

    def _release_context(self) -> None:
        if self._owns_context and self._context is not None:
            self._context.term()
            self._context = None

    def close(self) -> None:
        """Close both sockets (pending messages are dropped); safe to call twice."""
        with self._ask_lock, self._send_lock:
            for socket in (self._publisher, self._collector):
                if socket is not None:
                    socket.close()
            self._publisher = self._collector = None
            self._release_context()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _publish(self, message: str) -> None:
        with self._send_lock:
            if self._publisher is None:
                raise RuntimeError("ServerMessenger.start() must be called before sending")
            # PUB never blocks: with no subscriber the message is simply dropped.
            self._publisher.send_string(message, encoding="utf-8")
        logger.debug("Published %r", message)

    def send_to_viewer(self, command: str) -> None:
        """Publish ``viewer <command>``; any string is forwarded verbatim
        (docs/legacy-api.md §3.12)."""
        self._publish(f"{VIEWER_TOPIC} {command}")

    def send_to_websocket(self, payload: str) -> None:
        """Publish ``ws_server <payload>`` for the websocket relay (docs/legacy-api.md §7.3)."""
        self._publish(f"{WEBSOCKET_TOPIC} {payload}")

    def ask_current_asset_id(self, timeout_s: float = 2.0) -> str | None:
        """Ask the player which asset it shows and wait up to ``timeout_s``
        (docs/legacy-api.md §3.13).

        Return the asset id, or None when the player shows nothing. Raise
        PlayerUnavailable when no reply comes in time or the reply cannot be read.
        """
        with self._ask_lock:
            collector = self._collector
            if collector is None:
                raise RuntimeError("ServerMessenger.start() must be called before asking")
            # Replies carry no question id, so an answer that came too late for an
            # earlier question would otherwise be taken as this one's.
            while collector.poll(0):
                stale = collector.recv()
                logger.debug("Dropped a stale player reply: %r", stale)
            self.send_to_viewer(CURRENT_ASSET_ID)
            if not collector.poll(max(0, int(timeout_s * 1000))):
                logger.warning("The player did not answer within %.1f s", timeout_s)
                raise PlayerUnavailable()
            raw = collector.recv()
        try:
            return _parse_reply(raw)
        except ValueError as exc:
            logger.warning("Unreadable reply from the player %r: %s", raw, exc)
            raise PlayerUnavailable() from exc


class NullMessenger:
    """A messenger for cloud mode, where no player exists: sends go nowhere."""

    def start(self) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None

    def send_to_viewer(self, command: str) -> None:
        """Drop the command: there is no player to receive it."""
        logger.debug("No player; dropped viewer command %r", command)

    def send_to_websocket(self, payload: str) -> None:
        """Drop the payload: there is no websocket relay."""
        logger.debug("No websocket relay; dropped %r", payload)

    def ask_current_asset_id(self, timeout_s: float = 2.0) -> str | None:
        """Raise PlayerUnavailable at once: nobody can answer."""
        raise PlayerUnavailable()


class ViewerEndpoint:
    """The player's side: SUB for ``viewer`` messages, PUSH for replies to the server.

    Call ``receive`` from one thread; ``reply_current_asset`` may be called from any.
    """

    def __init__(
        self,
        publisher_address: str = DEFAULT_PUBLISHER_ADDRESS,
        collector_address: str = DEFAULT_COLLECTOR_ADDRESS,
        context: zmq.Context | None = None,
    ) -> None:
        self.publisher_address = publisher_address
        self.collector_address = collector_address
        self._context = context
        self._owns_context = context is None
        self._subscriber: zmq.Socket | None = None
        self._pusher: zmq.Socket | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Connect both sockets once; the server need not be running yet."""
        with self._lock:
            if self._subscriber is not None:
                return
            if self._context is None:
                self._context = zmq.Context()
            subscriber = self._context.socket(zmq.SUB)
            subscriber.setsockopt(zmq.LINGER, 0)
            subscriber.setsockopt_string(zmq.SUBSCRIBE, VIEWER_TOPIC)
            pusher = self._context.socket(zmq.PUSH)
            pusher.setsockopt(zmq.LINGER, 0)
            try:
                subscriber.connect(self.publisher_address)
                pusher.connect(self.collector_address)
            except zmq.ZMQError as exc:
                subscriber.close()
                pusher.close()
                if self._owns_context:
                    self._context.term()
                    self._context = None
                raise StartupError(
                    f"Could not connect the player to {self.publisher_address} "
                    f"and {self.collector_address}: {exc}"
                ) from exc
            self._subscriber, self._pusher = subscriber, pusher

    def close(self) -> None:
        """Close both sockets; safe to call twice."""
        with self._lock:
            for socket in (self._subscriber, self._pusher):
                if socket is not None:
                    socket.close()
            self._subscriber = self._pusher = None
            if self._owns_context and self._context is not None:
                self._context.term()
                self._context = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def receive(self, timeout_s: float | None = None) -> ViewerCommand | None:
        """Wait for the next viewer command; None when ``timeout_s`` passes first.

        ``timeout_s=None`` waits forever. Messages whose topic merely starts with
        ``viewer`` (the SUB filter is a prefix) are skipped.
        """
        subscriber = self._subscriber
        if subscriber is None:
            raise RuntimeError("ViewerEndpoint.start() must be called before receiving")
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            if deadline is None:
                wait_ms = None
            else:
                wait_ms = max(0, int((deadline - time.monotonic()) * 1000))
            if not subscriber.poll(wait_ms):
                return None
            raw = subscriber.recv().decode("utf-8", errors="replace")
            try:
                return parse_viewer_message(raw)
            except ValueError:
                logger.debug("Ignored a message for another topic: %r", raw)

    def reply_current_asset(self, asset_id: str | None) -> None:
        """Push ``{"current_asset_id": <id or null>}``; drop it if it cannot go now."""
        reply = json.dumps({CURRENT_ASSET_ID: asset_id})
        with self._lock:
            if self._pusher is None:
                raise RuntimeError("ViewerEndpoint.start() must be called before replying")
            try:
                self._pusher.send_string(reply, flags=zmq.NOBLOCK)
            except zmq.Again:
                logger.warning("Could not send the current asset to the server: %s", reply)
