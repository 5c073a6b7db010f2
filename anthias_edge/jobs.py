"""Background jobs inside the server: upload clean-up and asset reachability checks.

APScheduler runs them in daemon threads. Each job is a plain function of the
``Runtime`` that opens its own database connection, never raises, and counts
its run in ``anthias_job_runs_total``. One-off work (YouTube downloads) goes
through ``runtime.run_in_background``, which this module points at daemon threads.
"""

from __future__ import annotations

import atexit
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from anthias_edge.errors import BlockedUri
from anthias_edge.runtime import Runtime
from anthias_edge.services.reachability import ReachabilityChecker
from anthias_edge.services.uploads import remove_stale_uploads

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

logger = logging.getLogger(__name__)

CLEANUP = "cleanup"
REACHABILITY = "reachability"
PROBE_WORKERS = 4
# A probe can take 2 x 10 s (HEAD then GET); 100 probes over 4 threads stay well
# under the default 15-minute interval. The least recently checked go first, so
# a bigger library is covered over several runs.
MAX_PROBES_PER_RUN = 100
PROBED_PREFIXES = ("http://", "https://", "rtsp://", "rtmp://", "/")
# One-off work (YouTube downloads) running at once; more wait for a turn.
BACKGROUND_WORKERS = 4


def _count_run(runtime: Runtime, job: str, outcome: str) -> None:
    if runtime.metrics is not None:
        runtime.metrics.count_job_run(job, outcome)


def run_cleanup(runtime: Runtime) -> int:
    """Delete ``*.tmp`` uploads older than the clean-up interval; return how many went.

    It touches files only, so it opens no database connection.
    """
    try:
        interval_s = int(runtime.settings["cleanup_interval_minutes"]) * 60
        removed = remove_stale_uploads(runtime.settings.asset_dir, older_than_s=interval_s)
    except Exception:
        logger.exception("upload clean-up failed")
        _count_run(runtime, CLEANUP, "error")
        return 0
    if removed:
        logger.info("removed %d stale upload(s)", removed)
    _count_run(runtime, CLEANUP, "ok")
    return removed


def _probe(checker: ReachabilityChecker, uri: str, skip_ssl_verify: bool) -> bool | None:
    """True/False for reachable or not; None when the probe itself broke."""
    try:
        return checker.is_reachable(uri, skip_ssl_verify=skip_ssl_verify)
    except BlockedUri:
        return False
    except Exception:
        logger.exception("reachability probe of %s failed", uri)
        return None


def run_reachability_check(runtime: Runtime, *, limit: int = MAX_PROBES_PER_RUN) -> int:
    """Probe up to ``limit`` URL and file assets; store the answers; return how many."""
    from anthias_edge.models import Asset

    try:
        with runtime.database.connection_context():
            prefix_match = None
            for prefix in PROBED_PREFIXES:
                clause = Asset.uri.startswith(prefix)
                prefix_match = clause if prefix_match is None else prefix_match | clause
            assets = list(
                Asset.select(Asset.asset_id, Asset.uri, Asset.skip_ssl_verify)
                .where(prefix_match, Asset.is_processing == False)  # noqa: E712
                .order_by(Asset.last_reachability_check.asc(nulls="first"))
                .limit(limit)
            )
        checker = runtime.checker()
        # No database work in the probe threads: they only fetch.
        with ThreadPoolExecutor(max_workers=PROBE_WORKERS,
                                thread_name_prefix="reachability") as pool:
            answers = list(pool.map(
                lambda asset: _probe(checker, asset.uri, bool(asset.skip_ssl_verify)), assets))
        now = runtime.clock()
        checked = 0
        with runtime.database.connection_context(), runtime.database.atomic():
            for asset, reachable in zip(assets, answers, strict=True):
                if reachable is None:
                    continue
                Asset.update(is_reachable=reachable, last_reachability_check=now).where(
                    Asset.asset_id == asset.asset_id).execute()
                checked += 1
    except Exception:
        logger.exception("reachability check failed")
        _count_run(runtime, REACHABILITY, "error")
        return 0
    unreachable = answers.count(False)
    if unreachable:
        logger.info("reachability: %d of %d asset(s) unreachable", unreachable, checked)
    _count_run(runtime, REACHABILITY, "error" if checked < len(assets) else "ok")
    return checked


def start_jobs(runtime: Runtime) -> BackgroundScheduler:
    """Start the scheduler with both interval jobs and route one-off work to it."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(
        daemon=True, job_defaults={"coalesce": True, "max_instances": 1})
    settings = runtime.settings
    scheduler.add_job(run_cleanup, "interval", args=[runtime], id=CLEANUP, name=CLEANUP,
                      minutes=int(settings["cleanup_interval_minutes"]))
    scheduler.add_job(run_reachability_check, "interval", args=[runtime], id=REACHABILITY,
                      name=REACHABILITY, minutes=int(settings["reachability_interval_minutes"]))
    scheduler.start()
    runtime.run_in_background = _background_runner(runtime)
    # A partial per scheduler, so stopping one app's jobs leaves the others' exit hooks alone.
    shutdown = functools.partial(_shutdown, scheduler)
    atexit.register(shutdown)
    runtime.scheduler = scheduler
    runtime.scheduler_shutdown = shutdown
    logger.info("background jobs started: clean-up every %s min, reachability every %s min",
                settings["cleanup_interval_minutes"], settings["reachability_interval_minutes"])
    return scheduler


def _background_runner(runtime: Runtime) -> Callable[[Callable[[], None]], None]:
    # A daemon thread per piece of work, at most BACKGROUND_WORKERS at once, not a job of the
    # scheduler: APScheduler removes a one-off job after handing it to its pool, and a stop in
    # between raised JobLookupError in its thread (it marks itself stopped before taking its
    # lock). A thread has nothing to remove, and exiting never waits for a long download.
    slots = threading.BoundedSemaphore(BACKGROUND_WORKERS)

    def run_in_background(func: Callable[[], None]) -> None:
        name = getattr(func, "__name__", "job")

        def work() -> None:
            with slots, runtime.database.connection_context():
                try:
                    func()
                except Exception:
                    logger.exception("background work %s failed", name)

        threading.Thread(target=work, name=f"background-{name}", daemon=True).start()

    return run_in_background


def _shutdown(scheduler: BackgroundScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=False)


def stop_jobs(runtime: Runtime) -> None:
    """Stop the scheduler ``start_jobs`` started (if any); one-off work runs inline again."""
    runtime.stop_jobs()
