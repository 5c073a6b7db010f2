"""The media router on real headless Chromium and mpv: an mpv that dies is replaced alone."""

from __future__ import annotations

import os
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from player.renderers import MediaRouter, find_chromium
from player.renderers.browser import BrowserRenderer
from player.renderers.mpv import MpvRenderer
from tests.player.items import renderer_item
from tests.player.pngcheck import solid_png
from tests.player.screen_capture import solid_video


@pytest.fixture
def router() -> Iterator[MediaRouter]:
    chromium, mpv = find_chromium(), shutil.which("mpv")
    assert chromium and mpv, "Chromium and mpv must be installed (CI installs them)"
    routed = MediaRouter(BrowserRenderer(chromium, headless=True, window_size=(320, 180)),
                         MpvRenderer(mpv, headless=True))
    routed.start()
    yield routed
    routed.close()


def test_a_dead_mpv_is_restarted_alone_while_chromium_keeps_its_picture(router, tmp_path: Path):
    image = renderer_item("image", str(solid_png(tmp_path / "red.png", 32, 18, (255, 0, 0))),
                          mimetype="image")
    video = renderer_item("video", str(solid_video(tmp_path / "blue.mp4", "blue", 1, (64, 36))),
                          mimetype="video")
    browser = router.browser
    assert isinstance(browser, BrowserRenderer) and browser._process is not None
    chromium_pid = browser._process.pid
    router.show(image)
    media = router.media
    assert isinstance(media, MpvRenderer) and media._process is not None
    os.killpg(media._process.pid, signal.SIGKILL)  # mpv crashes while the image shows
    media._process.wait(10)

    # Back to a video: mpv is started again, the image stays up meanwhile, no error.
    router.show(video)
    assert router.current() == "video"
    assert router.wait_until_done(10, threading.Event()) == "ended"
    assert router.media_restarts == 1

    # Leaving a video whose mpv died: the next asset shows and mpv is back for the next.
    os.killpg(media._process.pid, signal.SIGKILL)
    media._process.wait(10)
    router.show(image)
    assert router.current() == "image"
    assert router.media_restarts == 2
    assert browser._process.pid == chromium_pid and browser._process.poll() is None
