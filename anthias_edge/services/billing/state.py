"""Changing a tenant's subscription row, and telling plugins once the change is committed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol

from anthias_edge.db import db
from anthias_edge.models.billing import Subscription
from anthias_edge.plugins.payment import SubscriptionChange
from anthias_edge.services import sync_version


class SubscriptionEvents(Protocol):
    """Where subscription changes go (``plugins.events.PluginEvents`` in a server)."""

    def subscription_changed(self, change: SubscriptionChange) -> None:
        """One tenant's subscription moved."""


class NoEvents:
    """Nobody listens (no plugin host, e.g. an operator command)."""

    def subscription_changed(self, change: SubscriptionChange) -> None:
        """Do nothing."""


NO_EVENTS = NoEvents()


def change_subscription(sub: Subscription | None, tenant_id: str, values: dict[str, Any], *,
                        reason: str, events: SubscriptionEvents,
                        clock: Callable[[], dt.datetime]) -> Subscription:
    """Create or update ``tenant_id``'s subscription with ``values``; tell plugins after commit.

    A change that leaves plan and status as they were still tells plugins (a renewal, a
    cancellation scheduled): every reason is an event.
    """
    now = clock()
    previous_plan = sub.plan if sub is not None else None
    previous_status = sub.status if sub is not None else None
    if sub is None:
        sub = Subscription.create(tenant=tenant_id, created_at=now, updated_at=now, **values)
    else:
        Subscription.update(updated_at=now, **values).where(Subscription.id == sub.id).execute()
        sub = Subscription.get(Subscription.id == sub.id)
    sync_version.bump(tenant_id)  # the plan's limits reach the tenant's devices on their pull
    change = SubscriptionChange(
        tenant_id=str(tenant_id), plan=sub.plan, status=sub.status, reason=reason,
        previous_plan=previous_plan, previous_status=previous_status,
        current_period_end=sub.current_period_end, provider=sub.payment_provider)
    db.after_commit(lambda: events.subscription_changed(change))
    return sub
