"""What the console's browser tests share: the server's handle, users, sign-in, screenshots."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from flask import Flask

from anthias_edge.app import create_app
from anthias_edge.permissions import ROLES
from anthias_edge.services.tenants import TenantService, create_tenant
from tests.cloud.pg import database_url

BASE_DOMAIN = "signage.test"
PASSWORD = "correct horse battery"
TENANTS = ("acme", "globex")
SECRET_KEY = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE="
# Short enough that a test sees the page renew it; the server allows at most 15 minutes.
ACCESS_TOKEN_TTL = dt.timedelta(minutes=2)
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "console"
DEFAULT_TIMEOUT_MS = 15_000


def console_database() -> str:
    """This run's own database: named after ANTHIAS_TEST_DATABASE_URL's, so parallel runs
    on other databases never drop each other's."""
    base = urlparse(os.environ.get("ANTHIAS_TEST_DATABASE_URL") or database_url("anthias"))
    name = (base.path.strip("/") or "anthias").replace("-", "_")
    return f"{name}_console"


def username(tenant: str, role: str) -> str:
    """The user of ``role`` in ``tenant``."""
    return f"{tenant}-{role}"


def console_app(home: Path, url: str, **environ: str) -> Flask:
    """The cloud app on database ``url`` as the console tests serve it: the base domain, the
    tests' secret key and short access tokens; ``environ`` adds settings (a plugin's, say)."""
    previous_key = os.environ.get("ANTHIAS_SECRET_KEY")
    os.environ["ANTHIAS_SECRET_KEY"] = SECRET_KEY  # read once, when the auth stack loads
    try:
        app = create_app(environ={"HOME": str(home), "ANTHIAS_MODE": "cloud",
                                  "DATABASE_URL": url, "ANTHIAS_BASE_DOMAIN": BASE_DOMAIN,
                                  "ANTHIAS_SECRET_KEY": SECRET_KEY, **environ})
    finally:
        if previous_key is None:
            os.environ.pop("ANTHIAS_SECRET_KEY", None)
        else:
            os.environ["ANTHIAS_SECRET_KEY"] = previous_key
    app.config["ANTHIAS_BASE_DOMAIN"] = BASE_DOMAIN
    app.extensions["anthias"].auth.access_tokens.ttl = ACCESS_TOKEN_TTL
    return app


def create_tenant_with_roles(tenant: str) -> str:
    """Tenant ``tenant`` with one user per role, ``<tenant>-<role>``, all with PASSWORD; its id.

    Call it with the app's database connected."""
    made, _owner = create_tenant(tenant.title(), tenant, username(tenant, "owner"), PASSWORD)
    for role in ROLES:
        if role != "owner":
            TenantService(made.id).create_user(username(tenant, role), PASSWORD, role)
    return made.id


@dataclass
class ConsoleServer:
    """The running cloud server, its tenants and a clock the tests may move forward."""

    app: Flask
    port: int
    tenant_ids: dict[str, str]
    clock_offset: list[dt.timedelta] = field(default_factory=lambda: [dt.timedelta(0)])

    def url(self, tenant: str | None = "acme") -> str:
        """The console's address on ``tenant``'s subdomain (None: the base domain)."""
        host = f"{tenant}.{BASE_DOMAIN}" if tenant else BASE_DOMAIN
        return f"http://{host}:{self.port}"

    @property
    def runtime(self) -> Any:
        """The server's shared objects."""
        return self.app.extensions["anthias"]

    @contextlib.contextmanager
    def db(self) -> Iterator[None]:
        """A connection to the server's database, for setting up or checking rows."""
        with self.runtime.database.connection_context():
            yield

    def advance_clock(self, delta: dt.timedelta) -> None:
        """Move the server's clock forward (every access token issued before expires)."""
        self.clock_offset[0] += delta

    def add_assets(self, tenant: str, names: list[str], **values: Any) -> list[str]:
        """Create one web-page asset per name in ``tenant``; answer their ids."""
        ids = []
        with self.db():
            service = self.runtime.assets(self.tenant_ids[tenant])
            for number, name in enumerate(names):
                body = {"name": name, "uri": f"https://example.com/{number}",
                        "mimetype": "webpage", "duration": 10, "is_enabled": True,
                        "nocache": False, "play_order": 0, "skip_asset_check": True,
                        "start_date": None, "end_date": None, "tags": [], "metadata": {},
                        **values}
                for key in ("start_date", "end_date"):
                    if isinstance(body[key], str):  # ISO text, as the API takes it
                        when = dt.datetime.fromisoformat(body[key].replace("Z", "+00:00"))
                        body[key] = when.astimezone(dt.UTC).replace(tzinfo=None)
                ids.append(service.create(body, unique_name=False, renumber=False).asset_id)
        return ids


def sign_in(page: Any, host: str, user: str, password: str = PASSWORD, *,
            tenant: str | None = None, expect_success: bool = True) -> None:
    """Open the console at ``host`` (a base URL) and sign in through its form.

    ``tenant`` fills the organisation field (only on the base domain). With
    ``expect_success`` the call returns once the signed-in shell shows.
    """
    page.goto(host + "/")
    page.get_by_role("heading", name="Sign in").wait_for()
    if tenant is not None:
        page.get_by_label("Organisation").fill(tenant)
    page.get_by_label("User name").fill(user)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if expect_success:
        page.get_by_role("button", name="Sign out everywhere").wait_for()


def save_screenshots(page: Any, name: str) -> list[Path]:
    """Save ``name``-desktop.png (1280x800) and ``name``-phone.png (390x844), full page.

    The files go to tests/artifacts/console/ (git-ignored); the folder is printed.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    saved = []
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(100)  # let the layout settle after the resize
        path = ARTIFACTS / f"{slug}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    if original:
        page.set_viewport_size(original)
    print(f"console screenshots: {ARTIFACTS}")
    return saved
