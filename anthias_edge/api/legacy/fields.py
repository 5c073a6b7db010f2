"""Field validation with Django REST framework's messages, which Anthias clients see
(docs/legacy-api.md §1.4)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from anthias_edge.api.json_input import has_surrogate, surrogate_code
from anthias_edge.errors import ValidationError
from anthias_edge.timeutil import DATETIME_FORMAT_ERROR, parse_datetime

REQUIRED = "This field is required."
NOT_NULL = "This field may not be null."
NOT_BLANK = "This field may not be blank."
NOT_STRING = "Not a valid string."
NOT_INTEGER = "A valid integer is required."
NOT_BOOLEAN = "Must be a valid boolean."
NULL_CHARACTER = "Null characters are not allowed."
DATETIME_OVERFLOW = "Datetime value out of range."
STRING_TOO_LARGE = "String value too large."
NOT_EXTENSION = "Must be a file extension such as .png."

# Anthias set no limits; these keep every value storable (PostgreSQL's integer column,
# SQLite's LIKE) while staying far above anything a client sends. Django's IntegerField
# range, which DRF enforced for Anthias's integer columns.
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
MAX_DURATION = INT32_MAX  # seconds: 68 years
# A name is often the URL itself (the web UI's default), and URLs of signed links run long.
MAX_TEXT_LENGTH = 10_000
# DRF refuses longer integer strings before parsing them (IntegerField.MAX_STRING_LENGTH).
MAX_INTEGER_TEXT = 1000
# What file_asset answers as ``ext`` (".png", ".mp4", ".tar.gz"): no folder, no traversal.
EXTENSION = re.compile(r"^\.?[A-Za-z0-9][A-Za-z0-9_+-]*(?:\.[A-Za-z0-9][A-Za-z0-9_+-]*)*$")
MAX_EXTENSION_LENGTH = 32

TRUE_VALUES = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
               "1", 1}
FALSE_VALUES = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off",
                "OFF", "0", 0}
_DECIMAL_TAIL = re.compile(r"\.0*\s*$")
_INTEGER_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")

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
    max_length: int | None = MAX_TEXT_LENGTH
    # Only JSON strings (DRF's CharField also takes numbers): for lists of ids.
    text_only: bool = False

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise FieldError(NOT_STRING)
        if self.text_only and not isinstance(value, str):
            raise FieldError(NOT_STRING)
        text = str(value).strip()
        if text == "" and not self.allow_blank:
            raise FieldError(NOT_BLANK)
        if "\x00" in text:  # DRF refuses them; PostgreSQL cannot store them
            raise FieldError(NULL_CHARACTER)
        if has_surrogate(text):  # DRF refuses them; UTF-8 cannot encode them
            raise FieldError(f"Surrogate characters are not allowed: {surrogate_code(text)}.")
        if self.max_length is not None and len(text) > self.max_length:
            raise FieldError(f"Ensure this field has no more than {self.max_length} characters.")
        return text


@dataclass(frozen=True)
class ExtensionField(CharField):
    """A file name extension to append to an uploaded file's name, or blank
    (docs/legacy-api.md §4.7)."""

    allow_blank: bool = True
    max_length: int | None = MAX_EXTENSION_LENGTH

    def convert(self, value: Any) -> Any:
        text = super().convert(value)
        if text and not EXTENSION.match(text):
            raise FieldError(NOT_EXTENSION)
        return text


@dataclass(frozen=True)
class IntegerField(Field):
    """DRF IntegerField: ints and integral strings; booleans are refused."""

    min_value: int | None = INT32_MIN
    max_value: int | None = INT32_MAX

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise FieldError(NOT_INTEGER)
        if isinstance(value, str) and len(value) > MAX_INTEGER_TEXT:
            raise FieldError(STRING_TOO_LARGE)
        try:
            number = int(_DECIMAL_TAIL.sub("", str(value)))
        except (TypeError, ValueError) as exc:
            raise FieldError(NOT_INTEGER) from exc
        return _in_range(number, self.min_value, self.max_value)


def _in_range(number: int, min_value: int | None, max_value: int | None) -> int:
    if max_value is not None and number > max_value:
        raise FieldError(f"Ensure this value is less than or equal to {max_value}.")
    if min_value is not None and number < min_value:
        raise FieldError(f"Ensure this value is greater than or equal to {min_value}.")
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
        except OverflowError as exc:  # an offset past year 1 or 9999, as DRF words it
            raise FieldError(DATETIME_OVERFLOW) from exc


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


@dataclass(frozen=True)
class DurationField(RawField):
    """Anthias's ``duration`` text: a number out of range is refused here, as a field error.

    Anything else stays raw, for the asset rules to convert with the messages Anthias
    clients have seen (a 500 for ``"abc"``, docs/legacy-api.md §3.3).
    """

    min_value: int = 0
    max_value: int = MAX_DURATION

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, float) and not math.isfinite(value):
            raise FieldError(NOT_INTEGER)
        if isinstance(value, str):
            if len(value) > MAX_INTEGER_TEXT:
                raise FieldError(STRING_TOO_LARGE)
            if not _INTEGER_TEXT.match(value):
                return value
        if isinstance(value, int | float | str):
            _in_range(int(value), self.min_value, self.max_value)
        return value


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
    DRF reads HTML forms (docs/legacy-api.md §3.4).
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
