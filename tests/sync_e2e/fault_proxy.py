"""A TCP proxy between a sync agent and the hub that injects faults, switchable at run time.

Modes (``proxy.mode = ...``), applied to every connection and, for an open keep-alive
connection, to each request and answer as it passes:

- ``pass``: forward both ways.
- ``drop``: close connections as they come (and an open one when its next request arrives).
- ``delay``: hold each answer ``delay_s`` before forwarding it (the hub has done the work
  already, so an agent giving up or killed meanwhile never learns of it).
- ``5xx``: answer ``503`` itself, never reaching the hub.
- ``cut``: forward the request, then send only the first part of the answer and close.
- ``down``: stop listening at all (connections are refused) until another mode is set.

It counts what it did per mode, and sets ``push_in_flight`` while a ``POST /push`` waits for
the hub's answer (the kill -9 test kills the agent then). Threads only: the proxy lives in
the test process.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter

MODES = ("pass", "drop", "delay", "5xx", "cut", "down")
CHUNK = 65536
_FAULT_BODY = b'{"error": {"code": "proxy_fault", "message": "injected 503", "details": {}}}'
SERVICE_UNAVAILABLE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                       + f"Content-Length: {len(_FAULT_BODY)}\r\n".encode()
                       + b"Connection: close\r\n\r\n" + _FAULT_BODY)


class FaultProxy:
    """Listens on 127.0.0.1 (a free port, kept across ``down``), forwards to ``upstream``."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.delay_s = 2.0
        self.counts: Counter[str] = Counter()
        self.push_in_flight = threading.Event()
        self._mode = "pass"
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._listener: socket.socket | None = None
        self._connections: set[socket.socket] = set()
        self.port = self._listen(0)
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True,
                                          name="fault-proxy")
        self._acceptor.start()

    @property
    def url(self) -> str:
        """The base URL agents are given."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        with self._lock:
            previous, self._mode = self._mode, mode
            if mode == "down" and previous != "down":
                self._close_listener()
                self._close_connections()
            elif mode != "down" and previous == "down":
                self._listen(self.port)
            elif mode in ("drop", "5xx", "cut"):
                # Keep-alive connections made in another mode must meet the new one too.
                self._close_connections()

    def close(self) -> None:
        """Stop listening and close every connection."""
        self._stopped.set()
        with self._lock:
            self._close_listener()
            self._close_connections()

    # -- listening ---------------------------------------------------------------------------

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        return listener.getsockname()[1]

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _close_connections(self) -> None:
        for conn in list(self._connections):
            _close(conn)
        self._connections.clear()

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            listener = self._listener
            if listener is None:
                self._stopped.wait(0.05)
                continue
            try:
                client, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            mode = self._mode
            self.counts[f"connect:{mode}"] += 1
            if mode == "drop":
                _close(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    # -- one connection ----------------------------------------------------------------------

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream, timeout=10)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self._connections.update((client, upstream))
        threading.Thread(target=self._answers, args=(upstream, client), daemon=True).start()
        try:
            while True:
                data = client.recv(CHUNK)
                if not data:
                    break
                mode = self._mode
                if mode in ("drop", "down"):
                    self.counts[f"request:{mode}"] += 1
                    break
                if mode == "5xx" and _starts_request(data):
                    self.counts["request:5xx"] += 1
                    client.sendall(SERVICE_UNAVAILABLE)
                    break
                if data.startswith(b"POST /api/v3/sync/push"):
                    self.push_in_flight.set()
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _close(client)
            _close(upstream)

    def _answers(self, upstream: socket.socket, client: socket.socket) -> None:
        try:
            while True:
                data = upstream.recv(CHUNK)
                if not data:
                    break
                mode = self._mode
                if mode == "delay" and data.startswith(b"HTTP/"):
                    self.counts["answer:delay"] += 1
                    self._stopped.wait(self.delay_s)
                if mode == "cut" and data.startswith(b"HTTP/"):
                    self.counts["answer:cut"] += 1
                    client.sendall(data[:max(1, len(data) // 2)])
                    break
                client.sendall(data)
                if data.startswith(b"HTTP/"):
                    self.push_in_flight.clear()
        except OSError:
            pass
        finally:
            self.push_in_flight.clear()
            _close(client)
            _close(upstream)


def _starts_request(data: bytes) -> bool:
    return data.split(b" ", 1)[0] in (b"GET", b"POST", b"PUT", b"HEAD", b"DELETE", b"PATCH")


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
