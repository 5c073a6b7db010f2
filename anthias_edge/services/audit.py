"""The audit log of one tenant: record actions, list them newest first with a cursor.

Callers pass summaries without secrets (never a password or token); summaries
are cut to ``MAX_SUMMARY`` characters.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from anthias_edge.errors import ValidationError
from anthias_edge.models import AuditLog
from anthias_edge.timeutil import utcnow

logger = logging.getLogger(__name__)

MAX_SUMMARY = 500
MAX_LIMIT = 200


@dataclass(frozen=True)
class AuditPage:
    """One page of entries and the cursor of the next page (None at the end)."""

    items: list[AuditLog]
    next_cursor: str | None


def record(
    tenant_id: str,
    actor: str,
    action: str,
    object_type: str = "",
    object_id: str = "",
    summary: str = "",
    ip: str | None = None,
    *,
    clock: Callable[[], dt.datetime] = utcnow,
) -> AuditLog:
    """Append one entry, e.g. ``record(t, user_id, "user.create", "user", new_id, "bob")``."""
    return AuditLog.create(tenant=tenant_id, actor=actor, action=action,
                           object_type=object_type, object_id=str(object_id or ""),
                           summary=(summary or "")[:MAX_SUMMARY], ip=ip, at=clock())


def _parse_cursor(cursor: str | None) -> int | None:
    if cursor in (None, ""):
        return None
    # An id fits a signed 64-bit integer on both databases; anything else is not ours.
    if not (cursor.isascii() and cursor.isdigit()) or int(cursor) >= 2**63:
        raise ValidationError({"cursor": ["Invalid cursor."]})
    return int(cursor)


def list_entries(tenant_id: str, limit: int = 50, cursor: str | None = None, *,
                 actor: str | None = None, action: str | None = None,
                 since: dt.datetime | None = None,
                 until: dt.datetime | None = None) -> AuditPage:
    """Entries of one tenant, newest first; pass ``next_cursor`` back for the next page.

    ``actor`` and ``action`` match exactly; ``since`` (inclusive) and ``until`` (exclusive)
    bound ``at`` in naive UTC. The cursor pages within the same filters.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": [f"Must be between 1 and {MAX_LIMIT}."]})
    if since is not None and until is not None and until <= since:
        raise ValidationError({"until": ["Must be later than since."]})
    before = _parse_cursor(cursor)
    query = AuditLog.select().where(AuditLog.tenant == tenant_id)
    if before is not None:
        query = query.where(AuditLog.id < before)
    if actor is not None:
        query = query.where(AuditLog.actor == actor)
    if action is not None:
        query = query.where(AuditLog.action == action)
    if since is not None:
        query = query.where(AuditLog.at >= since)
    if until is not None:
        query = query.where(AuditLog.at < until)
    rows = list(query.order_by(AuditLog.id.desc()).limit(limit + 1))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(items=rows, next_cursor=str(rows[-1].id) if more else None)
