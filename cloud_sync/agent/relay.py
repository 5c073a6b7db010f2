"""The agent's messenger: commands reach the player through the server's relay.

Implements ``anthias_edge.messaging.Messenger`` over a REQ socket to the server's
``PlayerRelay`` (the ``zmq_relay`` setting). A server that does not answer within the timeout
makes ``send_to_viewer`` raise PlayerUnavailable (the command is then reported as failed, not
silently lost) and ``ask_current_asset_id`` too; the socket is rebuilt after a timeout, since a
REQ socket that lost its reply can send nothing more.
"""

from __future__ import annotations

import json
import threading
from types import TracebackType
from typing import Self

import zmq

from anthias_edge.errors import PlayerUnavailable

TIMEOUT_S = 2.0


class RelayMessenger:
    """Send player commands and questions to the server's relay."""

    def __init__(self, address: str, timeout_s: float = TIMEOUT_S) -> None:
        """``address`` is the server's ``zmq_relay`` (with its real port)."""
        self.address = address
        self.timeout_s = timeout_s
        self._context = zmq.Context.instance()
        self._socket: zmq.Socket | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Connect (ZeroMQ connects lazily: the server need not be up yet)."""
        with self._lock:
            self._connect()

    def close(self) -> None:
        """Close the socket; safe to call twice."""
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    def send_to_viewer(self, command: str) -> None:
        """Have the server publish ``viewer <command>`` to the player."""
        reply = self._request(f"send {command}")
        if not reply.get("ok"):
            raise PlayerUnavailable(f"The server did not pass the command on: "
                                    f"{reply.get('error') or 'no reason given'}.")

    def send_to_websocket(self, payload: str) -> None:
        """The web UI's live updates are the server's business: nothing to do here."""

    def ask_current_asset_id(self, timeout_s: float = 2.0) -> str | None:
        """What the player shows now (None: nothing); PlayerUnavailable when nobody answers."""
        reply = self._request("ask current_asset_id", timeout_s + 0.5)
        if not reply.get("ok"):
            raise PlayerUnavailable(f"{reply.get('error') or 'The player did not answer'}.")
        asset_id = reply.get("current_asset_id")
        return asset_id if isinstance(asset_id, str) and asset_id else None

    def _connect(self) -> zmq.Socket:
        if self._socket is None:
            socket = self._context.socket(zmq.REQ)
            socket.setsockopt(zmq.LINGER, 0)
            socket.connect(self.address)
            self._socket = socket
        return self._socket

    def _request(self, text: str, timeout_s: float | None = None) -> dict:
        with self._lock:
            socket = self._connect()
            socket.send_string(text)
            if not socket.poll(int((timeout_s or self.timeout_s) * 1000)):
                socket.close()
                self._socket = None
                raise PlayerUnavailable("The server did not answer (is anthias-edge serve "
                                        "running?).")
            raw = socket.recv()
        try:
            reply = json.loads(raw)
        except ValueError:
            raise PlayerUnavailable("The server's answer could not be read.") from None
        return reply if isinstance(reply, dict) else {}
