"""Small helpers the API tests share (imported as ``tests.helpers``)."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ACTIVE = {"start_date": "2019-08-24T14:15:22Z", "end_date": "2099-08-24T14:15:22Z"}
# The keys of a v1-family asset, in Anthias's order (docs/legacy-api.md §3.1): the contract the
# tests hold the formatter to, so written out here rather than imported from it.
V1_KEYS = ["asset_id", "name", "uri", "start_date", "end_date", "duration", "mimetype",
           "is_enabled", "nocache", "play_order", "skip_asset_check", "is_active", "is_processing"]


def v2_asset(**fields: Any) -> dict[str, Any]:
    """A valid v2 create body for an active web page; override any field."""
    body = {"name": "Anthias", "uri": "https://anthias.screenly.io", **ACTIVE, "duration": 20,
            "mimetype": "webpage", "is_enabled": True, "nocache": False, "play_order": 0,
            "skip_asset_check": True}
    body.update(fields)
    return body


def v1_2_asset(**fields: Any) -> dict[str, Any]:
    """A valid v1.2 create body (JSON, 0/1 flags) for a disabled web page; override any field."""
    body = {"name": "Anthias", "uri": "https://anthias.screenly.io", **ACTIVE, "duration": "20",
            "mimetype": "webpage", "is_enabled": 0, "nocache": 0, "play_order": 0,
            "skip_asset_check": 1}
    body.update(fields)
    return body


def free_ports(count: int) -> list[int]:
    """Distinct loopback TCP ports nothing listens on right now.

    The sockets stay open until all are chosen: the kernel may hand a just-closed
    port out again, and the server's HTTP port must never be its ZeroMQ port.
    """
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def v1_model(**fields: Any) -> dict[str, str]:
    """A v1/v1.1 create form: the asset as a JSON string in ``model``."""
    model = {"name": "Anthias", "uri": "https://anthias.screenly.io", **ACTIVE, "duration": "20",
             "mimetype": "webpage", "is_enabled": 1, "skip_asset_check": 1}
    model.update(fields)
    return {"model": json.dumps(model)}


def basic(user: str, password: str) -> dict[str, str]:
    """An Authorization header for HTTP Basic."""
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def viewer_commands(viewer: Any, timeout_s: float = 0.5) -> list[str]:
    """The commands a ``ViewerEndpoint`` receives within ``timeout_s``, in order."""
    commands, deadline = [], time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        message = viewer.receive(timeout_s=0.05)
        if message is not None:
            commands.append(message.command)
    return commands


def in_asset_folder(client: Any, path: Path) -> Path:
    """Copy a file into the server's asset folder, where local assets must live."""
    target = client.application.extensions["anthias"].settings.asset_dir / path.name
    shutil.copyfile(path, target)
    return target


@contextlib.contextmanager
def serve_wsgi(app: Any, threads: int = 4) -> Iterator[str]:
    """Serve ``app`` with waitress on a free 127.0.0.1 port in a thread; yield its base URL.

    Only the loop's own thread touches waitress's socket map: closing the server from the test's
    thread while the loop polls it raced (an exception in the loop thread failed a test).
    """
    import waitress
    from waitress import wasyncore

    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)
        for dispatcher in list(server._map.values()):  # the listener, its trigger, open channels
            dispatcher.close()
        server.task_dispatcher.shutdown()

    thread = threading.Thread(target=serve, name="test-waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the test server did not stop within 10 s"
