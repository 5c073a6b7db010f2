"""Saving the device settings: the auth rules, the plain fields and the default assets, at once.

Every API that changes the settings (v2's ``device_settings`` today) calls ``save``: it
re-reads ``screenly.conf``, applies the change, adds or removes the default assets when that
switch flips, writes the file and tells the player. A save that fails leaves nothing
half-applied in memory: the file is re-read, and the error goes to the caller to word.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from anthias_edge.errors import InvalidSetting
from anthias_edge.services.auth.login_change import apply_auth_change
from anthias_edge.services.device import default_assets
from anthias_edge.settings import Settings

if TYPE_CHECKING:
    from anthias_edge.runtime import Runtime

logger = logging.getLogger(__name__)

BOOLEANS = ("show_splash", "default_assets", "shuffle_playlist", "use_24_hour_clock",
            "debug_logging")
PLAIN_FIELDS = ("player_name", "audio_output", "date_format", "default_duration",
                "default_streaming_duration", *BOOLEANS)
AUTH_BACKENDS = ("", "auth_basic")


def discard_changes(settings: Settings) -> None:
    """Drop what a failed save changed in memory: re-read the file, if it still reads."""
    try:
        settings.reload()
    except (InvalidSetting, OSError):
        logger.warning("after a failed save the settings file could not be re-read",
                       exc_info=True)


def save(rt: Runtime, values: Mapping[str, Any]) -> None:
    """Apply validated ``values`` (v2's field names) to the settings, save, tell the player.

    Raises AnthiasError (a refused change) or OSError (the file) after discarding the change.
    """
    settings = rt.settings
    try:
        settings.reload()
        # Anthias treats an absent auth_backend as "" and so disables auth on any save
        # that carries the current password; here an absent backend means "unchanged".
        backend = values.get("auth_backend", settings["auth_backend"])
        if backend not in AUTH_BACKENDS:
            backend = ""
        apply_auth_change(
            settings,
            new_backend=backend,
            current_password=values.get("current_password", ""),
            username=values.get("username", settings["user"]),
            password=values.get("password", ""),
            password_confirmation=values.get("password_2", ""),
        )
        was_default = bool(settings["default_assets"])
        changes = {name: values[name] for name in PLAIN_FIELDS if name in values}
        if "default_streaming_duration" in changes:
            changes["default_streaming_duration"] = str(changes["default_streaming_duration"])
        settings.update(changes)
        now_default = bool(settings["default_assets"])
        if now_default and not was_default:
            default_assets.add_default_assets(settings.default_assets_path,
                                              int(settings["default_duration"]),
                                              rt.local_tenant_id, now=rt.clock())
        elif was_default and not now_default:
            default_assets.remove_default_assets(rt.local_tenant_id)
        settings.save()
    except BaseException:
        discard_changes(settings)  # nothing half-applied may stay in memory
        raise
    rt.messenger.send_to_viewer("reload")
    rt.tell_player_data_changed()
