"""Shared media fixtures: a loopback web server and a real video made by ffmpeg."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest


class _Handler(http.server.BaseHTTPRequestHandler):
    """200 on ``/ok``; on ``/get-only`` 405 to HEAD but 200 to GET; 404 everywhere else."""

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, *, head: bool) -> None:
        if self.path == "/ok" or (self.path == "/get-only" and not head):
            status = 200
        elif self.path == "/get-only":
            status = 405
        else:
            status = 404
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def web_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Base URL of a web server on 127.0.0.1 (paths as :class:`_Handler` says)."""
    # A proxy from the developer's shell must not intercept loopback probes.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def video_file(tmp_path: Path) -> Path:
    """A real two-second MP4 made by ffmpeg, which CI installs (never skipped)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None or shutil.which("ffprobe") is None:
        pytest.fail("ffmpeg and ffprobe must be installed to test video durations")
    path = tmp_path / "clip.mp4"
    subprocess.run(
        [ffmpeg, "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=duration=2:size=64x48:rate=10",
         "-pix_fmt", "yuv420p", str(path)],
        check=True, timeout=60,
    )
    return path
