"""``/api/v2/device_settings``: read and change the device settings
(docs/legacy-api.md §3.18, §6.3)."""

from __future__ import annotations

from typing import Any

from anthias_edge.api.legacy.blueprint import named
from anthias_edge.api.legacy.fields import (
    MAX_DURATION,
    BooleanField,
    CharField,
    ChoiceField,
    IntegerField,
    validate,
)
from anthias_edge.api.legacy.http import error_body, render
from anthias_edge.api.request_body import read_data
from anthias_edge.api.schema import Body, fields_object, openapi
from anthias_edge.api.v2.blueprint import bp
from anthias_edge.errors import AnthiasError, InvalidSetting
from anthias_edge.runtime import current_runtime
from anthias_edge.services.device import settings_save
from anthias_edge.services.device.settings_save import BOOLEANS
from anthias_edge.settings import Settings

TEXT = CharField(allow_blank=True)

PATCH_SCHEMA = {
    "player_name": TEXT,
    "username": TEXT,
    "password": TEXT,
    "password_2": TEXT,
    "current_password": TEXT,
    "audio_output": CharField(),
    "date_format": CharField(),
    "default_duration": IntegerField(min_value=0, max_value=MAX_DURATION),
    "default_streaming_duration": IntegerField(min_value=0, max_value=MAX_DURATION),
    **{name: BooleanField() for name in BOOLEANS},
    "auth_backend": ChoiceField(choices=("", "auth_basic"), allow_null=False),
}


def _current(settings) -> dict[str, Any]:
    backend = settings["auth_backend"]
    return {
        "player_name": settings["player_name"],
        "audio_output": settings["audio_output"],
        "default_duration": int(settings["default_duration"]),
        "default_streaming_duration": int(settings["default_streaming_duration"]),
        "date_format": settings["date_format"],
        "auth_backend": backend if backend == "auth_basic" else "",
        **{name: bool(settings[name]) for name in BOOLEANS},
        "username": settings["user"] if backend == "auth_basic" else "",
    }


@bp.route("/device_settings", methods=["GET"])
@named("DeviceSettingsViewV2")
@openapi(returns=fields_object(
    {k: v for k, v in PATCH_SCHEMA.items() if k not in ("password", "password_2",
                                                        "current_password")}))
def device_settings() -> Any:
    """The settings, re-read from the file first."""
    settings = current_runtime().settings
    try:
        settings.reload()
    except InvalidSetting as exc:
        raise InvalidSetting(_public(exc.message, settings)) from exc
    return render(_current(settings))


def _public(message: str, settings: Settings) -> str:
    """A settings error as clients see it: HOME is ``~``, so no server path is shown."""
    return message.replace(str(settings.home), "~")


@bp.route("/device_settings", methods=["PATCH"])
@named("DeviceSettingsViewV2")
@openapi(request=Body(PATCH_SCHEMA), returns=fields_object({"message": CharField()}),
         refuses=True)
def update_device_settings() -> Any:
    """Validate, apply the auth rules, write the fields, save and tell the player."""
    values = validate(PATCH_SCHEMA, read_data(), partial=True)
    settings = current_runtime().settings
    try:
        settings_save.save(current_runtime(), values)
    except AnthiasError as exc:
        message = _public(exc.message, settings)
        return error_body(400, f"An error occurred while saving settings: {message}")
    except OSError as exc:
        # strerror only: the exception's text names the settings file's path.
        return error_body(400, f"An error occurred while saving settings: {exc.strerror}")
    return render({"message": "Settings were successfully saved."})
