"""Request reading for v1 and v1.1: the asset arrives as a JSON string in ``model``
(docs/legacy-api.md §3.2, §3.6)."""

from __future__ import annotations

from typing import Any

from anthias_edge.api.legacy.fields import (
    BooleanField,
    CharField,
    DateTimeField,
    DurationField,
    ExtensionField,
    IntegerField,
    validate,
)
from anthias_edge.api.legacy.http import read_model
from anthias_edge.models import Asset

FLAG = IntegerField(min_value=0, max_value=1, default=0)

CREATE = {
    "name": CharField(required=True),
    "uri": CharField(required=True),
    "mimetype": CharField(required=True),
    "start_date": DateTimeField(allow_null=True, default=None),
    "end_date": DateTimeField(allow_null=True, default=None),
    "duration": DurationField(allow_null=True, default=None),
    "is_enabled": FLAG,
    "is_processing": FLAG,
    "nocache": BooleanField(default=False),
    "skip_asset_check": FLAG,
}

UPDATE = {
    "name": CharField(required=True),
    "start_date": DateTimeField(required=True, allow_null=True),
    "end_date": DateTimeField(required=True, allow_null=True),
    "duration": DurationField(required=True),
    "is_enabled": IntegerField(required=True, min_value=0, max_value=1),
    "is_processing": IntegerField(min_value=0, max_value=1),
    "nocache": BooleanField(),
    "play_order": IntegerField(),
    "skip_asset_check": IntegerField(min_value=0, max_value=1),
}


def _blank_dates_are_null(model: dict[str, Any]) -> dict[str, Any]:
    for key in ("start_date", "end_date"):
        if model.get(key) == "":
            model[key] = None
    return model


def read_create() -> tuple[dict[str, Any], str | None]:
    """The create model: dates optional, play_order ignored (always 0), uri verbatim."""
    model = _blank_dates_are_null(read_model())
    values = validate(CREATE, model)
    # Anthias ignored ext here (docs/legacy-api.md Q2); a string is used for the file's name, so
    # it is checked.
    ext = model.get("ext") if isinstance(model.get("ext"), str) else None
    if ext is not None:
        ext = validate({"ext": ExtensionField()}, {"ext": ext})["ext"]
    return values, ext


def read_update(_asset: Asset, _partial: bool) -> dict[str, Any]:
    """The update model: the required set of 3.6; uri and mimetype are never changed."""
    return validate(UPDATE, _blank_dates_are_null(read_model()))
