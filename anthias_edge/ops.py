"""Operations endpoints: liveness, readiness and Prometheus metrics.

``/healthz`` and ``/readyz`` are open, for systemd watchdogs and load balancers;
``/metrics`` sits behind the API's Basic auth. Each app keeps its own metrics
registry on ``runtime.extras["metrics"]``, so many apps can live in one process.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from anthias_edge.auth.guard import basic_auth_challenge
from anthias_edge.runtime import Runtime

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry, Counter, Histogram

logger = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)

# Below this the device cannot take an upload or a database write safely.
MIN_FREE_BYTES = 50 * 1024 * 1024
UNMATCHED = "unmatched"
# Answered before the app opens its per-request database connection, so that a
# broken database makes /readyz say 503 instead of failing the request with 500.


@dataclass
class Metrics:
    """One app's Prometheus registry and the instruments the server and jobs update."""

    registry: CollectorRegistry
    requests: Counter
    latency: Histogram
    job_runs: Counter
    _children: dict[tuple[str, str, int], tuple[Any, Any]] = field(default_factory=dict)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and record its duration."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            # labels() validates and locks on every call; keep the children per key instead.
            children = (self.requests.labels(method, route, str(status)),
                        self.latency.labels(method, route))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def count_job_run(self, job: str, outcome: str) -> None:
        """Count one run of a background job with its outcome (ok or error)."""
        self.job_runs.labels(job, outcome).inc()


class AssetCollector:
    """Asset gauges, counted from the database when Prometheus scrapes."""

    def __init__(self, runtime: Runtime) -> None:
        """Count the assets of ``runtime``'s database."""
        self.runtime = runtime

    def describe(self) -> Iterator[Any]:
        """Name the gauge without touching the database (called at registration)."""
        from prometheus_client.core import GaugeMetricFamily

        yield GaugeMetricFamily("anthias_assets", "Assets by state.", labels=["state"])

    def collect(self) -> Iterator[Any]:
        """Yield ``anthias_assets{state}`` for total, enabled and active assets."""
        from prometheus_client.core import GaugeMetricFamily

        try:
            counts = count_assets(self.runtime)
        except Exception:  # a scrape must not fail because the database does
            logger.exception("could not count assets for /metrics")
            return
        gauge = GaugeMetricFamily("anthias_assets", "Assets by state.", labels=["state"])
        for state, value in counts.items():
            gauge.add_metric([state], value)
        yield gauge


def count_assets(runtime: Runtime) -> dict[str, int]:
    """Total, enabled and active (playing now, schedule window included) assets."""
    from anthias_edge.models import Asset
    from anthias_edge.scheduling import is_active

    runtime.database.connect(reuse_if_open=True)
    now, zone = runtime.clock(), runtime.zone
    enabled = list(Asset.select(Asset.is_enabled, Asset.start_date, Asset.end_date,
                                Asset.play_days, Asset.play_time_from, Asset.play_time_to)
                   .where(Asset.is_enabled == True))  # noqa: E712
    return {
        "total": Asset.select().count(),
        "enabled": len(enabled),
        "active": sum(1 for asset in enabled if is_active(asset, now, zone)),
    }


def build_metrics(runtime: Runtime) -> Metrics:
    """Create the registry and instruments for one app."""
    from prometheus_client import CollectorRegistry, Counter, Histogram

    registry = CollectorRegistry()
    metrics = Metrics(
        registry=registry,
        requests=Counter("anthias_http_requests_total", "HTTP requests answered.",
                         ["method", "route", "status"], registry=registry),
        latency=Histogram("anthias_http_request_duration_seconds",
                          "Time to answer an HTTP request.", ["method", "route"],
                          registry=registry),
        job_runs=Counter("anthias_job_runs_total", "Background job runs.", ["job", "outcome"],
                         registry=registry),
    )
    registry.register(AssetCollector(runtime))
    return metrics


def init_request_metrics(app: Flask) -> None:
    """Time every request and answer the probes before the database is touched."""
    runtime: Runtime = app.extensions["anthias"]
    metrics = build_metrics(runtime)
    runtime.extras["metrics"] = metrics
    perf_counter = time.perf_counter

    def start_timer() -> None:
        g.anthias_request_started = perf_counter()

    def record(response: Response) -> Response:
        started = g.get("anthias_request_started")
        if started is not None:
            rule = request.url_rule
            metrics.observe_request(request.method, rule.rule if rule else UNMATCHED,
                                    response.status_code, perf_counter() - started)
        return response

    # First in line, so the timer covers the other hooks too.
    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)
    app.after_request(record)


def _runtime() -> Runtime:
    return current_app.extensions["anthias"]


@bp.route("/healthz", methods=["GET"])
def healthz() -> Response:
    """The process is alive and answering."""
    return jsonify(status="ok")


@bp.route("/readyz", methods=["GET"])
def readyz() -> tuple[Response, int]:
    """Ready when the database answers and the asset folder's disk has room."""
    runtime = _runtime()
    body: dict[str, Any] = {"status": "ready"}
    checks: list[Callable[[Runtime, dict[str, Any]], bool]] = [_check_database, _check_disk]
    failed = [check.__name__.removeprefix("_check_") for check in checks
              if not check(runtime, body)]
    if failed:
        body["status"] = "not ready"
        body["failed"] = failed
        return jsonify(body), 503
    return jsonify(body), 200


def _check_database(runtime: Runtime, body: dict[str, Any]) -> bool:
    database = runtime.database
    try:
        database.connect(reuse_if_open=True)
        database.execute_sql("SELECT 1")
    except Exception as exc:  # whatever the driver raises, the server is not ready
        logger.warning("readiness: database check failed: %s", exc)
        body["database"] = f"error: {exc}"
        return False
    body["database"] = "ok"
    return True


def _check_disk(runtime: Runtime, body: dict[str, Any]) -> bool:
    try:
        free = shutil.disk_usage(runtime.settings.asset_dir).free
    except OSError as exc:
        logger.warning("readiness: disk check failed: %s", exc)
        body["disk"] = f"error: {exc}"
        return False
    body["disk_free_bytes"] = free
    if free < MIN_FREE_BYTES:
        logger.warning("readiness: only %d bytes free under %s", free,
                       runtime.settings.asset_dir)
        body["disk"] = f"less than {MIN_FREE_BYTES} bytes free"
        return False
    return True


@bp.route("/metrics", methods=["GET"])
def metrics() -> Response:
    """Prometheus text exposition of this app's registry."""
    refusal = basic_auth_challenge(_runtime().settings)
    if refusal is not None:
        return refusal
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    registry = _runtime().extras["metrics"].registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
