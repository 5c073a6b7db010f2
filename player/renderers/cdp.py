"""A minimal Chrome DevTools Protocol client over a stdlib WebSocket.

One connection to the browser endpoint carries every target through flat sessions
(``Target.attachToTarget(flatten=True)``), so the player needs no third-party
WebSocket package. Only what CDP uses is implemented: a client handshake, masked text
frames out, unmasked (possibly fragmented) frames in, ping/pong and close. The endpoint
is always loopback, so there is no TLS.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from anthias_edge.errors import PlayerUnavailable

logger = logging.getLogger(__name__)

_OP_CONT, _OP_TEXT, _OP_BIN, _OP_CLOSE, _OP_PING, _OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class _Reply:
    """One pending command: the reader thread fills ``message`` and sets ``done``."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.message: dict[str, Any] | None = None


class Expectation:
    """A one-shot wait for a CDP event; register it *before* the command that causes it."""

    def __init__(self, method: str, session_id: str | None,
                 predicate: Callable[[dict[str, Any]], bool] | None) -> None:
        self.method = method
        self.session_id = session_id
        self.predicate = predicate
        self.params: dict[str, Any] | None = None
        self._fired = threading.Event()

    def matches(self, method: str, session_id: str | None, params: dict[str, Any]) -> bool:
        """True when an incoming event satisfies this expectation."""
        if method != self.method or session_id != self.session_id:
            return False
        return self.predicate is None or self.predicate(params)

    def fire(self, params: dict[str, Any]) -> None:
        """Record the event and wake the waiter."""
        self.params = params
        self._fired.set()

    def wait(self, timeout: float) -> dict[str, Any] | None:
        """The event's params, or None when it did not arrive within ``timeout`` seconds."""
        return self.params if self._fired.wait(timeout) else None


class CdpClient:
    """A thread-safe CDP connection: ``call`` commands, ``expect`` events."""

    def __init__(self, ws_url: str, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._send_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._pending: dict[int, _Reply] = {}
        self._expectations: list[Expectation] = []
        self._closed = threading.Event()
        self._sock = self._handshake(ws_url, timeout)
        self._rfile = self._sock.makefile("rb")
        self._reader = threading.Thread(target=self._read_loop, name="cdp-reader", daemon=True)
        self._reader.start()

    @staticmethod
    def _handshake(ws_url: str, timeout: float) -> socket.socket:
        parts = urlsplit(ws_url)
        sock = socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        # No Origin header: Chromium only checks --remote-allow-origins when one is sent.
        request = (f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            if not chunk:
                raise PlayerUnavailable(f"DevTools closed during the handshake: {head!r}")
            head += chunk
        if not head.startswith((b"HTTP/1.1 101", b"HTTP/1.0 101")):
            raise PlayerUnavailable(f"DevTools refused the WebSocket upgrade: {head[:80]!r}")
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def call(self, method: str, params: dict[str, Any] | None = None, *,
             session_id: str | None = None, timeout: float | None = None) -> dict[str, Any]:
        """Send one command and return its ``result``; PlayerUnavailable on error or timeout."""
        if self._closed.is_set():
            raise PlayerUnavailable(f"DevTools connection is closed ({method}).")
        command_id = next(self._ids)
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        reply = _Reply()
        with self._state_lock:
            self._pending[command_id] = reply
        try:
            self._send(_OP_TEXT, json.dumps(message).encode())
            if not reply.done.wait(self.timeout if timeout is None else timeout):
                raise PlayerUnavailable(f"DevTools did not answer {method} in time.")
        finally:
            with self._state_lock:
                self._pending.pop(command_id, None)
        answer = reply.message or {}
        if "error" in answer:
            raise PlayerUnavailable(f"DevTools {method} failed: {answer['error'].get('message')}")
        if not answer:
            raise PlayerUnavailable(f"DevTools connection closed during {method}.")
        return answer.get("result", {})

    def expect(self, method: str, session_id: str | None = None,
               predicate: Callable[[dict[str, Any]], bool] | None = None) -> Expectation:
        """Start listening for the next ``method`` event on ``session_id``."""
        expectation = Expectation(method, session_id, predicate)
        with self._state_lock:
            self._expectations.append(expectation)
        return expectation

    def forget(self, expectation: Expectation) -> None:
        """Stop listening for an expectation that is no longer wanted (e.g. after a timeout)."""
        with self._state_lock:
            if expectation in self._expectations:
                self._expectations.remove(expectation)

    @property
    def closed(self) -> bool:
        """True once the connection has ended, from either side."""
        return self._closed.is_set()

    def close(self) -> None:
        """Close the socket; pending calls fail at once."""
        if self._closed.is_set():
            return
        with contextlib.suppress(OSError):
            self._send(_OP_CLOSE, struct.pack("!H", 1000))
        self._shutdown()
        self._reader.join(timeout=2)

    def _shutdown(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        with self._state_lock:
            for reply in self._pending.values():
                reply.done.set()

    def _send(self, opcode: int, payload: bytes) -> None:
        # Client frames must be masked (RFC 6455 5.3).
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if length < 4096 \
            else _mask_fast(payload, mask)
        with self._send_lock:
            self._sock.sendall(header + mask + masked)

    def _read_exact(self, size: int) -> bytes:
        data = self._rfile.read(size)
        if data is None or len(data) < size:
            raise ConnectionError("DevTools closed the connection")
        return data

    def _read_message(self) -> bytes | None:
        parts: list[bytes] = []
        while True:
            first, second = self._read_exact(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read_exact(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read_exact(8))
            mask = self._read_exact(4) if second & 0x80 else b""
            payload = self._read_exact(length)
            if mask:
                payload = _mask_fast(payload, mask)
            if opcode == _OP_CLOSE:
                return None
            if opcode == _OP_PING:
                self._send(_OP_PONG, payload)
                continue
            if opcode == _OP_PONG:
                continue
            parts.append(payload)
            if first & 0x80:
                return b"".join(parts)

    def _read_loop(self) -> None:
        try:
            while (raw := self._read_message()) is not None:
                self._dispatch(json.loads(raw))
        except (OSError, ConnectionError, ValueError) as ex:
            if not self._closed.is_set():
                logger.warning("DevTools connection lost: %s", ex)
        finally:
            self._shutdown()

    def _dispatch(self, message: dict[str, Any]) -> None:
        if "id" in message:
            with self._state_lock:
                reply = self._pending.get(message["id"])
            if reply is not None:
                reply.message = message
                reply.done.set()
            return
        method, session_id = message.get("method", ""), message.get("sessionId")
        params = message.get("params", {})
        with self._state_lock:
            fired = [e for e in self._expectations if e.matches(method, session_id, params)]
            for expectation in fired:
                self._expectations.remove(expectation)
        for expectation in fired:
            expectation.fire(params)


def _mask_fast(payload: bytes, mask: bytes) -> bytes:
    # XOR through one big integer: far faster than a Python loop for screenshot-sized frames.
    repeated = (mask * (len(payload) // 4 + 1))[: len(payload)]
    value = int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")
    return value.to_bytes(len(payload), "big")
