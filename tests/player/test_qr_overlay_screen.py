"""The code on a real screen through switches: the player (Chromium and mpv) on a bare Xvfb,
filmed; a web page, two videos and an image, each with its code in the bottom-right corner.

No frame may show an asset without its code, nor a blank screen: the code is drawn in the
loading page before it is swapped in, and set in mpv before the video's first frame.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from player.qr_overlay import QrOverlay
from tests.player.qrscan import ARTIFACTS, own_xvfb
from tests.player.screen_capture import THUMB, save_png, share
from tests.player.screen_sessions import PALETTE, colour_playlist, film_player, green_page

SIZE = (1280, 720)
SIZE_PCT = 30
URL = "http://192.168.1.23:8080/q/QR0123456789ABCDEF"


@pytest.fixture
def display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with own_xvfb(SIZE) as name:
        monkeypatch.setenv("DISPLAY", name)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield name


def _plate_box() -> tuple[int, int, int, int]:
    """The plate in thumbnail pixels (bottom-right, 30 % of the height), shrunk by one pixel
    on each side so that scaling's blended edges are left out."""
    scale = THUMB[1] / SIZE[1]
    side, margin = SIZE[1] * SIZE_PCT / 100 * scale, SIZE[1] * 3 / 100 * scale
    right, bottom = THUMB[0] - margin, THUMB[1] - margin
    return int(right - side) + 2, int(bottom - side) + 2, int(right) - 1, int(bottom) - 1


def _split(rgb: bytes) -> tuple[bytes, bytes]:
    """The thumbnail's pixels inside the plate and outside it (with a one-pixel gap)."""
    left, top, right, bottom = _plate_box()
    inside, outside = bytearray(), bytearray()
    for y in range(THUMB[1]):
        for x in range(THUMB[0]):
            pixel = rgb[(y * THUMB[0] + x) * 3:(y * THUMB[0] + x) * 3 + 3]
            if left <= x < right and top <= y < bottom:
                inside += pixel
            elif not (left - 2 <= x < right + 2 and top - 2 <= y < bottom + 2):
                outside += pixel
    return bytes(inside), bytes(outside)


def _greyish(rgb: bytes) -> float:
    """Share of grey pixels: black modules on white, scaled down, blend to greys; no asset
    colour of the palette is grey."""
    pixels = [rgb[i:i + 3] for i in range(0, len(rgb), 3)]
    return sum(1 for p in pixels if max(p) - min(p) < 40 and max(p) > 40) / len(pixels)


def test_every_frame_through_switches_shows_the_asset_with_its_code(display, tmp_path):
    with green_page() as page_url:
        overlay = QrOverlay(URL, "bottom-right", SIZE_PCT)
        items = [dataclasses.replace(item, qr_overlay=overlay)
                 for item in colour_playlist(tmp_path, page_url, SIZE)]
        # Two turns of the playlist: 8 switches, 4 into a video and 4 out of one.
        film = film_player(display, SIZE, items, starts=9)
    assert len(film.renderers) == 1 and film.media_restarts == 0
    assert not [e for e in film.events if e[1].startswith("skipped")], film.events
    seen, bad = set(), []
    for index, frame in enumerate(film.frames):
        inside, outside = _split(frame.rgb)
        shares = {name: share(outside, colour) for name, colour in PALETTE.items()}
        asset = max(shares, key=lambda name: shares[name])
        code = _greyish(inside)
        seen.add(asset)
        if shares[asset] < 0.95 or code < 0.9:
            bad.append((index, asset, round(shares[asset], 2), round(code, 2)))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for index, *_ in bad[:10]:
        save_png(film.frames[index].rgb, ARTIFACTS / f"switch-frame-{index:04d}.png")
    save_png(film.frames[len(film.frames) // 2].rgb, ARTIFACTS / "switch-frame-sample.png")
    assert {"green", "blue", "magenta", "red"} <= seen, seen
    assert bad == [], f"{len(bad)} of {len(film.frames)} frames without the asset and its code"
