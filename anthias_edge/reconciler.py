"""The billing reconciler: asks the payment providers what our notifications may have missed.

Webhooks get lost (integrations.md 1.7 point 4): a notification dropped on the way, a
deployment down while Midtrans gave up retrying. So every few minutes one process asks each
provider about the payment attempts still open and the subscriptions still active, and the
billing service applies the answers exactly as it applies notifications (it ignores what it
already knows, so a run after a delivered notification changes nothing).

One at a time: in the cloud every gunicorn worker schedules the job, and a run first takes a
PostgreSQL session advisory lock with ``pg_try_advisory_lock``; the workers that do not get
it skip that run (``None``), so the gateway is asked once per interval whatever the number of
workers and hosts. On SQLite (a device) there is one server process and no subscription.
"""

from __future__ import annotations

import atexit
import functools
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from peewee import Database

from anthias_edge.db import is_postgresql
from anthias_edge.runtime import Runtime

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

logger = logging.getLogger(__name__)

JOB = "billing-reconciler"
# Its own key, beside the migrations' ("anthias\0"): "anthiasR".
LOCK_KEY = 0x616E746869617352
INTERVAL_MINUTES = 5


@contextmanager
def elected(database: Database) -> Iterator[bool]:
    """True for the one caller holding the reconciler's lock (always True on SQLite).

    A session lock on the connection the block uses, released at its end; a worker that dies
    holding it loses its connection, and PostgreSQL releases the lock with it.
    """
    if not is_postgresql(database):
        yield True
        return
    got = database.execute_sql("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]
    try:
        yield bool(got)
    finally:
        if got:
            database.execute_sql("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def run_reconciler(runtime: Runtime) -> dict[str, int] | None:
    """One run over every enabled provider: what happened, counted by outcome
    (``services.billing.reconcile_open``), or None if another process holds the lock.
    Never raises: a failing provider is logged and counted, the others still run.
    """
    from anthias_edge.services.auth.crypto_box import load_crypto_box
    from anthias_edge.services.billing import reconcile_open

    providers = dict(runtime.plugins.payment_providers) if runtime.plugins else {}
    if not providers:
        return {}
    settings = runtime.settings
    box = load_crypto_box(settings.deployment, settings.home, cloud=runtime.is_cloud)
    counts: dict[str, int] = {}
    outcome = "ok"
    with runtime.database.connection_context(), elected(runtime.database) as leader:
        if not leader:
            logger.debug("billing reconciler: another process is running it")
            _count(runtime, "skipped")
            return None
        for name, provider in sorted(providers.items()):
            try:
                found = reconcile_open(runtime.database, provider, box=box,
                                       events=runtime.plugins.events)
            except Exception:
                logger.exception("billing reconciler: provider %s failed", name)
                counts["error"] = counts.get("error", 0) + 1
                outcome = "error"
                continue
            for key, number in found.items():
                counts[key] = counts.get(key, 0) + number
    if counts:
        logger.info("billing reconciler: %s", ", ".join(f"{k} {v}" for k, v in
                                                        sorted(counts.items())))
    _count(runtime, outcome)
    return counts


def start_reconciler(runtime: Runtime, minutes: int = INTERVAL_MINUTES
                     ) -> BackgroundScheduler | None:
    """Schedule ``run_reconciler`` every ``minutes`` in this process (each cloud worker).

    Nothing is scheduled without a payment provider. The job joins the runtime's scheduler
    when it has one (``jobs.start_jobs``), else gets one of its own that ``runtime.close()``
    stops like the jobs' scheduler.
    """
    if runtime.plugins is None or not runtime.plugins.payment_providers:
        return None
    scheduler = runtime.scheduler
    if scheduler is None:
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(
            daemon=True, job_defaults={"coalesce": True, "max_instances": 1})
        scheduler.start()
        shutdown = functools.partial(_shutdown, scheduler)
        atexit.register(shutdown)
        runtime.scheduler, runtime.scheduler_shutdown = scheduler, shutdown
    scheduler.add_job(run_reconciler, "interval", args=[runtime], id=JOB, name=JOB,
                      minutes=minutes, replace_existing=True)
    logger.info("billing reconciler scheduled every %d min", minutes)
    return scheduler


def _shutdown(scheduler: BackgroundScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=False)


def _count(runtime: Runtime, outcome: str) -> None:
    if runtime.metrics is not None:
        runtime.metrics.count_job_run(JOB, outcome)
