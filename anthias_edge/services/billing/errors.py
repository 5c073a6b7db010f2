"""The billing service's failures, one type each (their ``status``/``code`` reach every API)."""

from __future__ import annotations

from anthias_edge.errors import AnthiasError


class PlanNotFound(AnthiasError):
    """No plan of that code in the catalogue (or not one a tenant may choose)."""

    status = 404
    code = "plan_not_found"
    default_message = "No such plan."


class BillingUnavailable(AnthiasError):
    """No payment provider is enabled in this deployment (or none takes the plan's currency)."""

    status = 503
    code = "billing_unavailable"
    default_message = "Payments are not available in this deployment."


class SubscriptionStateConflict(AnthiasError):
    """The action does not apply to the subscription as it stands (e.g. resume when active)."""

    status = 409
    code = "subscription_state_conflict"
    default_message = "That does not apply to the subscription as it stands."


class StorageQuotaReached(AnthiasError):
    """An upload would take the tenant past its plan's storage quota."""

    status = 409
    code = "storage_quota_reached"
    default_message = "This upload would pass the storage quota of your plan."


class DeviceLimitReached(AnthiasError):
    """Linking one more device would pass the plan's ``max_devices``."""

    status = 409
    code = "device_limit_reached"
    default_message = "This tenant has as many devices as its plan allows."


class PlanCatalogueInvalid(AnthiasError):
    """An operator's plan file or plan values do not describe valid plans."""

    status = 400
    code = "plan_catalogue_invalid"
    default_message = "The plan catalogue is not valid."
