"""Concurrent v2 writes on a device (SQLite, or PostgreSQL in the PostgreSQL run).

Four clients create, update, delete and reorder assets at once; none may get a 5xx, and the
playlist must keep one asset per position. The cloud's subdomains and v3's legacy proxy:
tests/cloud/test_concurrent_writes.py.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from tests.playlist_load import write_at_once

CLIENTS = 4


class Client:
    """A client of its own per thread (a FlaskClient keeps per-client state)."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, str]:
        """(status, body text) of one request under /api/v2."""
        kwargs = {} if body is None else {"data": json.dumps(body),
                                          "content_type": "application/json"}
        response = self.client.open("/api/v2" + path, method=method, **kwargs)
        return response.status_code, response.get_data(as_text=True)


def test_concurrent_v2_writes_never_fail_and_keep_one_asset_per_position(app: Flask) -> None:
    failures, orders, names = write_at_once([Client(app.test_client()) for _ in range(CLIENTS)])

    assert failures == []
    assert orders == list(range(len(orders)))
    assert len(set(names)) == len(names)
