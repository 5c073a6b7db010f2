"""Cloud mode without a usable secret key: ``serve`` refuses to start, ``/readyz`` says why.

Without a key that opens the stored signing keys every login answers 500, so a server that
starts anyway only looks healthy. Each case uses this module's own PostgreSQL database.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from flask import Flask

from anthias_edge.app import create_app
from anthias_edge.services.auth.crypto_box import CryptoBox
from anthias_edge.services.auth.jwt_tokens import AccessTokens
from tests.cloud.conftest import cloud_environ
from tests.cloud.pg import database_fixtures

DATABASE = "anthias_cloud_secret_key_test"


server_url, url = database_fixtures(DATABASE, made="server_url", emptied="url")


@pytest.fixture
def make_cloud_app(home: Path, url: str) -> Iterator:
    """Build cloud apps on the emptied database; close them afterwards."""
    apps: list[Flask] = []

    def build(**env: str) -> Flask:
        app = create_app(environ=cloud_environ(home, url, **env))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["anthias"].close()


def _store_a_signing_key(app: Flask, key: bytes) -> None:
    """Sign in once as the cloud would: a signing key encrypted with ``key`` is stored."""
    with app.extensions["anthias"].database.connection_context():
        AccessTokens(CryptoBox([key])).rotate_signing_key()


def _serve(home: Path, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``anthias-edge serve`` in cloud mode, for real; a server that starts fails the test."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANTHIAS_")}
    environ.update(HOME=str(home), ANTHIAS_MODE="cloud", DATABASE_URL=url, **env)
    try:
        return subprocess.run(
            [sys.executable, "-m", "anthias_edge.cli", "serve", "--listen", "127.0.0.1:0",
             "--workers", "1"], env=environ, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"serve started without a usable secret key: {exc.stdout!r}")


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


@pytest.mark.postgres
def test_serve_without_a_secret_key_refuses_to_start(home, url):
    line = _one_error_line(_serve(home, url))
    assert "ANTHIAS_SECRET_KEY" in line and "Fernet.generate_key()" in line


@pytest.mark.postgres
def test_serve_with_a_malformed_secret_key_refuses_to_start(home, url):
    line = _one_error_line(_serve(home, url, ANTHIAS_SECRET_KEY="not-a-fernet-key"))
    assert "not a Fernet key" in line


@pytest.mark.postgres
def test_serve_with_a_key_that_cannot_open_the_stored_signing_keys_refuses_to_start(
        home, url, make_cloud_app):
    _store_a_signing_key(make_cloud_app(), Fernet.generate_key())
    line = _one_error_line(_serve(home, url,
                                  ANTHIAS_SECRET_KEY=Fernet.generate_key().decode()))
    assert "could not be decrypted" in line


@pytest.mark.postgres
def test_readyz_tells_when_the_secret_key_is_missing(make_cloud_app):
    response = make_cloud_app().test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready" and body["failed"] == ["secret_key"]
    assert "ANTHIAS_SECRET_KEY" in body["secret_key"]


@pytest.mark.postgres
def test_readyz_tells_when_the_key_cannot_open_the_stored_signing_keys(make_cloud_app):
    app = make_cloud_app(ANTHIAS_SECRET_KEY=Fernet.generate_key().decode())
    _store_a_signing_key(app, Fernet.generate_key())
    body = app.test_client().get("/readyz").get_json()
    assert body["failed"] == ["secret_key"]
    assert "could not be decrypted" in body["secret_key"]


@pytest.mark.postgres
def test_readyz_is_ready_with_the_right_key(make_cloud_app):
    key = Fernet.generate_key()
    app = make_cloud_app(ANTHIAS_SECRET_KEY=key.decode())
    _store_a_signing_key(app, key)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["secret_key"] == "ok"
