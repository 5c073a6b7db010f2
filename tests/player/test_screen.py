"""The player on a real screen: Xvfb without a window manager, real Chromium and mpv, filmed.

A bare X server is how many Pi kiosks run, and where ``--kiosk`` and ``--fs`` have no
window manager to ask for full screen. The assets are solid colours (a web page, an
image, two videos); ffmpeg films the display and every frame is classified: each asset
must cover the whole screen, no frame between two assets may be black, white or only
partly covered, and the renderers must never be restarted.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from player.renderers import MediaRouter, find_chromium
from player.renderers.browser import BrowserRenderer
from player.screen import Screen, detect_screen
from tests.player.items import renderer_item
from tests.player.pngcheck import solid_png
from tests.player.screen_capture import runs, xvfb
from tests.player.screen_sessions import PALETTE, colour_playlist, film_player, green_page

SIZE = (1280, 720)


@pytest.fixture
def page_url() -> Iterator[str]:
    with green_page() as url:
        yield url


@pytest.fixture
def display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with xvfb(SIZE) as name:
        monkeypatch.setenv("DISPLAY", name)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield name


def test_every_asset_fills_a_bare_x_screen_with_no_blank_frame_between_them(
        display, page_url, tmp_path):
    # Four turns of the playlist: 16 switches, 8 into a video and 8 out of one.
    film = film_player(display, SIZE, colour_playlist(tmp_path, page_url, SIZE), starts=17)
    film.save_odd_frames(tmp_path)
    sequence = runs(film.labels)
    assert len(film.renderers) == 1, "the renderers were restarted"
    assert isinstance(film.renderers[0], MediaRouter)
    assert film.media_restarts == 0, "mpv was restarted"
    assert not [e for e in film.events if e[1].startswith("skipped")], film.events
    # Every frame shows one asset over the whole screen: never black, white or partial.
    assert all(kind in PALETTE for kind, _ in sequence), f"frames by kind: {sequence}"
    # Every asset was seen, in playlist order, through the run.
    shown = [kind for kind, _ in sequence]
    assert {"green", "blue", "magenta", "red"} <= set(shown), sequence
    assert len(shown) >= 12, sequence


def test_the_page_off_screen_stays_painted_so_a_switch_shows_it_at_once(display, tmp_path):
    # A hidden tab drops its painted tiles, and a tab shown again showed its background
    # (black on the image stage) for a frame under load. On X11 each target has a window
    # of its own: the one under the other is still visible to Chromium, so it keeps (and
    # paints) the next asset before it is raised.
    executable = find_chromium()
    assert executable, "Chromium is not installed (apt-get install chromium)"
    renderer = BrowserRenderer(executable, screen=Screen("x11", *SIZE))
    renderer.start()
    try:
        for name, colour in (("red", (255, 0, 0)), ("blue", (0, 0, 255))):
            image = solid_png(tmp_path / f"{name}.png", *SIZE, colour)
            renderer.show(renderer_item(name, str(image), mimetype="image"))
        assert renderer._cdp is not None and renderer._hidden is not None
        assert renderer._visible is not None
        state = renderer._cdp.call("Runtime.evaluate", {"expression": "document.visibilityState"},
                                   session_id=renderer._hidden.session_id)
        assert state["result"]["value"] == "visible"
        windows = {renderer._cdp.call("Browser.getWindowForTarget",
                                      {"targetId": target.target_id})["windowId"]
                   for target in (renderer._visible, renderer._hidden)}
        assert len(windows) == 2
    finally:
        renderer.close()


def test_the_screen_size_is_read_from_the_x_server(display):
    assert detect_screen() == Screen("x11", *SIZE)


def test_with_both_variables_set_but_no_x_server_the_screen_is_wayland():
    # The systemd unit sets DISPLAY and WAYLAND_DISPLAY; under cage without Xwayland
    # only Wayland answers, and Chromium must then not be told to use X11.
    screen = detect_screen({"DISPLAY": ":4711", "WAYLAND_DISPLAY": "wayland-0"})
    assert screen == Screen("wayland")
    assert detect_screen({}) == Screen("none")


def test_a_wayland_name_nothing_listens_on_leaves_the_x_screen(display, tmp_path):
    # The systemd unit names wayland-0 on every device; on an X session nothing is there.
    environ = {"DISPLAY": display, "WAYLAND_DISPLAY": "wayland-0",
               "XDG_RUNTIME_DIR": str(tmp_path)}
    assert detect_screen(environ) == Screen("x11", *SIZE)
