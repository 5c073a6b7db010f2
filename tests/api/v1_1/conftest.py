"""Fixtures for the v1.1 tests: a server that renders dates in UTC."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask


@pytest.fixture
def app(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """A server on an empty device whose time zone is UTC, whatever the host's zone is."""
    server = make_app()
    zone_file = tmp_path / "timezone"
    zone_file.write_text("UTC\n", encoding="utf-8")
    server.extensions["anthias"].zone_file = str(zone_file)
    return server
