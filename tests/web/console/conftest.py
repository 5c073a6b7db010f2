"""The cloud console in a real browser: a cloud server on PostgreSQL, tenants, users, Chromium.

One server serves the whole session: the cloud app (``ANTHIAS_MODE=cloud``) on a PostgreSQL
database of its own, behind waitress on a free loopback port. Chromium resolves
``*.signage.test`` to that port's host, so each tenant's console opens on its own subdomain
exactly as in production (``http://acme.signage.test:<port>/``) and the base domain shows the
sign-in form with an organisation field.

Tenants ``acme`` and ``globex`` each have one user per role, named ``<tenant>-<role>``, all
with ``PASSWORD``. Tests that change data use names of their own, so they never depend on
each other or on their order.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from anthias_edge.db import db
from tests.cloud.pg import drop_database, fresh_database
from tests.helpers import serve_wsgi
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.web.console.helpers import (
    BASE_DOMAIN,
    DEFAULT_TIMEOUT_MS,
    DESKTOP,
    TENANTS,
    ConsoleServer,
    console_app,
    console_database,
    create_tenant_with_roles,
)


@pytest.fixture(scope="session")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleServer]:
    """The cloud app on its own PostgreSQL database, served on 127.0.0.1 for the session."""
    name = console_database()
    url = fresh_database(name)
    app = console_app(tmp_path_factory.mktemp("console-home"), url)
    runtime = app.extensions["anthias"]
    offset = [dt.timedelta(0)]
    real_clock = runtime.clock
    runtime.clock = lambda: real_clock() + offset[0]
    with runtime.database.connection_context():
        tenant_ids = {tenant: create_tenant_with_roles(tenant) for tenant in TENANTS}
    with serve_wsgi(app, threads=8) as served:
        port = int(served.rsplit(":", 1)[1])
        yield ConsoleServer(app, port, tenant_ids, offset)
    runtime.messenger.close()
    runtime.close_database()
    drop_database(name)


@pytest.fixture(scope="session")
def console_browser(browser: Any) -> Iterator[Any]:
    """The system Chromium with ``*.signage.test`` and ``*.example`` resolving to loopback."""
    # Tenants' custom domains in the tests end in .example (a reserved name).
    rules = f"MAP *.{BASE_DOMAIN} 127.0.0.1, MAP {BASE_DOMAIN} 127.0.0.1, MAP *.example 127.0.0.1"
    launched = browser.browser_type.launch(
        executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, f"--host-resolver-rules={rules}"])
    yield launched
    launched.close()


@pytest.fixture(autouse=True)
def _console_database_bound(request: pytest.FixtureRequest) -> None:
    """Point the models at the console server's database before each test that uses it.

    The server runs in this process and models reach their database through one proxy
    (anthias_edge.db.db); any other app a test builds (a device's, say) rebinds it.
    """
    if "console_server" in request.fixturenames:
        server: ConsoleServer = request.getfixturevalue("console_server")
        db.initialize(server.runtime.database)


@pytest.fixture
def open_console(console_browser: Any) -> Iterator[Callable[..., Any]]:
    """``open_console(viewport=DESKTOP, timezone="UTC")``: a fresh browser tab (own cookies).

    Any error in the browser's console on any of the test's tabs fails the test: a
    JavaScript error, anything the Content-Security-Policy refused, any file of the page
    (the icon included) that answered 4xx/5xx. The API's 4xx answers are the page's to
    explain in words, and a test asserts on them; so is a document's own status.
    """
    contexts: list[Any] = []
    errors: list[str] = []

    def open_tab(viewport: dict[str, int] | None = None, timezone: str = "UTC") -> Any:
        context = console_browser.new_context(viewport=viewport or DESKTOP,
                                              timezone_id=timezone, locale="en-GB")
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(DEFAULT_TIMEOUT_MS)
        documents: set[str] = set()
        page.on("request", lambda request: documents.add(request.url)
                if request.resource_type == "document" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(console_error(message))
                if message.type == "error" and not expected_refusal(message, documents)
                else None)
        return page

    yield open_tab
    for context in contexts:
        context.close()
    assert errors == [], f"errors in the browser's console: {errors}"


def console_error(message: Any) -> str:
    """The console message with the address it is about (a failed load names no file)."""
    return f"{message.text} ({message.location.get('url', '')})"


def expected_refusal(message: Any, documents: set[str]) -> bool:
    """Whether ``message`` reports an API call's 4xx or a document's status, not a fault.

    Chromium reports every response of 400 or more as "Failed to load resource" with the
    resource's address; nothing else says which request failed (the icon's fetch reaches no
    request event).
    """
    if not message.text.startswith("Failed to load resource"):
        return False
    url = message.location.get("url", "")
    status = re.search(r"status of (\d{3})", message.text)
    api_refusal = (urlparse(url).path.startswith("/api/") and status is not None
                   and 400 <= int(status.group(1)) < 500)
    return api_refusal or url in documents


@pytest.fixture
def console_page(open_console: Callable[..., Any]) -> Any:
    """A fresh desktop tab (1280x800)."""
    return open_console()
