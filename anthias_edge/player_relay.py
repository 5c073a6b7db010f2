"""A local door to the player for the sync agent, which runs in a process of its own.

The player listens only to the server's ZeroMQ PUB socket, and only one process can bind it.
So the server also binds a REP socket (the ``zmq_relay`` setting, loopback by default) where
the agent asks it to pass a command on, or to ask the player what is on screen; one thread
answers each request in turn. Only the commands the cloud may send are passed on, so the door
opens onto nothing the agent could not already do through the server's own API. No Flask here.
"""

from __future__ import annotations

import json
import logging
import re
import threading

import zmq

from anthias_edge.errors import AnthiasError, StartupError
from anthias_edge.messaging import Messenger

logger = logging.getLogger(__name__)

POLL_MS = 200
ASK_TIMEOUT_S = 0.5
# What the relay passes on: the player commands a cloud command becomes, and "refresh" after
# pulled QR contents changed the local tables.
ALLOWED = re.compile(r"^(next|previous|reload|refresh|asset&[A-Za-z0-9_-]{1,64})$")
SEND = "send "
ASK = "ask current_asset_id"


class PlayerRelay:
    """The server's side: a REP socket and the thread that serves it."""

    def __init__(self, messenger: Messenger, address: str,
                 context: zmq.Context | None = None) -> None:
        """Serve ``address`` (``tcp://127.0.0.1:*`` picks a free port) once ``start``-ed."""
        self.messenger = messenger
        self.address = address
        self._context = context or zmq.Context.instance()
        self._socket: zmq.Socket | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="player-relay", daemon=True)

    @property
    def endpoint(self) -> str | None:
        """The bound address (port resolved), or None before ``start``."""
        if self._socket is None:
            return None
        return self._socket.getsockopt_string(zmq.LAST_ENDPOINT)

    def start(self) -> None:
        """Bind and start answering; raise StartupError naming the address that failed."""
        socket = self._context.socket(zmq.REP)
        socket.setsockopt(zmq.LINGER, 0)
        try:
            socket.bind(self.address)
        except zmq.ZMQError as exc:
            socket.close()
            raise StartupError(f"Could not bind the player relay to {self.address}: {exc}"
                               ) from exc
        self._socket = socket
        self._thread.start()

    def close(self) -> None:
        """Stop the thread (it closes the socket)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _serve(self) -> None:
        socket = self._socket
        assert socket is not None
        try:
            while not self._stop.is_set():
                if not socket.poll(POLL_MS):
                    continue
                request = socket.recv().decode("utf-8", "replace")
                socket.send_string(self.answer(request))
        except zmq.ZMQError:
            if not self._stop.is_set():
                logger.exception("The player relay stopped")
        finally:
            socket.close()

    def answer(self, request: str) -> str:
        """The reply to one request (JSON): ``{"ok": true}``, an asset id, or an error."""
        if request.startswith(SEND):
            command = request[len(SEND):]
            if not ALLOWED.match(command):
                return json.dumps({"ok": False, "error": "not a command the relay passes on"})
            self.messenger.send_to_viewer(command)
            return json.dumps({"ok": True})
        if request == ASK:
            try:
                asset_id = self.messenger.ask_current_asset_id(timeout_s=ASK_TIMEOUT_S)
            except AnthiasError:
                return json.dumps({"ok": False, "error": "the player did not answer"})
            return json.dumps({"ok": True, "current_asset_id": asset_id})
        return json.dumps({"ok": False, "error": "unknown request"})


def start_relay(messenger: Messenger, address: str) -> PlayerRelay:
    """Start a relay on ``address``; one that cannot bind is logged and left closed.

    The server must serve its screen even when the relay's port is taken: only the sync
    agent's commands then fail (each reported as failed to the cloud).
    """
    relay = PlayerRelay(messenger, address)
    try:
        relay.start()
    except StartupError as exc:
        logger.error("%s; commands from the cloud will not reach the player", exc.message)
    return relay
