"""The mpv renderer against a real mpv (no video or audio output) and an ffmpeg test video."""

from __future__ import annotations

import functools
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from player.renderers.mpv import MpvRenderer, audio_device, mpv_command
from tests.player.items import renderer_item
from tests.player.pngcheck import group_members

Item = functools.partial(renderer_item, mimetype="video")


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # No skip when ffmpeg is missing: CI installs it, and a skip would hide these tests.
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is not installed (apt-get install ffmpeg)"
    path = tmp_path_factory.mktemp("video") / "two-seconds.mp4"
    subprocess.run([ffmpeg, "-loglevel", "error", "-f", "lavfi",
                    "-i", "testsrc=duration=2:size=64x48:rate=10", "-pix_fmt", "yuv420p",
                    str(path)], check=True, timeout=60)
    return path


@pytest.fixture
def mpv() -> Iterator[MpvRenderer]:
    executable = shutil.which("mpv")
    assert executable, "mpv is not installed (apt-get install mpv)"
    renderer = MpvRenderer(executable, headless=True)
    renderer.start()
    yield renderer
    renderer.close()


def test_a_video_ends_the_asset_at_its_natural_end(mpv, video):
    started = time.monotonic()
    mpv.show(Item("clip", str(video), duration=1))
    assert mpv.current() == "clip"
    # The asset's duration (1 s) is not used for videos: the 2-second clip plays out.
    outcome = mpv.wait_until_done(1, threading.Event())
    # "ended" is mpv reporting end-of-file; the lower bound says the clip was not cut short.
    assert outcome == "ended"
    assert time.monotonic() - started >= 1.5
    assert mpv.current() is None


def test_next_stops_a_video_before_its_end(mpv, video):
    mpv.show(Item("clip", str(video)))
    interrupt = threading.Event()
    threading.Timer(0.3, interrupt.set).start()
    # "interrupted", not "ended": the 2-second clip was stopped, not played out.
    assert mpv.wait_until_done(30, interrupt) == "interrupted"
    assert mpv.current() is None


def test_a_stream_plays_for_its_duration(mpv, video):
    # A looping local file stands in for a live stream: it never ends by itself.
    mpv.show(Item("live", "av://lavfi:testsrc=size=64x48:rate=10", mimetype="streaming"))
    started = time.monotonic()
    outcome = mpv.wait_until_done(0.5, threading.Event())
    assert outcome == "timeout"
    assert time.monotonic() - started >= 0.4
    assert mpv.current() is None


def test_a_missing_file_ends_at_once(mpv, tmp_path):
    mpv.show(Item("gone", str(tmp_path / "missing.mp4")))
    assert mpv.wait_until_done(30, threading.Event()) == "ended"


def test_audio_output_maps_to_the_alsa_device():
    pi4 = "Raspberry Pi 4 Model B Rev 1.4"
    assert audio_device("local", pi4) == "alsa/plughw:CARD=Headphones"
    assert audio_device("hdmi", pi4) == "alsa/default:CARD=vc4hdmi0"
    assert audio_device("hdmi", "Raspberry Pi Compute Module 4 Rev 1.0") == \
        "alsa/default:CARD=vc4hdmi0"
    assert audio_device("hdmi", "Raspberry Pi 5 Model B Rev 1.0") is None
    assert audio_device("hdmi", "") is None


def test_the_command_line_uses_null_outputs_only_when_headless(tmp_path):
    sock = tmp_path / "s"
    headless = mpv_command("mpv", sock, headless=True, audio="alsa/x")
    screen = mpv_command("mpv", sock, headless=False, audio="alsa/x")
    assert "--vo=null" in headless and "--ao=null" in headless and "--fs" not in headless
    assert "--fs" in screen and "--hwdec=auto" in screen and "--audio-device=alsa/x" in screen
    assert f"--input-ipc-server={sock}" in screen and "--idle=yes" in screen


def test_close_leaves_no_mpv_process(video):
    renderer = MpvRenderer(shutil.which("mpv") or "mpv", headless=True)
    renderer.start()
    renderer.show(Item("clip", str(video)))
    pgid = renderer._process.pid
    assert group_members(pgid)
    renderer.close()
    assert group_members(pgid) == []


def test_on_a_known_screen_mpv_places_one_borderless_window_over_all_of_it(tmp_path):
    # A bare X server has no window manager to honour --fs: mpv is told where and how big.
    command = mpv_command("mpv", tmp_path / "s", headless=False, audio=None,
                          screen_size=(1920, 1080), title="anthias-mpv-1")
    assert "--geometry=1920x1080+0+0" in command and "--no-border" in command
    assert "--force-window=yes" in command and "--title=anthias-mpv-1" in command
    # A named video output: probing it again for each file crashed mpv on X servers.
    assert "--vo=gpu,x11" in command and "--keep-open=always" in command


def test_two_videos_in_a_row_both_end_at_their_natural_end(mpv, video):
    # keep-open pauses at the end of the first; the second must still play to its end.
    for clip in ("first", "second"):
        started = time.monotonic()
        mpv.show(Item(clip, str(video), duration=1))
        assert mpv.wait_until_done(1, threading.Event()) == "ended"
        assert time.monotonic() - started >= 1.5
