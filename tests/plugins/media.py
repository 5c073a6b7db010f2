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
    """``/ok`` answers 200; every other path answers 404."""

    def _answer(self) -> None:
        self.send_response(200 if self.path == "/ok" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def web_server() -> Iterator[str]:
    """Base URL of a web server on 127.0.0.1 where only ``/ok`` exists."""
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
