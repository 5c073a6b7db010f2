"""Billing (issue 14): plans, one subscription per tenant, payments, and plan limits.

- ``plans``: the catalogue (``data/plans.json`` seeds it; operators change it by CLI).
- ``service.BillingService``: one tenant's subscription, checkout, cancel, resume, usage.
- ``notifications``: provider notifications applied once and only forward; the reconciler's
  helpers (``reconcile_open``, ``apply_subscription_status``, ``advance_lapsed``).
- ``limits``: effective limits (plan's; canceled -> free's; none -> the tenant's own) and
  the checks at asset create, upload and device linking.
- ``cycle``: the status rules; ``state``: the one place a subscription row changes.
"""

from anthias_edge.services.billing.limits import (
    Limits,
    check_asset_limit,
    check_device_limit,
    check_storage_quota,
    effective_limits,
)
from anthias_edge.services.billing.notifications import (
    Outcome,
    advance_lapsed,
    apply_notification,
    apply_subscription_status,
    reconcile_open,
)
from anthias_edge.services.billing.service import BillingService, SubscribeResult

__all__ = [
    "BillingService",
    "Limits",
    "Outcome",
    "SubscribeResult",
    "advance_lapsed",
    "apply_notification",
    "apply_subscription_status",
    "check_asset_limit",
    "check_device_limit",
    "check_storage_quota",
    "effective_limits",
    "reconcile_open",
]
