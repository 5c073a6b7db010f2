"""Field validation with Django REST framework's messages, which Anthias clients see (1.4)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from anthias_edge.errors import ValidationError
from anthias_edge.timeutil import DATETIME_FORMAT_ERROR, parse_datetime

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_BLANK = "This field may not be blank."
NOT_STRING = "Not a valid string."
NOT_INTEGER = "A valid integer is required."
NOT_BOOLEAN = "Must be a valid boolean."
NULL_CHARACTER = "Null characters are not allowed."

TRUE_VALUES = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
               "1", 1}
FALSE_VALUES = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off",
                "OFF", "0", 0}
_DECIMAL_TAIL = re.compile(r"\.0*\s*$")

_MISSING = object()


class FieldError(Exception):
    """One field's message."""


@dataclass(frozen=True)
class Field:
    """A request field: whether it is required, may be null, and its default."""

    required: bool = False
    allow_null: bool = False
    default: Any = _MISSING

    def convert(self, value: Any) -> Any:
        """Turn the raw value into the typed one or raise FieldError."""
        return value


@dataclass(frozen=True)
class CharField(Field):
    """DRF CharField: strings (numbers are stringified), trimmed, blank optional."""

    allow_blank: bool = False

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise FieldError(NOT_STRING)
        text = str(value).strip()
        if "\x00" in text:  # DRF refuses them; PostgreSQL cannot store them
            raise FieldError(NULL_CHARACTER)
        if text == "" and not self.allow_blank:
            raise FieldError(NOT_BLANK)
        return text


@dataclass(frozen=True)
class IntegerField(Field):
    """DRF IntegerField: ints and integral strings; booleans are refused."""

    min_value: int | None = None
    max_value: int | None = None

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise FieldError(NOT_INTEGER)
        try:
            number = int(_DECIMAL_TAIL.sub("", str(value)))
        except (TypeError, ValueError) as exc:
            raise FieldError(NOT_INTEGER) from exc
        if self.max_value is not None and number > self.max_value:
            raise FieldError(f"Ensure this value is less than or equal to {self.max_value}.")
        if self.min_value is not None and number < self.min_value:
            raise FieldError(f"Ensure this value is greater than or equal to {self.min_value}.")
        return number


@dataclass(frozen=True)
class BooleanField(Field):
    """DRF BooleanField with its true/false spellings."""

    def convert(self, value: Any) -> Any:
        try:
            if value in TRUE_VALUES:
                return True
            if value in FALSE_VALUES:
                return False
        except TypeError:  # unhashable (a list or object)
            pass
        raise FieldError(NOT_BOOLEAN)


@dataclass(frozen=True)
class DateTimeField(Field):
    """ISO-8601 datetimes, naive input taken as UTC."""

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise FieldError(DATETIME_FORMAT_ERROR)
        try:
            return parse_datetime(value)
        except ValueError as exc:
            raise FieldError(DATETIME_FORMAT_ERROR) from exc


@dataclass(frozen=True)
class ChoiceField(Field):
    """One of a fixed set of strings."""

    choices: tuple[str, ...] = ()

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str) or value not in self.choices:
            raise FieldError(f'"{value}" is not a valid choice.')
        return value


@dataclass(frozen=True)
class RawField(Field):
    """Accepted as sent; a later rule converts it (Anthias's ``duration`` text)."""


def validate(
    schema: Mapping[str, Field],
    data: Mapping[str, Any],
    *,
    partial: bool = False,
    form_booleans_default_false: bool = False,
) -> dict[str, Any]:
    """Validate ``data`` against ``schema``; return typed values for the fields present.

    Raise ValidationError with every field's messages, in schema order, as DRF does.
    With ``form_booleans_default_false`` an omitted boolean counts as false, as
    DRF reads HTML forms (legacy-api.md 3.4).
    """
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name, spec in schema.items():
        raw = data.get(name, _MISSING)
        if raw is _MISSING:
            if form_booleans_default_false and isinstance(spec, BooleanField) and not partial:
                values[name] = False
            elif spec.required and not partial:
                errors[name] = [REQUIRED]
            elif spec.default is not _MISSING and not partial:
                values[name] = spec.default
            continue
        if raw is None:
            if spec.allow_null:
                values[name] = None
            else:
                errors[name] = [NOT_NULL]
            continue
        try:
            values[name] = spec.convert(raw)
        except FieldError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return values
