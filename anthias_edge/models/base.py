"""The model base class and the field types our tables share."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Callable
from typing import Any

from peewee import DateTimeField, Model, ModelSelect, TextField

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


class PreparedSelect:
    """A select whose SQL is rendered once per kind of database, then run with new values.

    peewee renders a query's SQL on every execution: for the four-table join that
    authenticates every v3 request that took 0.8 ms, several times what PostgreSQL spends
    running it. ``build`` gets one placeholder per parameter and must compare each with a
    column exactly once (a placeholder that ends up anywhere else fails at the first run).
    """

    def __init__(self, build: Callable[..., ModelSelect]) -> None:
        """``build(*placeholders)`` returns the query; its parameters' count is ``build``'s."""
        self.build = build
        self._compiled: dict[type, tuple[ModelSelect, str, list[Any], list[int]]] = {}
        self._lock = threading.Lock()

    def first(self, *values: Any) -> Any:
        """The first model (joined models attached, as peewee does) for ``values``, or None."""
        database = db.obj
        compiled = self._compiled.get(type(database))
        if compiled is None:
            compiled = self._compile(database, len(values))
        query, sql, params, slots = compiled
        bound = list(params)
        for slot, value in zip(slots, values, strict=True):
            bound[slot] = value
        cursor = database.execute_sql(sql, bound)
        # peewee's own row-to-model step (joins included), fed our cursor.
        return next(iter(query._get_cursor_wrapper(cursor)), None)

    def _compile(self, database: Any, arity: int) -> tuple[ModelSelect, str, list[Any], list[int]]:
        placeholders = [f"\x00placeholder-{secrets.token_hex(8)}" for _ in range(arity)]
        query = self.build(*placeholders)
        sql, params = query.sql()
        slots = [params.index(mark) if params.count(mark) == 1 else -1 for mark in placeholders]
        if -1 in slots:
            raise ValueError("each placeholder must be one compared value of the query")
        with self._lock:
            return self._compiled.setdefault(type(database), (query, sql, params, slots))
