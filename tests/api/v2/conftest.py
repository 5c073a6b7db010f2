"""Fixtures for the v2 API tests: the device's clock and zone, and a create helper."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from anthias_edge.runtime import Runtime
from tests.clients import create_asset


@pytest.fixture
def runtime(app: Flask, tmp_path: Path) -> Runtime:
    """The server's shared objects, with the device zone pinned to UTC."""
    rt = app.extensions["anthias"]
    rt.zone_file = str(set_zone(tmp_path, "UTC"))
    return rt


def set_zone(tmp_path: Path, name: str) -> Path:
    """Write an /etc/timezone stand-in naming ``name``; return its path."""
    path = tmp_path / f"timezone-{name.replace('/', '-')}"
    path.write_text(f"{name}\n", encoding="utf-8")
    return path


@pytest.fixture
def set_clock(runtime: Runtime) -> Callable[[dt.datetime], None]:
    """Freeze the server's clock (naive UTC) at a given instant."""

    def freeze(when: dt.datetime) -> None:
        runtime.clock = lambda: when

    return freeze


@pytest.fixture
def create(client: FlaskClient, runtime: Runtime) -> Callable[..., dict[str, Any]]:
    """POST a valid v2 asset (overridable) and return the 201 body."""

    def make(**fields: Any) -> dict[str, Any]:
        return create_asset(client, "v2", **fields)

    return make


def wait_for(predicate: Callable[[], Any], timeout_s: float = 10.0) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout_s``."""
    import time

    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        time.sleep(0.02)  # a poll interval, not a synchronisation point
