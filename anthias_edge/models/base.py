"""The model base class and the field types our tables share."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from peewee import DateTimeField, Model, TextField

from anthias_edge.db import db
from anthias_edge.timeutil import parse_stored


class BaseModel(Model):
    """Every model lives in the one swappable database."""

    class Meta:
        database = db
        legacy_table_names = False


class UtcDateTimeField(DateTimeField):
    """A naive-UTC datetime that also reads the spellings older Anthias databases hold."""

    def python_value(self, value: Any) -> dt.datetime | None:
        try:
            return parse_stored(value)
        except ValueError:
            return None

    def db_value(self, value: Any) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return super().db_value(value)


class JSONTextField(TextField):
    """JSON kept as compact text, the same on SQLite and PostgreSQL."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)

    def python_value(self, value: Any) -> Any:
        if value is None or value == "":
            return None
        return json.loads(value)
