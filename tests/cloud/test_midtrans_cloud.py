"""Midtrans in the cloud: the webhook under row-level security, the reconciler's election.

A cloud request runs as ``anthias_app`` with no tenant, so the notification endpoint reaches
the paying tenant only through the billing service's lookup by order id; the reconciler runs
in whichever worker wins ``pg_try_advisory_lock``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask

from anthias_edge.app import create_app
from anthias_edge.models.billing import Subscription
from anthias_edge.reconciler import LOCK_KEY, run_reconciler
from anthias_edge.services.auth.crypto_box import load_crypto_box
from anthias_edge.services.billing import BillingService
from anthias_edge.services.row_security import tenant_scope
from anthias_edge.services.tenants import create_tenant
from tests.cloud.conftest import SECRET_KEY, cloud_environ
from tests.cloud.pg import database_fixtures
from tests.cloud.test_cloud_server import server_env, wait_running
from tests.helpers import serve_wsgi
from tests.midtrans_emulator import Emulator, running_emulator

pytestmark = pytest.mark.postgres

PATH = "/api/v3/payments/midtrans/notification"
server_url, midtrans_pg = database_fixtures("anthias_midtrans_test", made="server_url",
                                            emptied="midtrans_pg", migrated=True)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """A Midtrans emulator on loopback."""
    with running_emulator() as running:
        yield running


@pytest.fixture
def app(home: Path, midtrans_pg: str, emulator: Emulator) -> Iterator[Flask]:
    """A cloud app whose midtrans plugin talks to the emulator."""
    app = create_app(environ=cloud_environ(
        home, midtrans_pg, ANTHIAS_SECRET_KEY=SECRET_KEY,
        ANTHIAS_PLUGIN_MIDTRANS_SERVER_KEY=emulator.server_key,
        ANTHIAS_PLUGIN_MIDTRANS_SNAP_URL=emulator.snap_url(),
        ANTHIAS_PLUGIN_MIDTRANS_API_URL=emulator.url))
    yield app
    app.extensions["anthias"].close()


def _tenant(app: Flask, subdomain: str) -> str:
    with app.extensions["anthias"].database.connection_context():
        tenant, _ = create_tenant(subdomain.title(), subdomain, f"{subdomain}-owner",
                                  "correct horse battery")
    return tenant.id


def _subscribe(app: Flask, tenant: str, plan: str = "basic") -> str:
    runtime = app.extensions["anthias"]
    settings = runtime.settings
    with runtime.database.connection_context(), tenant_scope(runtime.database, tenant):
        result = BillingService(
            tenant, "owner", providers=runtime.plugins.payment_providers,
            events=runtime.plugins.events,
            box=load_crypto_box(settings.deployment, settings.home, cloud=True)).subscribe(plan)
    return result.checkout.order_id


def _subscription(app: Flask, tenant: str) -> Subscription | None:
    database = app.extensions["anthias"].database
    with database.connection_context(), tenant_scope(database, tenant):
        return Subscription.get_or_none(Subscription.tenant == tenant)


def test_the_webhook_applies_a_payment_to_its_own_tenant_only(app: Flask, emulator: Emulator):
    alpha, beta = _tenant(app, "alpha"), _tenant(app, "beta")
    order_id = _subscribe(app, alpha)

    with serve_wsgi(app) as url:
        emulator.payment_notification_url = url + PATH
        emulator.pay(order_id)

    (delivery,) = emulator.deliveries
    assert (delivery.status, json.loads(delivery.answer)) == (200, {"outcome": "applied"})
    assert _subscription(app, alpha).status == "active"
    assert _subscription(app, beta) is None


def test_a_forged_notification_in_the_cloud_is_refused(app: Flask, emulator: Emulator):
    alpha = _tenant(app, "alpha")
    order_id = _subscribe(app, alpha)
    emulator.pay(order_id)  # no webhook configured yet: nothing delivered
    body = {**emulator.notification_body(order_id), "signature_key": "f" * 128}

    with serve_wsgi(app) as url:
        delivery = emulator.send(body, url + PATH)

    assert delivery.status == 400
    assert _subscription(app, alpha) is None


def test_only_the_worker_holding_the_lock_reconciles(app: Flask, emulator: Emulator,
                                                     midtrans_pg: str):
    alpha = _tenant(app, "alpha")
    order_id = _subscribe(app, alpha)
    emulator.pay(order_id)  # the notification is lost: no webhook URL
    runtime = app.extensions["anthias"]

    with psycopg.connect(midtrans_pg, autocommit=True) as other_worker:
        other_worker.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        skipped = run_reconciler(runtime)
        still_open = _subscription(app, alpha)
        other_worker.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    applied = run_reconciler(runtime)

    assert skipped is None
    assert still_open is None
    assert applied == {"order_applied": 1}
    assert _subscription(app, alpha).status == "active"


def test_each_worker_schedules_the_reconciler_and_closing_stops_it(app: Flask):
    from anthias_edge.reconciler import JOB, start_reconciler

    runtime = app.extensions["anthias"]
    scheduler = start_reconciler(runtime)

    assert scheduler is runtime.scheduler
    assert scheduler.get_job(JOB).trigger.interval.total_seconds() == 300
    runtime.close()
    assert not scheduler.running
    assert runtime.scheduler is None


def test_gunicorn_workers_take_the_notification_and_schedule_the_reconciler(
        app: Flask, emulator: Emulator, midtrans_pg: str, tmp_path: Path):
    alpha = _tenant(app, "alpha")
    order_id = _subscribe(app, alpha)
    server_home = tmp_path / "server-home"
    server_home.mkdir()
    env = {**server_env(server_home, midtrans_pg),
           "ANTHIAS_SECRET_KEY": SECRET_KEY,
           "ANTHIAS_PLUGIN_MIDTRANS_SERVER_KEY": emulator.server_key,
           "ANTHIAS_PLUGIN_MIDTRANS_SNAP_URL": emulator.snap_url(),
           "ANTHIAS_PLUGIN_MIDTRANS_API_URL": emulator.url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "anthias_edge.cli", "serve", "--listen", "127.0.0.1:0",
         "--workers", "2", "--threads", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port, workers = wait_running(proc)
        emulator.payment_notification_url = f"http://127.0.0.1:{port}{PATH}"
        emulator.pay(order_id)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, errors = proc.communicate(timeout=30)

    (delivery,) = emulator.deliveries
    assert (delivery.status, json.loads(delivery.answer)) == (200, {"outcome": "applied"})
    assert _subscription(app, alpha).status == "active"
    assert errors.count("billing reconciler scheduled every 5 min") == workers
