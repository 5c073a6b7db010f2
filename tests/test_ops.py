"""Operations endpoints: /healthz, /readyz and the Prometheus /metrics."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from anthias_edge import ops
from anthias_edge.db import is_sqlite
from anthias_edge.jobs import run_cleanup
from anthias_edge.runtime import Runtime
from anthias_edge.settings import hash_password
from tests.helpers import basic, v2_asset

AUTH = {"ANTHIAS_AUTH_BACKEND": "auth_basic", "ANTHIAS_USER": "u",
        "ANTHIAS_PASSWORD": hash_password("p")}


def samples(client, **headers) -> dict[tuple[str, frozenset], float]:
    """Scrape /metrics and index every sample by name and labels."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def labels(**values: str) -> frozenset:
    return frozenset(values.items())


@contextlib.contextmanager
def database_unreachable(runtime: Runtime) -> Iterator[None]:
    """Make the app's own database impossible to connect to, then put it back."""
    runtime.close_database()  # empty the pool: the next request must really connect
    database = runtime.database
    if is_sqlite(database):
        folder = runtime.settings.database_path.parent
        away = folder.with_name(folder.name + "-away")
        folder.rename(away)
        try:
            yield
        finally:
            away.rename(folder)
        return
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    saved = dict(database.connect_params)
    database.connect_params.update(host="127.0.0.1", port=closed_port)
    try:
        yield
    finally:
        database.connect_params.clear()
        database.connect_params.update(saved)


def test_healthz_says_the_process_is_alive(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_the_database_and_free_disk_space(client):
    response = client.get("/readyz")

    body = response.get_json()
    assert response.status_code == 200
    assert body["status"] == "ready" and body["database"] == "ok"
    assert isinstance(body["disk_free_bytes"], int) and body["disk_free_bytes"] > 0


def test_readyz_is_503_when_the_asset_disk_is_nearly_full(app, client, monkeypatch):
    free = shutil.disk_usage(app.extensions["anthias"].settings.asset_dir).free
    monkeypatch.setattr(ops, "MIN_FREE_BYTES", free + 10 * 1024**3)

    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["failed"] == ["disk"] and body["database"] == "ok"


def test_readyz_is_503_and_healthz_still_200_when_the_database_cannot_be_opened(app, client):
    with database_unreachable(app.extensions["anthias"]):
        ready = client.get("/readyz")
        alive = client.get("/healthz")

    assert ready.status_code == 503
    assert ready.get_json()["failed"] == ["database"]
    assert ready.get_json()["database"].startswith("error:")
    assert alive.status_code == 200
    assert client.get("/readyz").status_code == 200


def test_metrics_count_requests_per_route_method_and_status(client):
    client.get("/api/v2/assets")
    client.get("/api/v2/assets")
    client.get("/no/such/page")

    scraped = samples(client)

    route = "/api/v2/assets"
    assert scraped[("anthias_http_requests_total",
                    labels(method="GET", route=route, status="200"))] == 2
    assert scraped[("anthias_http_requests_total",
                    labels(method="GET", route="unmatched", status="404"))] == 1
    assert scraped[("anthias_http_request_duration_seconds_count",
                    labels(method="GET", route=route))] == 2
    assert scraped[("anthias_http_request_duration_seconds_sum",
                    labels(method="GET", route=route))] > 0


def test_metrics_latency_buckets_are_cumulative_and_include_their_bound(app):
    metrics = app.extensions["anthias"].metrics
    for seconds in (0.005, 0.02, 20.0):  # on a bound, between two, beyond the last
        metrics.observe_request("GET", "/probe", 200, seconds)

    scraped = samples(app.test_client())

    def bucket(le: str) -> float:
        return scraped[("anthias_http_request_duration_seconds_bucket",
                        labels(method="GET", route="/probe", le=le))]

    assert [bucket("0.005"), bucket("0.01"), bucket("0.025"), bucket("10.0"),
            bucket("+Inf")] == [1, 1, 2, 2, 3]
    assert scraped[("anthias_http_request_duration_seconds_sum",
                    labels(method="GET", route="/probe"))] == pytest.approx(20.025)


def test_an_idle_device_server_loads_neither_metrics_nor_password_libraries(tmp_path):
    """The idle-memory budget: prometheus_client and argon2 load on first use only."""
    script = (
        "import sys\n"
        "from anthias_edge.app import create_app\n"
        "client = create_app().test_client()\n"
        "assert client.get('/api/v2/assets').status_code == 200\n"
        "print(sorted(m for m in ('prometheus_client', 'argon2') if m in sys.modules))\n"
        "assert client.get('/metrics').status_code == 200\n"
        "print('prometheus_client' in sys.modules)\n")
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("ANTHIAS_") and key != "DATABASE_URL"}
    environ.update(HOME=str(tmp_path), ANTHIAS_ZMQ_PUBLISHER="tcp://127.0.0.1:*",
                   ANTHIAS_ZMQ_COLLECTOR="tcp://127.0.0.1:*")
    result = subprocess.run([sys.executable, "-c", script], env=environ, capture_output=True,
                            text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "True"]


def test_metrics_use_the_route_pattern_not_the_concrete_url(client):
    asset_id = client.post("/api/v2/assets", json=v2_asset()).get_json()["asset_id"]
    client.get(f"/api/v2/assets/{asset_id}")

    scraped = samples(client)

    assert scraped[("anthias_http_requests_total", labels(
        method="GET", route="/api/v2/assets/<asset_id>", status="200"))] == 1
    assert not any(asset_id in value for _name, pairs in scraped for _key, value in pairs)


def test_metrics_asset_gauges_count_total_enabled_and_active(client):
    client.post("/api/v2/assets", json=v2_asset(name="playing"))
    client.post("/api/v2/assets", json=v2_asset(name="expired", start_date="2019-01-01T00:00:00Z",
                                                end_date="2020-01-01T00:00:00Z"))
    client.post("/api/v2/assets", json=v2_asset(name="off", is_enabled=False))

    scraped = samples(client)

    assert {state: scraped[("anthias_assets", labels(state=state))]
            for state in ("total", "enabled", "active")} == {
        "total": 3, "enabled": 2, "active": 1}


def test_metrics_count_job_runs(app, client):
    run_cleanup(app.extensions["anthias"])

    scraped = samples(client)

    assert scraped[("anthias_job_runs_total", labels(job="cleanup", outcome="ok"))] == 1


def test_each_app_keeps_its_own_metrics(make_app):
    first, second = make_app().test_client(), make_app().test_client()
    first.get("/healthz")

    assert ("anthias_http_requests_total",
            labels(method="GET", route="/healthz", status="200")) not in samples(second)


def test_metrics_ask_for_credentials_when_auth_is_on(make_app):
    client = make_app(**AUTH).test_client()

    refused = client.get("/metrics")
    wrong = client.get("/metrics", headers=basic("u", "wrong"))

    assert refused.status_code == 401 and wrong.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert ("anthias_job_runs_total" in
            client.get("/metrics", headers=basic("u", "p")).get_data(as_text=True))


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_stay_open_when_auth_is_on(make_app, path):
    client = make_app(**AUTH).test_client()

    assert client.get(path).status_code == 200
