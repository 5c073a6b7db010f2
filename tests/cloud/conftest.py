"""Fixtures of the cloud tests: their own PostgreSQL database and a cloud-mode app on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from anthias_edge.app import create_app
from anthias_edge.services.tenants import TenantService, create_tenant
from tests.cloud.pg import database_fixtures

DATABASE = "anthias_cloud_test"
BASE_DOMAIN = "signage.test"
SECRET_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="  # v3 tokens in cloud mode need one


# This package's own PostgreSQL database, recreated per test module and put back to freshly
# migrated before each test.
cloud_server_url, cloud_url = database_fixtures(DATABASE, made="cloud_server_url",
                                                emptied="cloud_url", migrated=True)


def cloud_environ(home: Path, url: str, **extra: str) -> dict[str, str]:
    """The environment of a cloud server on ``url`` (no secret key unless ``extra`` has one)."""
    return {"HOME": str(home), "ANTHIAS_MODE": "cloud", "DATABASE_URL": url,
            "ANTHIAS_BASE_DOMAIN": BASE_DOMAIN, **extra}


@pytest.fixture
def cloud_app(home: Path, cloud_url: str) -> Iterator[Flask]:
    """A cloud-mode app on the freshly migrated database."""
    app = create_app(environ=cloud_environ(home, cloud_url, ANTHIAS_SECRET_KEY=SECRET_KEY))
    app.config["TESTING"] = True
    app.config["ANTHIAS_BASE_DOMAIN"] = BASE_DOMAIN
    yield app
    app.extensions["anthias"].close()


@pytest.fixture
def make_tenant(cloud_app: Flask) -> Callable[..., str]:
    """``make_tenant(sub, owner, password, extra_users={name: role})`` -> tenant id."""

    def make(subdomain: str, owner: str, password: str,
             extra_users: dict[str, str] | None = None) -> str:
        with cloud_app.extensions["anthias"].database.connection_context():
            tenant, _ = create_tenant(subdomain.title(), subdomain, owner, password)
            for username, role in (extra_users or {}).items():
                TenantService(tenant.id).create_user(username, password, role)
        return tenant.id

    return make
