"""``tenants.sync_version``: the number a tenant's devices see change when their state does.

A linked device pulls its tenant's state (QR contents of its assets, plan limits, settings)
with ``If-None-Match``; the hub's ETag is built from this number (and the device's own
``command_version``), so an unchanged tenant is answered 304 from one indexed lookup. Every
write that changes that state bumps it **in the same transaction**, so a device can never keep
an ETag for state that changed: a rollback undoes the bump with the change.
Bumping is an increment in the database (never a read-modify-write), so concurrent bumps
never lose one.
"""

from __future__ import annotations

from anthias_edge.models import Tenant


def bump(tenant_id: str) -> None:
    """One more change to ``tenant_id``'s device state (call inside the change's transaction)."""
    (Tenant.update(sync_version=Tenant.sync_version + 1)
     .where(Tenant.id == str(tenant_id)).execute())


def bump_all() -> None:
    """Every tenant's state may have changed (e.g. a plan of the catalogue got new limits)."""
    Tenant.update(sync_version=Tenant.sync_version + 1).execute()


def current(tenant_id: str) -> int:
    """The tenant's sync version now (0 for an unknown tenant)."""
    value = (Tenant.select(Tenant.sync_version).where(Tenant.id == str(tenant_id))
             .scalar())
    return int(value or 0)
