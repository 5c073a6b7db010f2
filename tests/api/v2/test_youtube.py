"""YouTube assets through ``yt-dlp``, with a stand-in ``yt-dlp`` on PATH
(docs/legacy-api.md §4.3)."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import zmq

from anthias_edge.jobs import start_jobs, stop_jobs
from tests.api.v2.conftest import wait_for
from tests.helpers import v2_asset

YOUTUBE = "https://www.youtube.com/watch?v=aqz-KE-bpKQ"

STAND_IN = """#!/bin/sh
# Answers like yt-dlp: details with --skip-download, else writes the -o target.
case " $* " in
  *" --skip-download "*) printf 'Big Buck Bunny\\n635.2\\n'; exit 0 ;;
esac
while [ $# -gt 0 ]; do
  if [ "$1" = "-o" ]; then shift; printf 'downloaded mp4' > "$1"; fi
  shift
done
"""


def youtube_body() -> dict:
    return v2_asset(name="ignored", uri=YOUTUBE, mimetype="youtube_asset", duration=10)


@pytest.fixture
def websocket(runtime) -> Iterator[zmq.Socket]:
    """A subscriber to the server's ``ws_server`` messages, proven to receive."""
    context = zmq.Context()
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt_string(zmq.SUBSCRIBE, "ws_server")
    socket.connect(runtime.messenger.publisher_endpoint)
    for _ in range(200):  # ZeroMQ's slow joiner
        runtime.messenger.send_to_websocket("probe")
        if socket.poll(50):
            break
    else:
        pytest.fail("the websocket subscriber never received")
    while socket.poll(50):
        socket.recv()
    yield socket
    socket.close()
    context.term()


@pytest.fixture
def yt_dlp_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "yt-dlp"
    script.write_text(STAND_IN)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{folder}:/usr/bin:/bin")
    return script


@pytest.fixture
def background_jobs(runtime) -> Iterator[None]:
    """The server's real background runner, as ``anthias-edge serve`` starts it."""
    start_jobs(runtime)
    yield
    stop_jobs(runtime)


def test_without_yt_dlp_a_youtube_asset_is_a_clear_500(client, runtime, tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    response = client.post("/api/v2/assets", json=youtube_body())
    assert response.status_code == 500
    assert response.get_json() == {
        "error": "YouTube assets need yt-dlp, which is not installed on this device."}
    assert client.get("/api/v2/assets").get_json() == []


def test_a_youtube_asset_is_created_processing_then_downloaded_and_announced(
        client, runtime, yt_dlp_on_path, background_jobs, websocket):
    response = client.post("/api/v2/assets", json=youtube_body())
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert (created["name"], created["mimetype"], created["duration"]) == (
        "Big Buck Bunny", "video", 635)
    assert created["uri"] == str(runtime.settings.asset_dir / created["asset_id"])
    assert websocket.poll(10_000), "no ws_server message after the download"
    assert websocket.recv_string() == f"ws_server {created['asset_id']}"
    shown = client.get(f"/api/v2/assets/{created['asset_id']}").get_json()
    assert shown["is_processing"] is False
    assert Path(shown["uri"]).read_bytes() == b"downloaded mp4"


def test_the_created_youtube_asset_is_processing_until_the_download_ends(
        client, runtime, yt_dlp_on_path):
    queued = []
    runtime.run_in_background = queued.append  # hold the download back
    created = client.post("/api/v2/assets", json=youtube_body()).get_json()
    assert created["is_processing"] is True
    assert client.get(f"/api/v2/assets/{created['asset_id']}").get_json()["is_processing"] is True
    assert len(queued) == 1
    with runtime.database.connection_context():
        queued[0]()
    wait_for(lambda: Path(created["uri"]).exists())
    assert client.get(f"/api/v2/assets/{created['asset_id']}").get_json()["is_processing"] is False


def test_a_failing_yt_dlp_is_a_clear_500(client, runtime, tmp_path, monkeypatch):
    folder = tmp_path / "broken-bin"
    folder.mkdir()
    script = folder / "yt-dlp"
    script.write_text("#!/bin/sh\necho 'ERROR: Video unavailable' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(folder))
    response = client.post("/api/v2/assets", json=youtube_body())
    assert response.status_code == 500
    assert response.get_json() == {"error": "Could not read that YouTube video."}
