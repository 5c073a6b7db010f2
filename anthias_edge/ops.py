"""Operations endpoints: liveness, readiness and Prometheus metrics.

``/healthz`` and ``/readyz`` are open, for systemd watchdogs and load balancers;
``/metrics`` sits behind the API's Basic auth. Each app keeps its own metrics
registry on ``runtime.metrics``, so many apps can live in one process.
"""

from __future__ import annotations

import bisect
import itertools
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, g, jsonify, request

from anthias_edge.auth.guard import basic_auth_challenge
from anthias_edge.runtime import Runtime, current_runtime, runtime_of

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

logger = logging.getLogger(__name__)

bp = Blueprint("ops", __name__)

# Below this the device cannot take an upload or a database write safely.
MIN_FREE_BYTES = 50 * 1024 * 1024
UNMATCHED = "unmatched"
# Answered before the app opens its per-request database connection, so that a
# broken database makes /readyz say 503 instead of failing the request with 500.


# prometheus_client's default histogram buckets, in seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5,
                   10.0)


@dataclass
class _Latency:
    """One label set's histogram: a count per bucket (not cumulative), the sum and the count."""

    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0
    count: int = 0


class Metrics:
    """One app's request and job counters, exposed in Prometheus's format on ``/metrics``.

    Counting is plain dictionaries under a lock; prometheus_client is imported on the first
    scrape only. A device that nobody scrapes thus never loads it (1.2 MiB of idle memory,
    out of the budget in benchmarks/RESULTS.md), while the exposition format stays the library's.
    """

    def __init__(self, runtime: Runtime) -> None:
        """Start every count at zero; ``runtime`` feeds the asset gauges at scrape time."""
        self.runtime = runtime
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, str], int] = {}
        self._latency: dict[tuple[str, str], _Latency] = {}
        self._job_runs: dict[tuple[str, str], int] = {}
        self._registry: CollectorRegistry | None = None

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one request and record its duration."""
        bucket = bisect.bisect_left(LATENCY_BUCKETS, seconds)  # le: a bound includes itself
        key = (method, route)
        with self._lock:
            counted = (method, route, str(status))
            self._requests[counted] = self._requests.get(counted, 0) + 1
            latency = self._latency.get(key)
            if latency is None:
                latency = self._latency[key] = _Latency()
            latency.buckets[bucket] += 1
            latency.total += seconds
            latency.count += 1

    def count_job_run(self, job: str, outcome: str) -> None:
        """Count one run of a background job with its outcome (ok or error)."""
        with self._lock:
            self._job_runs[(job, outcome)] = self._job_runs.get((job, outcome), 0) + 1

    @property
    def registry(self) -> CollectorRegistry:
        """The prometheus_client registry, built on first use."""
        if self._registry is None:
            from prometheus_client import CollectorRegistry

            registry = CollectorRegistry()
            registry.register(_CountsCollector(self))
            registry.register(AssetCollector(self.runtime))
            self._registry = registry
        return self._registry

    def snapshot(self) -> tuple[dict[tuple[str, str, str], int],
                                dict[tuple[str, str], _Latency],
                                dict[tuple[str, str], int]]:
        """Consistent copies of the three tables, for one scrape."""
        with self._lock:
            latency = {key: _Latency(list(value.buckets), value.total, value.count)
                       for key, value in self._latency.items()}
            return dict(self._requests), latency, dict(self._job_runs)


class _CountsCollector:
    """Yields the request, latency and job families from a :class:`Metrics`' tables."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def describe(self) -> Iterator[Any]:
        """The families with no samples (called at registration)."""
        return self._families({}, {}, {})

    def collect(self) -> Iterator[Any]:
        """The families with the current counts."""
        return self._families(*self.metrics.snapshot())

    @staticmethod
    def _families(requests: dict[tuple[str, str, str], int],
                  latency: dict[tuple[str, str], _Latency],
                  job_runs: dict[tuple[str, str], int]) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

        family = CounterMetricFamily("anthias_http_requests", "HTTP requests answered.",
                                     labels=["method", "route", "status"])
        for labels, value in requests.items():
            family.add_metric(list(labels), value)
        yield family
        family = HistogramMetricFamily("anthias_http_request_duration_seconds",
                                       "Time to answer an HTTP request.",
                                       labels=["method", "route"])
        bounds = [*(repr(bound) for bound in LATENCY_BUCKETS), "+Inf"]
        for labels, value in latency.items():
            cumulative = list(itertools.accumulate(value.buckets))
            family.add_metric(list(labels), list(zip(bounds, cumulative, strict=True)),
                              value.total)
        yield family
        family = CounterMetricFamily("anthias_job_runs", "Background job runs.",
                                     labels=["job", "outcome"])
        for labels, value in job_runs.items():
            family.add_metric(list(labels), value)
        yield family


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
    from anthias_edge.play_windows import is_active

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


def init_request_metrics(app: Flask) -> None:
    """Time every request and answer the probes before the database is touched."""
    runtime = runtime_of(app)
    metrics = runtime.metrics = Metrics(runtime)
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


@bp.route("/healthz", methods=["GET"])
def healthz() -> Response:
    """The process is alive and answering."""
    return jsonify(status="ok")


@bp.route("/readyz", methods=["GET"])
def readyz() -> tuple[Response, int]:
    """Ready when the database answers and the asset folder's disk has room.

    In the cloud also when the secret key opens the stored signing keys: without it every
    login and token check fails, so a load balancer must not send traffic here.
    """
    runtime = current_runtime()
    body: dict[str, Any] = {"status": "ready"}
    checks: list[Callable[[Runtime, dict[str, Any]], bool]] = [_check_database, _check_disk]
    if runtime.is_cloud:
        checks.append(_check_secret_key)
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


def _check_secret_key(runtime: Runtime, body: dict[str, Any]) -> bool:
    from anthias_edge.errors import SecretKeyUnusable

    try:
        runtime.auth.access_tokens.check_keys()
    except SecretKeyUnusable as exc:
        logger.warning("readiness: secret key check failed: %s", exc.message)
        body["secret_key"] = f"error: {exc.message}"
        return False
    except Exception as exc:  # the database check reports the cause
        logger.warning("readiness: secret key could not be checked: %s", exc)
        body["secret_key"] = "error: could not be checked"
        return False
    body["secret_key"] = "ok"
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
    refusal = basic_auth_challenge(current_runtime().settings)
    if refusal is not None:
        return refusal
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    registry = current_runtime().metrics.registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
