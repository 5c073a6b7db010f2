"""The device's health as each push carries it: version, address, free disk, what is on screen.

Nothing here may stall the agent: the player is asked for its current asset with a short
timeout, and a player that does not answer only leaves ``on_screen`` empty.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from anthias_edge.errors import AnthiasError
from anthias_edge.messaging import Messenger
from anthias_edge.models import Asset
from anthias_edge.services.device.info import anthias_version, ip_addresses

logger = logging.getLogger(__name__)

PROC = Path("/proc")
ASK_TIMEOUT_S = 2.0  # a busy player still answers; a dead one costs a push 2 s


def snapshot(asset_dir: Path, messenger: Messenger | None = None,
             environ: Mapping[str, str] | None = None, proc: Path = PROC) -> dict[str, Any]:
    """``{software_version, address, free_disk_bytes, on_screen, uptime_s}`` for a push.

    ``on_screen`` is ``{asset_id, name}`` when a messenger is given and the player answers with
    an asset this device has, else None. Call it with a database connection open.
    """
    environ = os.environ if environ is None else environ
    addresses = ip_addresses(environ)
    return {
        "software_version": anthias_version(environ),
        "address": addresses[0].split("//", 1)[1].strip("[]") if addresses else None,
        "free_disk_bytes": _free_bytes(asset_dir),
        "on_screen": _on_screen(messenger),
        "uptime_s": _uptime(proc),
    }


def _free_bytes(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def _uptime(proc: Path) -> float | None:
    try:
        return float((proc / "uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _on_screen(messenger: Messenger | None) -> dict[str, Any] | None:
    if messenger is None:
        return None
    try:
        asset_id = messenger.ask_current_asset_id(timeout_s=ASK_TIMEOUT_S)
    except (AnthiasError, OSError) as exc:
        logger.debug("The player did not say what is on screen: %s", exc)
        return None
    if asset_id is None:
        return None
    asset = Asset.get_or_none(Asset.asset_id == asset_id)
    return {"asset_id": asset_id, "name": asset.name if asset is not None else None}
