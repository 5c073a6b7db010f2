"""Where a tenant's files live, what kind of file an upload is, how long a video runs."""

from __future__ import annotations

import json
import logging
import mimetypes
import shutil
import subprocess
from pathlib import Path

from anthias_edge.errors import BadVideoFormat, InvalidFileType

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 30


def tenant_media_dir(asset_dir: Path, tenant_id: str | None, *, own_library: bool) -> Path:
    """The folder one tenant's uploads and asset files live in.

    The device's own library keeps Anthias's flat asset folder, so its paths, backups and
    scripts stay as they were. Every other tenant (each tenant in the cloud) gets
    ``<asset_dir>/<tenant_id>``: a tenant may use only files in its own folder, so no
    tenant can take, read or delete another's.
    """
    if own_library or tenant_id is None:
        return asset_dir
    tenant_id = str(tenant_id)
    if (not tenant_id or Path(tenant_id).name != tenant_id or tenant_id in (".", "..")
            or "\0" in tenant_id):
        # Tenant ids are UUIDs; anything else must never become a path.
        raise ValueError(f"tenant id {tenant_id!r} cannot name a folder")
    return asset_dir / tenant_id


def upload_type(filename: str) -> tuple[str, str]:
    """Return (``image``/``video``, canonical extension) guessed from a file name
    (docs/legacy-api.md §3.10)."""
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
