"""The player on a real screen: Xvfb without a window manager, real Chromium and mpv, filmed.

A bare X server is how many Pi kiosks run, and where ``--kiosk`` and ``--fs`` have no
window manager to ask for full screen. The assets are solid colours (a web page, an
image, two videos); ffmpeg films the display and every frame is classified: each asset
must cover the whole screen, no frame between two assets may be black, white or only
partly covered, and the renderers must never be restarted.
"""

from __future__ import annotations

import datetime as dt
import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from player.loop import PlayLoop
from player.renderers import MediaRouter, choose_renderer
from player.schedule import PlayItem, Scheduler
from player.screen import Screen, detect_screen
from tests.player.pngcheck import solid_png
from tests.player.screen_capture import (
    Recorder,
    TimedRecorder,
    classify,
    runs,
    save_png,
    solid_video,
    xvfb,
)

SIZE = (1280, 720)
PALETTE = {"green": (0, 128, 0), "red": (255, 0, 0), "blue": (0, 0, 255),
           "magenta": (255, 0, 255)}
PAGE = b"<html><body style='margin:0;background:rgb(0,128,0)'></body></html>"
START, END = dt.datetime(2020, 1, 1), dt.datetime(2099, 1, 1)


class _Green(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@pytest.fixture
def page_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Green)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with xvfb(SIZE) as name:
        monkeypatch.setenv("DISPLAY", name)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield name


def _item(asset_id: str, uri: str, mimetype: str, order: int, duration: float) -> PlayItem:
    return PlayItem(asset_id, name=asset_id, uri=uri, mimetype=mimetype, duration=duration,
                    start_date=START, end_date=END, is_enabled=True, skip_asset_check=True,
                    play_order=order)


def test_every_asset_fills_a_bare_x_screen_with_no_blank_frame_between_them(
        display, page_url, tmp_path):
    image = solid_png(tmp_path / "red.png", 320, 180, PALETTE["red"])
    items = [_item("web", page_url, "webpage", 0, 1.5),
             _item("video-blue", str(solid_video(tmp_path / "blue.mp4", "blue", 1.5)),
                   "video", 1, 1),
             _item("video-magenta", str(solid_video(tmp_path / "magenta.mp4", "magenta", 1.5)),
                   "video", 2, 1),
             _item("image", str(image), "image", 3, 1.5)]
    made: list[object] = []

    def make_renderer():
        made.append(choose_renderer("auto"))
        return made[-1]

    recorder = TimedRecorder()
    loop = PlayLoop(Scheduler(lambda: items, dt.UTC), make_renderer, recorder=recorder,
                    splash_at_start=False)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    # Film from the first asset on: start-up is measured by benchmarks/player.py.
    deadline = time.monotonic() + 60
    while not recorder.events and time.monotonic() < deadline:
        time.sleep(0.05)
    film = Recorder(display, SIZE, fps=10)
    try:
        # Four turns of the playlist: 16 switches, 8 into a video and 8 out of one.
        while sum(1 for _, kind, _ in recorder.events if kind == "start") < 17:
            assert time.monotonic() < deadline, recorder.events
            time.sleep(0.05)
    finally:
        frames = film.stop()
        loop.shutdown()
        thread.join(30)
    labels = [classify(frame.rgb, PALETTE) for frame in frames]
    sequence = runs(labels)
    for index, label in enumerate(labels):
        if not label.full or label.blank:
            save_png(frames[index].rgb, tmp_path / f"frame-{index:04d}.png")
    assert len(made) == 1, "the renderers were restarted"
    router = made[0]
    assert isinstance(router, MediaRouter)
    assert router.media_restarts == 0, "mpv was restarted"
    assert not [e for e in recorder.events if e[1].startswith("skipped")], recorder.events
    # Every frame shows one asset over the whole screen: never black, white or partial.
    assert all(kind in PALETTE for kind, _ in sequence), f"frames by kind: {sequence}"
    # Every asset was seen, in playlist order, through the run.
    shown = [kind for kind, _ in sequence]
    assert {"green", "blue", "magenta", "red"} <= set(shown), sequence
    assert len(shown) >= 12, sequence


def test_the_screen_size_is_read_from_the_x_server(display):
    assert detect_screen() == Screen("x11", *SIZE)


def test_with_both_variables_set_but_no_x_server_the_screen_is_wayland():
    # The systemd unit sets DISPLAY and WAYLAND_DISPLAY; under cage without Xwayland
    # only Wayland answers, and Chromium must then not be told to use X11.
    screen = detect_screen({"DISPLAY": ":4711", "WAYLAND_DISPLAY": "wayland-0"})
    assert screen == Screen("wayland")
    assert detect_screen({}) == Screen("none")
