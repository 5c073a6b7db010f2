"""What kind of file an upload is, and how long a video runs (ffprobe)."""

from __future__ import annotations

import json
import logging
import mimetypes
import shutil
import subprocess

from anthias_edge.errors import BadVideoFormat, InvalidFileType

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 30


def upload_type(filename: str) -> tuple[str, str]:
    """Return (``image``/``video``, canonical extension) guessed from a file name (3.10)."""
    guessed, _ = mimetypes.guess_type(filename)
    kind = (guessed or "").split("/", 1)[0]
    if kind not in ("image", "video"):
        raise InvalidFileType()
    return kind, mimetypes.guess_extension(guessed) or ""


def video_duration(location: str) -> int:
    """Seconds of a local video file or stream URL, truncated, measured by ffprobe."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        raise BadVideoFormat("Bad video format: ffprobe is not installed, so the duration "
                             "cannot be measured. Install ffmpeg or give a duration.")
    command = [ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "json", location]
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False
        )
        seconds = float(json.loads(result.stdout)["format"]["duration"])
    except (subprocess.TimeoutExpired, ValueError, KeyError, TypeError) as exc:
        logger.info("ffprobe could not read %s: %s", location, exc)
        raise BadVideoFormat() from exc
    return int(seconds)
