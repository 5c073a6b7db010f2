"""v3 field specs: strict JSON types, one spec both validates a request and documents it.

Each spec converts one value or raises ``FieldError``, and returns its JSON Schema
(OpenAPI 3.1 dialect: ``null`` is a type, not ``nullable``). ``validate`` applies a
dict of specs to a JSON body or a query string and raises one ValidationError with
every field's messages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from anthias_edge.api.json_input import has_surrogate
from anthias_edge.errors import ValidationError
from anthias_edge.timeutil import parse_datetime

MISSING: Any = object()


class FieldError(Exception):
    """One field's message."""


@dataclass(frozen=True)
class Spec:
    """A field: required or not, null allowed or not, its default and description."""

    required: bool = False
    nullable: bool = False
    default: Any = MISSING
    description: str = ""

    def convert(self, value: Any) -> Any:
        """The typed value, or FieldError."""
        return value

    def convert_text(self, text: str) -> Any:
        """Convert a query-string value (always text)."""
        return self.convert(text)

    def base_schema(self) -> dict[str, Any]:
        """The schema without null, default or description."""
        return {}

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this field."""
        schema = self.base_schema()
        if self.nullable:
            kind = schema.get("type")
            if isinstance(kind, str):
                schema["type"] = [kind, "null"]
            elif "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        if self.default is not MISSING:
            schema["default"] = self.default
        if self.description:
            schema["description"] = self.description
        return schema


@dataclass(frozen=True)
class Str(Spec):
    """A string, trimmed; bounded length, optional pattern or choices."""

    min_length: int = 0
    max_length: int = 1000
    pattern: str | None = None
    choices: tuple[str, ...] = ()

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise FieldError("Must be a string.")
        if "\x00" in value:  # PostgreSQL text cannot hold NUL
            raise FieldError("May not contain NUL characters.")
        if has_surrogate(value):  # nor can any UTF-8 text hold a lone surrogate
            raise FieldError("May not contain lone surrogate characters.")
        if self.choices and value not in self.choices:
            raise FieldError(f"Must be one of: {', '.join(self.choices)}.")
        if not self.min_length <= len(value) <= self.max_length:
            raise FieldError(f"Must be {self.min_length} to {self.max_length} characters.")
        if self.pattern and not re.search(self.pattern, value):
            raise FieldError("Has an invalid format.")
        return value

    def base_schema(self) -> dict[str, Any]:
        if self.choices:
            return {"type": "string", "enum": list(self.choices)}
        schema: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.min_length:
            schema["minLength"] = self.min_length
        if self.pattern:
            schema["pattern"] = self.pattern
        return schema


@dataclass(frozen=True)
class Int(Spec):
    """A JSON integer (booleans refused) within bounds."""

    minimum: int | None = None
    maximum: int | None = None

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError("Must be an integer.")
        if self.minimum is not None and value < self.minimum:
            raise FieldError(f"Must be at least {self.minimum}.")
        if self.maximum is not None and value > self.maximum:
            raise FieldError(f"Must be at most {self.maximum}.")
        return value

    def convert_text(self, text: str) -> Any:
        if not re.fullmatch(r"-?\d{1,18}", text):
            raise FieldError("Must be an integer.")
        return self.convert(int(text))

    def base_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


@dataclass(frozen=True)
class Bool(Spec):
    """A JSON boolean; in a query string ``true`` or ``false``."""

    def convert(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise FieldError("Must be a boolean.")
        return value

    def convert_text(self, text: str) -> Any:
        if text not in ("true", "false"):
            raise FieldError("Must be true or false.")
        return text == "true"

    def base_schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class DateTime(Spec):
    """An ISO-8601 date and time; without an offset it is UTC. Stored naive UTC."""

    def convert(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise FieldError("Must be an ISO-8601 date-time string.")
        try:
            parsed = parse_datetime(value)
        except ValueError as exc:
            raise FieldError("Must be an ISO-8601 date-time string.") from exc
        except OverflowError as exc:  # the offset moves it before year 1 or after 9999
            raise FieldError("Date and time out of range (years 1 to 9999 in UTC).") from exc
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        return parsed

    def base_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


@dataclass(frozen=True)
class StrList(Spec):
    """A list of distinct non-empty strings (order kept)."""

    max_items: int = 50
    max_length: int = 100
    choices: tuple[str, ...] = ()

    def convert(self, value: Any) -> Any:
        if not isinstance(value, list):
            raise FieldError("Must be a list of strings.")
        if len(value) > self.max_items:
            raise FieldError(f"At most {self.max_items} items.")
        items: list[str] = []
        for item in value:
            if (not isinstance(item, str) or not 1 <= len(item) <= self.max_length
                    or "\x00" in item or has_surrogate(item)):
                raise FieldError(f"Items must be strings of 1 to {self.max_length} characters"
                                 " without NUL.")
            if self.choices and item not in self.choices:
                raise FieldError(f"Unknown value: {item}.")
            if item not in items:
                items.append(item)
        return items

    def base_schema(self) -> dict[str, Any]:
        item: dict[str, Any] = ({"type": "string", "enum": list(self.choices)} if self.choices
                                else {"type": "string", "minLength": 1,
                                      "maxLength": self.max_length})
        return {"type": "array", "maxItems": self.max_items, "items": item}


@dataclass(frozen=True)
class Obj(Spec):
    """A JSON object with at most ``max_properties`` keys."""

    max_properties: int = 50

    def convert(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise FieldError("Must be an object.")
        if len(value) > self.max_properties:
            raise FieldError(f"At most {self.max_properties} keys.")
        return value

    def base_schema(self) -> dict[str, Any]:
        return {"type": "object", "maxProperties": self.max_properties}


@dataclass(frozen=True)
class Converted(Spec):
    """A value checked by an existing converter (raising ValueError), with its schema."""

    converter: Callable[[Any], Any] = lambda value: value
    json_schema: Mapping[str, Any] = field(default_factory=dict)

    def convert(self, value: Any) -> Any:
        try:
            return self.converter(value)
        except (TypeError, ValueError) as exc:
            raise FieldError(str(exc)) from exc

    def base_schema(self) -> dict[str, Any]:
        return dict(self.json_schema)


def validate(specs: Mapping[str, Spec], data: Any, *, partial: bool = False) -> dict[str, Any]:
    """Typed values of the fields present (defaults filled unless ``partial``).

    Unknown fields are refused, so a typo is an error rather than silently ignored.
    """
    if not isinstance(data, dict):
        raise ValidationError({"non_field_errors": ["Expected a JSON object."]})
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name in data:
        if name not in specs:
            errors[name] = ["Unknown field."]
    for name, spec in specs.items():
        if name not in data:
            if spec.required and not partial:
                errors[name] = ["This field is required."]
            elif spec.default is not MISSING and not partial:
                values[name] = spec.default
            continue
        value = data[name]
        if value is None:
            if spec.nullable:
                values[name] = None
            else:
                errors[name] = ["May not be null."]
            continue
        try:
            values[name] = spec.convert(value)
        except FieldError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return values


def validate_query(specs: Mapping[str, Spec], args: Mapping[str, str]) -> dict[str, Any]:
    """Typed query parameters; unknown ones are ignored (caches and proxies add some)."""
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for name, spec in specs.items():
        if name not in args:
            if spec.default is not MISSING:
                values[name] = spec.default
            continue
        try:
            values[name] = spec.convert_text(args[name])
        except FieldError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationError(errors)
    return values


def object_schema(specs: Mapping[str, Spec], *, partial: bool = False) -> dict[str, Any]:
    """The request-body schema of a dict of specs."""
    schema: dict[str, Any] = {
        "type": "object", "additionalProperties": False,
        "properties": {name: spec.schema() for name, spec in specs.items()}}
    required = [name for name, spec in specs.items() if spec.required]
    if required and not partial:
        schema["required"] = required
    return schema
