"""The landing page /q/<code> in cloud mode: a tenant's host shows its own codes only.

The page runs as the app's role under row-level security, its tenant found from the code by
``anthias_public_code_tenant``; the host decides whose codes it may show (a subdomain or
custom domain: that tenant's; the base domain or an address: any active tenant's).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from anthias_edge.app import create_app
from anthias_edge.models import Tenant
from tests.cloud.conftest import BASE_DOMAIN, SECRET_KEY, cloud_environ
from tests.cloud.pg import drop_database, fresh_database
from tests.helpers import serve_wsgi
from tests.web.landing_data import add_asset, add_code, scans
from tests.web.test_landing_concurrency import CLIENTS, GETS, hammer

pytestmark = pytest.mark.postgres

DATABASE = "anthias_landing_test"  # apart from the other cloud modules' database
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def cloud_server_url() -> Iterator[str]:
    """This module's own database (overrides the package's shared one)."""
    yield fresh_database(DATABASE)
    drop_database(DATABASE)


@pytest.fixture
def codes(cloud_app: Flask, make_tenant: Callable[..., str]) -> dict[str, str]:
    """Tenants acme and globex, each with one shared picture: {subdomain: its QR code}."""
    found = {}
    for sub, owner in (("acme", "alice"), ("globex", "gina")):
        tenant_id = make_tenant(sub, owner, PASSWORD)
        asset = add_asset(cloud_app, tenant_id=tenant_id, name=f"{sub} poster")
        found[sub] = add_code(cloud_app, asset, title=f"{sub.title()} poster").qr_code
    return found


def visit(app: Flask, code: str, host: str, path: str = ""):
    response = app.test_client().get(f"/q/{code}{path}", headers={"Host": host})
    response.get_data()
    response.close()
    return response


def test_a_tenants_code_opens_on_its_subdomain_and_counts(cloud_app: Flask, codes) -> None:
    response = visit(cloud_app, codes["acme"], f"acme.{BASE_DOMAIN}")

    assert response.status_code == 200
    assert "<h1>Acme poster</h1>" in response.get_data(as_text=True)
    assert visit(cloud_app, codes["acme"], f"acme.{BASE_DOMAIN}", "/media").status_code == 200
    assert scans(cloud_app, codes["acme"])[0] == 1


def test_another_tenants_host_shows_nothing_of_it_and_counts_nothing(cloud_app: Flask,
                                                                       codes) -> None:
    page = visit(cloud_app, codes["acme"], f"globex.{BASE_DOMAIN}")
    media = visit(cloud_app, codes["acme"], f"globex.{BASE_DOMAIN}", "/media")

    assert page.status_code == 404
    assert "Acme" not in page.get_data(as_text=True)
    assert media.status_code == 404
    assert scans(cloud_app, codes["acme"]) == (0, None)


@pytest.mark.parametrize("host", [BASE_DOMAIN, "127.0.0.1", f"www2.other.{BASE_DOMAIN}"])
def test_the_base_domain_or_an_address_opens_any_tenants_code(cloud_app: Flask, codes,
                                                              host: str) -> None:
    response = visit(cloud_app, codes["globex"], host)

    if host.startswith("www2."):  # a label with a dot is nobody's subdomain
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert "<h1>Globex poster</h1>" in response.get_data(as_text=True)


def test_a_custom_domain_shows_its_tenants_codes_only(cloud_app: Flask, codes) -> None:
    with cloud_app.extensions["anthias"].database.connection_context():
        Tenant.update(custom_domain="screens.acme.example").where(
            Tenant.subdomain == "acme").execute()

    own = visit(cloud_app, codes["acme"], "screens.acme.example")
    other = visit(cloud_app, codes["globex"], "screens.acme.example")
    nobodys = visit(cloud_app, codes["globex"], "unknown.example")

    assert (own.status_code, other.status_code, nobodys.status_code) == (200, 404, 200)


def test_an_unknown_subdomain_or_a_suspended_tenant_shows_nothing(cloud_app: Flask,
                                                                   codes) -> None:
    with cloud_app.extensions["anthias"].database.connection_context():
        Tenant.update(is_active=False).where(Tenant.subdomain == "globex").execute()

    assert visit(cloud_app, codes["acme"], f"nobody.{BASE_DOMAIN}").status_code == 404
    assert visit(cloud_app, codes["globex"], f"globex.{BASE_DOMAIN}").status_code == 404
    assert visit(cloud_app, codes["globex"], BASE_DOMAIN).status_code == 404


@pytest.fixture
def cloud_app_with(home, cloud_url: str) -> Iterator[Callable[..., Flask]]:
    """Another cloud app on the same database, with settings of the test's choosing."""
    apps: list[Flask] = []

    def build(**settings: str) -> Flask:
        app = create_app(environ=cloud_environ(home, cloud_url, ANTHIAS_SECRET_KEY=SECRET_KEY,
                                               **settings))
        app.config["ANTHIAS_BASE_DOMAIN"] = BASE_DOMAIN
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["anthias"].close()


def test_eight_clients_on_a_tenants_host_count_exactly_2000(cloud_app: Flask, codes,
                                                              cloud_app_with) -> None:
    served = cloud_app_with(ANTHIAS_QR_RATE_LIMIT="0")  # every client is 127.0.0.1

    with serve_wsgi(served, threads=8) as url:
        statuses = hammer(url, f"/q/{codes['acme']}", host=f"acme.{BASE_DOMAIN}")

    assert statuses == Counter({200: CLIENTS * GETS})
    assert scans(cloud_app, codes["acme"])[0] == 2000
    assert scans(cloud_app, codes["globex"])[0] == 0


def test_each_cloud_worker_allows_its_share_of_the_limit(cloud_app: Flask, codes,
                                                         cloud_app_with, monkeypatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "4")  # as cloud_server.py tells its workers
    worker = cloud_app_with(ANTHIAS_QR_RATE_LIMIT="8")

    statuses = [visit(worker, codes["acme"], f"acme.{BASE_DOMAIN}").status_code
                for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert scans(cloud_app, codes["acme"])[0] == 2


@pytest.mark.slow
def test_served_by_gunicorn_each_worker_allows_its_share(cloud_url: str, codes,
                                                         tmp_path) -> None:
    import http.client
    import signal
    import subprocess
    import sys

    from tests.cloud.test_cloud_server import server_env, wait_running

    home = tmp_path / "served"
    home.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "anthias_edge.cli", "serve", "--listen", "127.0.0.1:0",
         "--workers", "2", "--threads", "2"],
        env={**server_env(home, cloud_url), "ANTHIAS_QR_RATE_LIMIT": "4"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port, workers = wait_running(proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        statuses = []
        for _ in range(3):  # one keep-alive connection: one worker answers all three
            conn.request("GET", f"/q/{codes['acme']}", headers={"Host": f"acme.{BASE_DOMAIN}"})
            response = conn.getresponse()
            response.read()
            statuses.append((response.status, response.getheader("Retry-After")))
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()

    assert workers == 2
    assert statuses[:2] == [(200, None), (200, None)]
    assert statuses[2][0] == 429 and int(statuses[2][1]) >= 1
    assert scans_of(cloud_url, codes["acme"]) == 2


def scans_of(url: str, code: str) -> int:
    from tests.cloud.pg import query

    return query(url, "SELECT access_count FROM qr_contents WHERE qr_code = %s", (code,))[0][0]
