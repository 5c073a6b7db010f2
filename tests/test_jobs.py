"""The background jobs: upload clean-up, reachability checks, and the scheduler running them."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from anthias_edge.db import open_database
from anthias_edge.jobs import run_cleanup, run_reachability_check, start_jobs, stop_jobs
from anthias_edge.models import Asset
from anthias_edge.runtime import Runtime
from tests.clients import create_asset_id


@pytest.fixture
def web(web_server: str) -> str:
    """A loopback web server: 200 on /ok, 404 on /missing, HEAD 405 but GET 200 on /get-only."""
    return web_server


@pytest.fixture
def runtime(app: Flask) -> Runtime:
    """The runtime of ``app``, as the jobs get it."""
    return app.extensions["anthias"]


@pytest.fixture
def scheduled(make_app: Callable[..., Flask]) -> Iterator[Runtime]:
    """A runtime whose jobs run, every 5 and 7 minutes; the scheduler is stopped afterwards."""
    runtime = make_app(ANTHIAS_CLEANUP_INTERVAL_MINUTES="5",
                       ANTHIAS_REACHABILITY_INTERVAL_MINUTES="7").extensions["anthias"]
    start_jobs(runtime)
    yield runtime
    stop_jobs(runtime)


def job_runs(runtime: Runtime, job: str, outcome: str) -> float | None:
    return runtime.metrics.registry.get_sample_value(
        "anthias_job_runs_total", {"job": job, "outcome": outcome})


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_cleanup_removes_old_tmp_uploads_and_keeps_fresh_and_other_files(runtime):
    asset_dir = runtime.settings.asset_dir
    old, old_part, fresh, media = (asset_dir / name for name in (
        "old.tmp", "old.tmp.part", "fresh.tmp", "video.mp4"))
    for path in (old, old_part, fresh, media):
        path.write_bytes(b"data")
    for path in (old, old_part, media):
        age(path, 2 * 3600)

    removed = run_cleanup(runtime)

    assert removed == 2
    assert sorted(p.name for p in asset_dir.iterdir()) == ["fresh.tmp", "video.mp4"]


def test_cleanup_keeps_a_tmp_file_younger_than_the_interval(make_app):
    runtime = make_app(ANTHIAS_CLEANUP_INTERVAL_MINUTES="180").extensions["anthias"]
    upload = runtime.settings.asset_dir / "slow.tmp"
    upload.write_bytes(b"half")
    age(upload, 2 * 3600)

    assert run_cleanup(runtime) == 0
    assert upload.exists()


def test_reachability_check_marks_each_asset_and_the_v2_api_shows_it(runtime, client, web, home):
    before = runtime.clock()
    ok = create_asset_id(client, "v2", uri=f"{web}/ok")
    missing = create_asset_id(client, "v2", uri=f"{web}/missing")
    get_only = create_asset_id(client, "v2", uri=f"{web}/get-only")
    image = runtime.settings.asset_dir / "gone.png"
    image.write_bytes(b"png")
    local = create_asset_id(client, "v2", uri=str(image), mimetype="image")
    Path(client.get(f"/api/v2/assets/{local}").get_json()["uri"]).unlink()  # the file goes

    checked = run_reachability_check(runtime)

    assert checked == 4
    shown = {asset_id: client.get(f"/api/v2/assets/{asset_id}").get_json()
             for asset_id in (ok, missing, get_only, local)}
    assert {asset_id: body["is_reachable"] for asset_id, body in shown.items()} == {
        ok: True, missing: False, get_only: True, local: False}
    assert all(body["last_reachability_check"] for body in shown.values())
    with runtime.database.connection_context():
        stamps = [a.last_reachability_check for a in Asset.select()]
    assert all(stamp >= before for stamp in stamps)


def test_reachability_check_probes_at_most_the_cap_least_recently_checked_first(
        runtime, client, web):
    ids = [create_asset_id(client, "v2", uri=f"{web}/ok", name=f"page {n}") for n in range(3)]

    assert run_reachability_check(runtime, limit=2) == 2
    with runtime.database.connection_context():
        unchecked = [a.asset_id for a in Asset.select().where(
            Asset.last_reachability_check.is_null())]
    assert len(unchecked) == 1 and unchecked[0] in ids

    assert run_reachability_check(runtime, limit=1) == 1
    with runtime.database.connection_context():
        assert Asset.get_by_id(unchecked[0]).last_reachability_check is not None


def test_reachability_check_skips_other_schemes_and_assets_still_processing(runtime, client, web):
    processing = create_asset_id(client, "v2", uri=f"{web}/missing")
    with runtime.database.connection_context():
        Asset.update(is_processing=True).where(Asset.asset_id == processing).execute()
        Asset.create(asset_id="ftp", uri="ftp://example.com/a.png", mimetype="image")

    assert run_reachability_check(runtime) == 0
    with runtime.database.connection_context():
        assert all(a.last_reachability_check is None and a.is_reachable
                   for a in Asset.select())


def test_reachability_check_does_not_raise_when_the_database_is_gone(runtime, tmp_path):
    real = runtime.database
    gone = tmp_path / "gone"
    runtime.database = open_database(gone / "screenly.db")
    gone.rmdir()
    try:
        checked = run_reachability_check(runtime)
    finally:
        runtime.database = real

    assert checked == 0
    assert job_runs(runtime, "reachability", "error") == 1


def test_jobs_count_their_runs_by_outcome(runtime):
    run_cleanup(runtime)
    run_cleanup(runtime)
    run_reachability_check(runtime)

    assert job_runs(runtime, "cleanup", "ok") == 2
    assert job_runs(runtime, "reachability", "ok") == 1


def test_start_jobs_schedules_both_jobs_at_the_configured_intervals(scheduled):
    scheduler = scheduled.scheduler

    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert scheduler.running
    assert set(jobs) == {"cleanup", "reachability"}
    assert jobs["cleanup"].trigger.interval.total_seconds() == 5 * 60
    assert jobs["reachability"].trigger.interval.total_seconds() == 7 * 60
    assert all(job.coalesce and job.max_instances == 1 for job in jobs.values())


def test_run_in_background_runs_the_work_in_another_thread_with_a_database_connection(scheduled):
    done = threading.Event()
    seen: dict[str, object] = {}

    def work() -> None:
        seen["thread"] = threading.current_thread().name
        seen["assets"] = Asset.select().count()
        seen["connected"] = not scheduled.database.is_closed()
        done.set()

    scheduled.run_in_background(work)

    assert done.wait(10)
    assert seen["thread"] == "background-work"
    assert seen["assets"] == 0 and seen["connected"] is True


def test_work_handed_over_just_before_the_jobs_stop_still_runs_and_nothing_raises(make_app):
    """As a scheduler job, such work was dropped (a download never made), and once in CI
    stopping the scheduler as it handed the work over raised in its thread."""
    failures: list[BaseException] = []
    previous_hook = threading.excepthook
    threading.excepthook = lambda args: failures.append(args.exc_value)
    try:
        for _ in range(20):
            runtime = make_app().extensions["anthias"]
            start_jobs(runtime)
            ran = threading.Event()
            runtime.run_in_background(ran.set)
            stop_jobs(runtime)  # at once: the work is being handed over, or just ran
            assert ran.wait(10)
    finally:
        threading.excepthook = previous_hook
    assert failures == []


def test_background_work_that_fails_is_logged_and_the_next_runs(scheduled, caplog):
    done = threading.Event()

    def broken() -> None:
        raise ValueError("no such video")

    scheduled.run_in_background(broken)
    scheduled.run_in_background(done.set)

    assert done.wait(10)
    deadline = time.monotonic() + 10
    while "background work broken failed" not in caplog.text:
        assert time.monotonic() < deadline, caplog.text
        time.sleep(0.01)


def test_stop_jobs_shuts_the_scheduler_down_and_work_runs_inline_again(scheduled):
    scheduler = scheduled.scheduler

    stop_jobs(scheduled)

    assert not scheduler.running
    assert scheduled.run_in_background is None
    assert scheduled.scheduler is None


def test_create_app_starts_the_jobs_when_asked(environ):
    from anthias_edge.app import create_app

    app = create_app(environ=environ, start_jobs=True)
    runtime = app.extensions["anthias"]
    try:
        assert runtime.scheduler.running
        assert runtime.run_in_background is not None
    finally:
        runtime.close()
    assert runtime.run_in_background is None
