"""Reading QR codes off the screen in player tests: zxing-cpp on a PNG or an X display."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import zxingcpp

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "overlay"
# The X display numbers of this test module (each helper has its own range).
DISPLAYS = range(70, 80)


@dataclass(frozen=True)
class Scan:
    """One code found on screen: its text and its centre in pixels."""

    text: str
    x: float
    y: float


def _ffmpeg() -> str:
    executable = shutil.which("ffmpeg")
    assert executable, "ffmpeg is not installed (apt-get install ffmpeg)"
    return executable


def scan_png(data: bytes) -> list[Scan]:
    """Every QR code zxing-cpp reads in a PNG (converted to grey by ffmpeg)."""
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    grey = subprocess.run([_ffmpeg(), "-loglevel", "error", "-f", "png_pipe", "-i", "-",
                           "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                          input=data, capture_output=True, check=True, timeout=60).stdout
    image = memoryview(grey).cast("B", (height, width))
    found = []
    for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode):
        corners = (code.position.top_left, code.position.top_right,
                   code.position.bottom_left, code.position.bottom_right)
        found.append(Scan(code.text, sum(p.x for p in corners) / 4,
                          sum(p.y for p in corners) / 4))
    return found


def keep(name: str, data: bytes) -> bytes:
    """Save a captured frame under tests/artifacts/overlay/ for a person to look at."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).write_bytes(data)
    return data


def grab_display(display: str, size: tuple[int, int]) -> bytes:
    """One frame of an X display as a PNG (ffmpeg x11grab, no pointer)."""
    return subprocess.run(
        [_ffmpeg(), "-loglevel", "error", "-f", "x11grab", "-draw_mouse", "0",
         "-video_size", f"{size[0]}x{size[1]}", "-i", display, "-frames:v", "1",
         "-f", "image2pipe", "-vcodec", "png", "-"],
        capture_output=True, check=True, timeout=60).stdout


@contextmanager
def own_xvfb(size: tuple[int, int]) -> Iterator[str]:
    """A private Xvfb on the first free display of DISPLAYS; yields ``:N``."""
    executable = shutil.which("Xvfb")
    assert executable, "Xvfb is not installed (apt-get install xvfb)"
    number = next(n for n in DISPLAYS if not Path(f"/tmp/.X{n}-lock").exists())
    process = subprocess.Popen([executable, f":{number}", "-screen", "0",
                                f"{size[0]}x{size[1]}x24", "-nolisten", "tcp", "-noreset"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        socket_path = Path(f"/tmp/.X11-unix/X{number}")
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            assert process.poll() is None and time.monotonic() < deadline, "Xvfb did not start"
            time.sleep(0.05)
        yield f":{number}"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(predicate, timeout_s: float = 10.0, every_s: float = 0.2):
    """Call ``predicate`` until it returns something truthy; return its last answer."""
    deadline = time.monotonic() + timeout_s
    while True:
        answer = predicate()
        if answer or time.monotonic() >= deadline:
            return answer
        time.sleep(every_s)



def as_seen_from(png: bytes, scale: float) -> bytes:
    """``png`` as a phone camera sees it: scaled down by ``scale``, slightly blurred and with
    sensor noise (ffmpeg), as a PNG."""
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    size = f"{int(width * scale) // 2 * 2}:{int(height * scale) // 2 * 2}"
    return subprocess.run(
        [_ffmpeg(), "-loglevel", "error", "-f", "png_pipe", "-i", "-", "-vf",
         f"scale={size}:flags=area,gblur=sigma=0.8,noise=alls=8:allf=t", "-frames:v", "1",
         "-f", "image2pipe", "-vcodec", "png", "-"],
        input=png, capture_output=True, check=True, timeout=60).stdout
