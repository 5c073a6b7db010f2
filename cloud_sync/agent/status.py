"""The sync state as the Cloud page and ``anthias-edge sync status`` show it."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from anthias_edge.settings import Settings
from anthias_edge.timeutil import parse_datetime
from cloud_sync.agent import local_state
from cloud_sync.agent.database import connected, ensure_database
from cloud_sync.device import link_store, outbox


def status(settings: Settings) -> dict[str, Any]:
    """Linked or not, to what, when it last synced, what waits, the last problem in words.

    Times are timezone-aware UTC datetimes (None when unknown). ``next_attempt_at`` is when
    the running agent tries next; ``agent_running`` whether an agent process is alive.
    """
    ensure_database(settings)
    with connected():
        link = link_store.load()
        pending = outbox.count() if link else 0
    agent = local_state.agent_state(settings)
    running = _alive(agent.get("pid"))
    if link is None:
        return {
            "linked": False, "cloud_url": settings["cloud_url"] or None, "tenant_name": None,
            "device_name": None, "device_id": None, "linked_at": None,
            "last_success_at": None, "last_push_at": None, "last_pull_at": None,
            "pending_outbox": 0, "last_error": agent.get("last_error"),
            "last_error_at": _time(agent.get("last_error_at")),
            "unlinked_by_cloud": bool(agent.get("unlinked_by_cloud")),
            "next_attempt_at": None, "agent_running": running,
        }
    next_attempt = _time(agent.get("next_attempt_at"))
    if next_attempt is None and running and link.last_success_at:
        interval = max(int(settings["sync_interval"]), link.interval_s)
        next_attempt = _aware(link.last_success_at) + dt.timedelta(seconds=interval)
    return {
        "linked": True, "cloud_url": link.cloud_url, "tenant_name": link.tenant_name,
        "device_name": link.device_name, "device_id": link.device_id,
        "linked_at": _aware(link.linked_at), "last_success_at": _aware(link.last_success_at),
        "last_push_at": _aware(link.last_push_at), "last_pull_at": _aware(link.last_pull_at),
        "pending_outbox": pending, "last_error": link.last_error,
        "last_error_at": _aware(link.last_error_at), "unlinked_by_cloud": False,
        "next_attempt_at": next_attempt if running else None, "agent_running": running,
    }


def _alive(pid: Any) -> bool:
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return _aware(parse_datetime(value))
    except ValueError:
        return None
