"""YouTube assets through the ``yt-dlp`` command, when it is installed (docs/legacy-api.md §4.3)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from anthias_edge.errors import YoutubeFailed, YoutubeUnavailable

logger = logging.getLogger(__name__)

DESCRIBE_TIMEOUT_S = 60
DOWNLOAD_TIMEOUT_S = 3 * 3600


@dataclass(frozen=True)
class VideoDetails:
    """What yt-dlp tells about a video before downloading it."""

    title: str
    duration: int


def _yt_dlp() -> str:
    path = shutil.which("yt-dlp")
    if path is None:
        raise YoutubeUnavailable()
    return path


def describe(url: str) -> VideoDetails:
    """Title and whole seconds of a YouTube video; raise when yt-dlp is missing or fails."""
    command = [_yt_dlp(), "--no-warnings", "--skip-download", "--print", "title",
               "--print", "duration", url]
    try:
        result = subprocess.run(command, capture_output=True, text=True,
                                timeout=DESCRIBE_TIMEOUT_S, check=True)
        title, duration = result.stdout.strip().split("\n")[-2:]
        return VideoDetails(title=title.strip(), duration=int(float(duration)))
    except (subprocess.SubprocessError, ValueError) as exc:
        logger.warning("yt-dlp could not describe %s: %s", url, exc)
        raise YoutubeFailed() from exc


def download(url: str, target: Path) -> None:
    """Download the mp4 to ``target`` through a temporary name, so a half file never plays."""
    partial = target.with_name(target.name + ".download.tmp")
    command = [_yt_dlp(), "--no-warnings", "-f", "mp4", "--no-part", "-o", str(partial), url]
    try:
        subprocess.run(command, capture_output=True, timeout=DOWNLOAD_TIMEOUT_S, check=True)
        os.replace(partial, target)
    except (subprocess.SubprocessError, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise YoutubeFailed(f"Downloading {url} failed.") from exc
