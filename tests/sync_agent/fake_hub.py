"""A small HTTP server on a real loopback socket whose answers a test scripts one by one.

Each request takes the next ``Reply`` from the script (the last one repeats): a status with
headers and a body, an answer cut off after some bytes, a pause before answering, or a
connection closed without a word. It records what it received, so a test can check the
requests the agent made (method, path, headers, body).
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Send only this many bytes of the body (Content-Length still says all), then close.
    cut_after: int | None = None
    # Wait this long before sending anything.
    delay_s: float = 0.0
    # Close the connection without answering.
    close: bool = False


@dataclass
class Received:
    """One request as the server read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class FakeHub:
    """The server: ``script`` the replies, read ``received``, ``url`` to connect."""

    def __init__(self) -> None:
        self.replies: list[Reply] = [Reply()]
        self.received: list[Received] = []
        self._lock = threading.Lock()
        hub = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                while hub._serve_one(self.rfile, self.connection):
                    pass

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies`` in turn (the last one repeats)."""
        with self._lock:
            self.replies = list(replies)

    def _next(self) -> Reply:
        with self._lock:
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def _serve_one(self, rfile: socketserver.StreamRequestHandler, conn: socket.socket) -> bool:
        line = rfile.readline()
        if not line:
            return False
        method, path, _ = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (header := rfile.readline().decode("latin-1").strip()):
            name, _, value = header.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = rfile.read(int(headers.get("content-length", "0") or 0))
        with self._lock:
            self.received.append(Received(method, path, headers, body))
        reply = self._next()
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.close:
            conn.shutdown(socket.SHUT_RDWR)
            return False
        head = [f"HTTP/1.1 {reply.status} Scripted", f"Content-Length: {len(reply.body)}"]
        head += [f"{name}: {value}" for name, value in reply.headers.items()]
        payload = "\r\n".join(head).encode("latin-1") + b"\r\n\r\n"
        if method != "HEAD":
            payload += reply.body if reply.cut_after is None else reply.body[:reply.cut_after]
        try:
            conn.sendall(payload)
        except OSError:
            return False
        if reply.cut_after is not None:
            conn.shutdown(socket.SHUT_RDWR)
            return False
        return True

    def start(self) -> None:
        """Listen and serve in a thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def fake_hub() -> Iterator[FakeHub]:
    """A running FakeHub for the block."""
    hub = FakeHub()
    hub.start()
    try:
        yield hub
    finally:
        hub.stop()


def closed_port_url() -> str:
    """The URL of a loopback port where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
