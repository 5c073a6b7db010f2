"""Film an X display and classify each frame: a private Xvfb, ffmpeg's x11grab, solid colours.

Used by the screen test (tests/player/test_screen.py) and by benchmarks/player.py. The
assets are solid colours so that a frame can be read at a glance: which asset covers how
much of the screen, or whether it is black or white (blank) instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

# Frames are scaled down to this size before classification: enough to see a window that
# covers only part of the screen, cheap enough to read at 10 frames a second.
THUMB = (96, 54)
TOLERANCE = 48
# A frame whose dominant colour covers at least this share of the screen is "full".
FULL_SHARE = 0.97
BLACK, WHITE = (0, 0, 0), (255, 255, 255)


@dataclass
class Frame:
    """One captured frame: when it was read (monotonic seconds) and its RGB thumbnail."""

    at: float
    rgb: bytes


@contextmanager
def xvfb(size: tuple[int, int] = (1920, 1080), number: int | None = None) -> Iterator[str]:
    """A private Xvfb with no window manager; yields its DISPLAY (``:N``).

    Xvfb picks a free display number unless ``number`` names one (a benchmark run beside
    others keeps to its own range).
    """
    executable = shutil.which("Xvfb")
    assert executable, "Xvfb is not installed (apt-get install xvfb)"
    read_end, write_end = os.pipe()
    chosen = [f":{number}"] if number is not None else []
    process = subprocess.Popen([executable, *chosen, "-displayfd", str(write_end), "-screen",
                                "0", f"{size[0]}x{size[1]}x24", "-nolisten", "tcp",
                                "-noreset"],
                               pass_fds=(write_end,), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        with os.fdopen(read_end) as pipe:
            number_read = pipe.readline().strip()
        assert number_read, "Xvfb did not start"
        yield f":{number_read}"
    finally:
        end_process(process)


def end_process(process: subprocess.Popen[bytes], grace_s: float = 10.0) -> None:
    """Ask ``process`` to end (SIGTERM) and wait for it; kill it if it is still there after
    ``grace_s``. The one teardown of every program the screen tests start."""
    process.terminate()
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Recorder:
    """Captures ``display`` with ffmpeg at ``fps`` on a thread; ``frames`` grows as it runs."""

    def __init__(self, display: str, size: tuple[int, int], fps: int = 10) -> None:
        ffmpeg = shutil.which("ffmpeg")
        assert ffmpeg, "ffmpeg is not installed (apt-get install ffmpeg)"
        self.frames: list[Frame] = []
        self._frame_bytes = THUMB[0] * THUMB[1] * 3
        self._process = subprocess.Popen(
            # No pointer drawn: x11grab draws the cursor image even when the player has
            # hidden the pointer (XFixes), so it would show what the screen does not.
            [ffmpeg, "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "0",
             "-framerate", str(fps), "-video_size", f"{size[0]}x{size[1]}", "-i", display,
             "-vf", f"scale={THUMB[0]}:{THUMB[1]}:flags=area", "-f", "rawvideo",
             "-pix_fmt", "rgb24", "pipe:1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        stream = self._process.stdout
        assert stream is not None
        while True:
            data = stream.read(self._frame_bytes)
            if data is None or len(data) < self._frame_bytes:
                return
            self.frames.append(Frame(time.monotonic(), data))

    def stop(self) -> list[Frame]:
        """End the capture; the frames read."""
        end_process(self._process)
        self._thread.join(10)
        if self._process.stdout is not None:
            self._process.stdout.close()
        return self.frames


def share(rgb: bytes, colour: tuple[int, int, int], tolerance: int = TOLERANCE) -> float:
    """The share of pixels within ``tolerance`` of ``colour`` on every channel."""
    pixels = len(rgb) // 3
    red, green, blue = colour
    hits = 0
    for i in range(0, pixels * 3, 3):
        if (abs(rgb[i] - red) <= tolerance and abs(rgb[i + 1] - green) <= tolerance
                and abs(rgb[i + 2] - blue) <= tolerance):
            hits += 1
    return hits / pixels


@dataclass
class Label:
    """What a frame shows: the dominant named colour and how much of the screen it covers."""

    name: str
    coverage: float
    shares: dict[str, float] = field(default_factory=dict)

    @property
    def full(self) -> bool:
        """The dominant colour covers the whole screen."""
        return self.coverage >= FULL_SHARE

    @property
    def blank(self) -> bool:
        """Mostly black or white: nothing of any asset is shown."""
        return self.name in ("black", "white")


def classify(rgb: bytes, palette: dict[str, tuple[int, int, int]]) -> Label:
    """Label a frame with the palette's colours plus ``black`` and ``white``."""
    colours = {**palette, "black": BLACK, "white": WHITE}
    shares = {name: share(rgb, colour) for name, colour in colours.items()}
    name = max(shares, key=lambda key: shares[key])
    return Label(name, shares[name], shares)


def save_png(rgb: bytes, path: Path, size: tuple[int, int] = THUMB) -> Path:
    """Write a thumbnail as PNG (for a person to look at)."""
    import struct
    import zlib

    width, height = size
    rows = b"".join(b"\x00" + rgb[y * width * 3:(y + 1) * width * 3] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def solid_video(path: Path, colour: str, seconds: float, size: tuple[int, int] = (1280, 720)
                ) -> Path:
    """A one-colour H.264 video made by ffmpeg (``colour`` is an ffmpeg colour name)."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is not installed (apt-get install ffmpeg)"
    subprocess.run([ffmpeg, "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    f"color=c={colour}:s={size[0]}x{size[1]}:r=25:d={seconds}",
                    "-pix_fmt", "yuv420p", str(path)], check=True, timeout=60)
    return path


class TimedRecorder:
    """A play loop recorder that notes when each asset went on screen and when it ended."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, str]] = []  # (monotonic, "start"|"end", asset id)

    def started(self, item: object, renderer: str) -> object:
        """Note the start; the token is the asset id."""
        asset_id = getattr(item, "asset_id", "")
        self.events.append((time.monotonic(), "start", asset_id))
        return asset_id

    def ended(self, token: object, outcome: str) -> None:
        """Note the end."""
        self.events.append((time.monotonic(), "end", str(token)))

    def skipped(self, item: object, renderer: str, outcome: str) -> None:
        """Note a skip (a failure to show shows up here)."""
        self.events.append((time.monotonic(), f"skipped:{outcome}", getattr(item, "asset_id", "")))


def runs(labels: list[Label]) -> list[tuple[str, int]]:
    """Consecutive frames of the same kind as (kind, count); a kind is a colour, ``partial``
    for a colour that does not cover the screen, or ``black``/``white``."""
    out: list[tuple[str, int]] = []
    for label in labels:
        kind = label.name if (label.full or label.blank) else f"partial:{label.name}"
        if out and out[-1][0] == kind:
            out[-1] = (kind, out[-1][1] + 1)
        else:
            out.append((kind, 1))
    return out
