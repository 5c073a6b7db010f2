"""What the agent keeps beside the database, in ``$HOME/.screenly/sync/``.

- ``device_key.pem``: the private key (0600; cloud_sync.protocol writes it).
- ``agent.json``: when the running agent tries next, and whether the cloud unlinked this device
  (the link row is gone then, so the reason must live elsewhere for the Cloud page to say it).
- ``media.json``: the sha256 of each shared file already uploaded to the linked tenant, and the
  hash of each local file by (size, mtime), so nothing is hashed or uploaded twice.

Files are replaced atomically; an unreadable file counts as empty (it only holds hints).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from anthias_edge.settings import Settings

logger = logging.getLogger(__name__)

SYNC_FOLDER = "sync"
KEY_FILE = "device_key.pem"
AGENT_FILE = "agent.json"
MEDIA_FILE = "media.json"


def sync_dir(settings: Settings) -> Path:
    """``$HOME/.screenly/sync``."""
    return settings.config_dir / SYNC_FOLDER


def key_path(settings: Settings) -> Path:
    """Where this device's private key lives."""
    return sync_dir(settings) / KEY_FILE


def read_json(path: Path) -> dict[str, Any]:
    """The object in ``path``; {} when missing or unreadable."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("Ignoring unreadable %s: %s", path, exc)
        return {}
    return value if isinstance(value, dict) else {}


def write_json(path: Path, value: dict[str, Any]) -> None:
    """Replace ``path`` with ``value`` atomically (0600: it names this device's cloud)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(value, handle, separators=(",", ":"))
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def agent_state(settings: Settings) -> dict[str, Any]:
    """The contents of ``agent.json``."""
    return read_json(sync_dir(settings) / AGENT_FILE)


def update_agent_state(settings: Settings, **values: Any) -> None:
    """Merge ``values`` into ``agent.json`` (None removes a key)."""
    path = sync_dir(settings) / AGENT_FILE
    state = read_json(path)
    for key, value in values.items():
        if value is None:
            state.pop(key, None)
        else:
            state[key] = value
    write_json(path, state)


def forget(settings: Settings, *, keep_unlink_notice: bool = False) -> None:
    """Remove the key and the hints of a link (after an unlink, or before a new link).

    The running agent's pid stays; so does the cloud's unlink notice with
    ``keep_unlink_notice``.
    """
    folder = sync_dir(settings)
    for name in (KEY_FILE, MEDIA_FILE):
        (folder / name).unlink(missing_ok=True)
    notice = {} if keep_unlink_notice else {
        "last_error": None, "last_error_at": None, "unlinked_by_cloud": None}
    if (folder / AGENT_FILE).exists():
        update_agent_state(settings, next_attempt_at=None, **notice)
