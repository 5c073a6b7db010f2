"""The QR code an asset may carry on screen (``qr_overlay``, issue 13): what and where.

An asset's ``qr_overlay`` says whether a code is drawn, in which corner and how large (a
percentage of the screen height); the code itself points at the landing page of the
asset's active QR content. This module turns that into what a renderer draws: a module
matrix, an SVG path for Chromium and a BGRA bitmap for mpv, and the place on screen.

Sizes are chosen for a phone two metres from a 1080p screen: black on a white plate,
a three-module quiet zone on the plate, error correction M (a screen does not smudge,
but a glare or a frame edge may hide a little) and whole pixels per module in mpv.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from anthias_edge.services import qr_overlay as overlay_rules

# The stored shape and its bounds are the asset's (anthias_edge/services/qr_overlay.py).
CORNERS, DEFAULT_CORNER = overlay_rules.CORNERS, overlay_rules.DEFAULT_CORNER
DEFAULT_SIZE_PCT = overlay_rules.DEFAULT_SIZE
# Distance of the plate from the two nearest screen edges, in % of the screen height:
# clear of a TV's bezel overscan, still in the corner.
MARGIN_PCT = 3
# Modules of white around the code, on the plate. The standard asks four; on a plain white
# plate three keep the code larger at the same plate size (zxing-cpp reads it from real
# frames in tests/player/test_qr_overlay.py).
QUIET_MODULES = 3


@dataclass(frozen=True, slots=True)
class QrOverlay:
    """A code to draw: the URL it encodes, the corner and the plate's size (% of height)."""

    url: str
    corner: str = DEFAULT_CORNER
    size_pct: int = DEFAULT_SIZE_PCT
    # When the QR content expires (naive UTC): from then on its landing page answers 410,
    # so the player stops drawing the code.
    expires_at: dt.datetime | None = None

    def live(self, now: dt.datetime) -> bool:
        """Whether the code still leads somewhere at ``now`` (naive UTC)."""
        return self.expires_at is None or now < self.expires_at


def overlay_settings(value: Any) -> tuple[str, int] | None:
    """``(corner, size_pct)`` from a stored ``qr_overlay`` value when it is on, else None."""
    return overlay_rules.settings_of(value)


@functools.lru_cache(maxsize=64)
def modules(url: str) -> tuple[tuple[bool, ...], ...]:
    """The code's dark (True) and light modules, quiet zone included."""
    import qrcode  # only a player that shows a code pays for the import

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                         border=QUIET_MODULES)
    code.add_data(url)
    code.make(fit=True)
    return tuple(tuple(bool(cell) for cell in row) for row in code.get_matrix())


@functools.lru_cache(maxsize=64)
def svg_path(url: str) -> tuple[int, str]:
    """The module count of a side and one SVG path drawing the dark modules (runs per row)."""
    matrix = modules(url)
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            start = x
            while x < len(row) and row[x]:
                x += 1
            parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return len(matrix), "".join(parts)


def plate_side(size_pct: int, height: int) -> int:
    """The plate's side in pixels: ``size_pct`` % of the screen height."""
    return round(height * size_pct / 100)


def placement(corner: str, side: int, width: int, height: int) -> tuple[int, int]:
    """``(x, y)`` in pixels of a plate ``side`` wide in ``corner`` of the screen."""
    margin = round(height * MARGIN_PCT / 100)
    x = margin if corner.endswith("left") else width - margin - side
    y = margin if corner.startswith("top") else height - margin - side
    return max(x, 0), max(y, 0)


# A 1080p plate is about 150 kB: a few are kept, enough for a playlist's codes to be ready.
@functools.lru_cache(maxsize=8)
def bgra_bitmap(url: str, side: int) -> tuple[int, bytes]:
    """The code as opaque BGRA pixels filling ``side`` x ``side``, row by row.

    Modules are whole pixels, some one pixel wider than others so that the code fills the
    plate (whole equal modules would waste up to a module's width of it, about a tenth of
    the code's size); decoders take the small unevenness in their stride. Returns the side
    (``side``, or the module count when that is larger) and the pixels.
    """
    matrix = modules(url)
    count = len(matrix)
    side = max(side, count)
    edges = [round(i * side / count) for i in range(count + 1)]
    widths = [edges[i + 1] - edges[i] for i in range(count)]
    dark, light = b"\x00\x00\x00\xff", b"\xff\xff\xff\xff"
    rows = []
    for row, height in zip(matrix, widths, strict=True):
        line = b"".join((dark if cell else light) * width
                        for cell, width in zip(row, widths, strict=True))
        rows.append(line * height)
    return side, b"".join(rows)
