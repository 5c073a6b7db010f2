"""The player filmed on a session: a solid-colour playlist, a run of switches, the frames.

Used by the screen tests (tests/player/test_screen.py films a bare X server,
tests/player/test_screen_sessions.py a desktop session with a window manager and the cage
kiosk compositor). The sessions themselves are started here too: openbox on an Xvfb, and
cage nested in an Xvfb through wlroots' X11 backend, so every one is filmed with
ffmpeg's x11grab on the outer X server.
"""

from __future__ import annotations

import datetime as dt
import http.server
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from player.loop import PlayLoop
from player.renderers import MediaRouter, Renderer, choose_renderer
from player.rotation import PlayItem, Rotation
from player.screen import wayland_answers
from player.stacking import WindowRaiser
from tests.player.pngcheck import solid_png
from tests.player.screen_capture import (
    Frame,
    Label,
    Recorder,
    TimedRecorder,
    classify,
    end_process,
    save_png,
    solid_video,
)

PALETTE = {"green": (0, 128, 0), "red": (255, 0, 0), "blue": (0, 0, 255),
           "magenta": (255, 0, 255)}
PAGE = b"<html><body style='margin:0;background:rgb(0,128,0)'></body></html>"
START, END = dt.datetime(2020, 1, 1), dt.datetime(2099, 1, 1)
SESSION_START_TIMEOUT_S = 20.0


class _Green(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""


@contextmanager
def green_page() -> Iterator[str]:
    """A local web page that is plain green; yields its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Green)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _item(asset_id: str, uri: str, mimetype: str, order: int, duration: float) -> PlayItem:
    return PlayItem(asset_id, name=asset_id, uri=uri, mimetype=mimetype, duration=duration,
                    start_date=START, end_date=END, is_enabled=True, skip_asset_check=True,
                    play_order=order)


def colour_playlist(folder: Path, page_url: str, size: tuple[int, int]) -> list[PlayItem]:
    """A web page (green), two videos (blue, magenta) and an image (red), in that order.

    Videos and image have the screen's shape, so that kept aspect ratios (black bars)
    never pass for a window that does not cover the screen.
    """
    image = solid_png(folder / "red.png", size[0] // 4, size[1] // 4, PALETTE["red"])
    return [_item("web", page_url, "webpage", 0, 1.5),
            _item("video-blue", str(solid_video(folder / "blue.mp4", "blue", 1.5, size)),
                  "video", 1, 1),
            _item("video-magenta",
                  str(solid_video(folder / "magenta.mp4", "magenta", 1.5, size)), "video", 2, 1),
            _item("image", str(image), "image", 3, 1.5)]


@dataclass
class Film:
    """What a filmed run produced: the frames with their labels, the play events and the
    renderers the play loop made (more than one means it restarted them)."""

    frames: list[Frame]
    labels: list[Label]
    events: list[tuple[float, str, str]]
    renderers: list[Renderer]

    @property
    def media_restarts(self) -> int:
        """How many times mpv alone was restarted."""
        return sum(r.media_restarts for r in self.renderers if isinstance(r, MediaRouter))

    def save_odd_frames(self, folder: Path) -> None:
        """Write every blank or partly covered frame as a PNG, for a person to look at."""
        for index, label in enumerate(self.labels):
            if not label.full or label.blank:
                save_png(self.frames[index].rgb, folder / f"frame-{index:04d}.png")


def film_player(film_display: str, size: tuple[int, int], items: list[PlayItem], starts: int,
                fps: int = 10, timeout_s: float = 90.0) -> Film:
    """Run the real player (Chromium and mpv) on ``items`` until ``starts`` assets have
    started, filming ``film_display`` from the first asset on.

    The player finds its screen from the environment (``DISPLAY``, ``WAYLAND_DISPLAY``).
    """
    made: list[Renderer] = []

    def make_renderer() -> Renderer:
        made.append(choose_renderer("auto"))
        return made[-1]

    recorder = TimedRecorder()
    loop = PlayLoop(Rotation(lambda: items, dt.UTC), make_renderer, recorder=recorder,
                    splash_at_start=False)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    # Film from the first asset on: start-up is measured by benchmarks/player.py.
    while not recorder.events and time.monotonic() < deadline:
        time.sleep(0.05)
    camera = Recorder(film_display, size, fps=fps)
    try:
        while sum(1 for _, kind, _ in recorder.events if kind == "start") < starts:
            assert time.monotonic() < deadline, recorder.events
            time.sleep(0.05)
    finally:
        frames = camera.stop()
        loop.shutdown()
        thread.join(30)
    return Film(frames, [classify(frame.rgb, PALETTE) for frame in frames],
                recorder.events, made)


def _wait_for(predicate, what: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SESSION_START_TIMEOUT_S
    while not predicate():
        assert process.poll() is None, f"{what} exited with code {process.returncode}"
        assert time.monotonic() < deadline, f"{what} did not start"
        time.sleep(0.05)


@contextmanager
def openbox(display: str) -> Iterator[None]:
    """openbox managing ``display``: a desktop session's stacking window manager."""
    executable = shutil.which("openbox")
    assert executable, "openbox is not installed (apt-get install openbox)"
    process = subprocess.Popen([executable], env={**os.environ, "DISPLAY": display},
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    probe = WindowRaiser(display, "")
    try:
        _wait_for(probe.managed, "openbox", process)
        yield
    finally:
        probe.close()
        end_process(process)


@contextmanager
def cage(display: str) -> Iterator[dict[str, str]]:
    """cage on ``display`` (its output is a window there); yields the environment a
    client needs to reach it (``WAYLAND_DISPLAY``, ``XDG_RUNTIME_DIR``).

    cage refuses to run as root, so under root (CI) it runs as ``nobody``; root's
    clients can still open its socket.
    """
    executable = shutil.which("cage")
    assert executable, "cage is not installed (apt-get install cage)"
    runtime_dir = Path(tempfile.mkdtemp(prefix="anthias-cage-"))
    command = [executable, "--", "sleep", "infinity"]
    if os.geteuid() == 0:
        shutil.chown(runtime_dir, "nobody", "nogroup")
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *command]
    client_env = {"WAYLAND_DISPLAY": "wayland-0", "XDG_RUNTIME_DIR": str(runtime_dir)}
    # The X11 backend nests cage in the Xvfb; pixman renders without a GPU.
    process = subprocess.Popen(command, env={**os.environ, **client_env, "DISPLAY": display,
                                             "WLR_BACKENDS": "x11", "WLR_RENDERER": "pixman"},
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for(lambda: wayland_answers(client_env), "cage", process)
        yield client_env
    finally:
        end_process(process)
        shutil.rmtree(runtime_dir, ignore_errors=True)
        _remove_xwayland_files(process.pid)


def _remove_xwayland_files(pid: int) -> None:
    """Remove the X display lock and socket cage made for Xwayland: it leaves them behind."""
    for lock in Path("/tmp").glob(".X*-lock"):
        try:
            owner = int(lock.read_text().strip("\0 \n"))
        except (OSError, ValueError):
            continue
        if owner == pid:
            number = lock.name[2:-len("-lock")]
            Path(f"/tmp/.X11-unix/X{number}").unlink(missing_ok=True)
            lock.unlink(missing_ok=True)
