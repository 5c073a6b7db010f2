"""``/api/v3/tenant``: the caller's tenant with its limits and current usage.

``plan_type`` and ``limits`` are what applies now: the subscription's plan (the free plan's
once canceled), else the tenant's own (services/billing/limits.py). ``usage`` keeps its
counts (assets, users, api_tokens) and adds storage bytes (devices are counted once devices
link to tenants, issue 15); ``plan_usage`` gives each limited figure as ``{used, limit}``.
"""

from __future__ import annotations

from typing import Any

from anthias_edge.api.v3.fields import Str
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.auth.hosts import base_domain
from anthias_edge.services.billing import limits as billing_limits
from anthias_edge.services.tenants import TenantService
from anthias_edge.timeutil import format_datetime

DOMAIN = r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
PATCH = {
    "name": Str(min_length=1, max_length=200, pattern=r"\S"),
    "custom_domain": Str(nullable=True, max_length=253, pattern=DOMAIN,
                         description="Lower-case host name, or null to remove it."),
}
_COUNT = {"type": "integer", "minimum": 0}
_USED = {"type": "object", "required": ["used", "limit"],
         "properties": {"used": _COUNT, "limit": _COUNT}}
TENANT = {"type": "object", "required": ["id", "name", "subdomain", "custom_domain",
                                         "is_active", "plan_type", "limits", "usage",
                                         "plan_usage"],
          "properties": {
              "id": {"type": "string"}, "name": {"type": "string"},
              "subdomain": {"type": "string"}, "custom_domain": {"type": ["string", "null"]},
              "is_active": {"type": "boolean"}, "plan_type": {"type": "string"},
              "limits": {"type": "object", "properties": {
                  "max_assets": _COUNT, "max_devices": _COUNT, "storage_quota_gb": _COUNT}},
              "usage": {"type": "object", "properties": {
                  "assets": _COUNT, "users": _COUNT, "api_tokens": _COUNT,
                  "storage_bytes": _COUNT}},
              "plan_usage": {"type": "object", "properties": {
                  "assets": _USED, "devices": _USED, "storage_bytes": _USED}},
              "created_at": {"type": ["string", "null"], "format": "date-time"},
              "updated_at": {"type": ["string", "null"], "format": "date-time"}}}


def _service(call: Call) -> TenantService:
    return TenantService(call.tenant_id, principal=call.principal, ip=call.ip,
                         passwords=call.runtime.passwords, clock=call.runtime.clock)


def _show(service: TenantService, call: Call) -> dict[str, Any]:
    tenant = service.tenant()
    usage = service.usage()
    limits = billing_limits.effective_limits(tenant.id)
    plan_usage = billing_limits.usage(tenant.id, call.runtime.media_dir(tenant.id))
    return {
        "id": tenant.id, "name": tenant.name, "subdomain": tenant.subdomain,
        "custom_domain": tenant.custom_domain, "is_active": bool(tenant.is_active),
        "plan_type": limits.plan,
        "limits": {"max_assets": limits.max_assets, "max_devices": limits.max_devices,
                   "storage_quota_gb": limits.storage_quota_gb},
        "usage": {"assets": usage.assets, "users": usage.users,
                  "api_tokens": usage.api_tokens,
                  "storage_bytes": plan_usage["storage_bytes"]["used"]},
        "plan_usage": plan_usage,
        "created_at": format_datetime(tenant.created_at),
        "updated_at": format_datetime(tenant.updated_at),
    }


@route("/tenant", "GET", permission="tenant.view", returns=TENANT, tag="tenant")
def tenant_detail(call: Call) -> Any:
    """The caller's tenant, its plan limits and what it uses now."""
    return _show(_service(call), call)


@route("/tenant", "PATCH", permission="tenant.edit", body=PATCH, partial=True, returns=TENANT,
       errors=(400, 409), tag="tenant")
def tenant_update(call: Call) -> Any:
    """Rename the tenant or set its custom domain (plan and limits are not editable here).

    The custom domain may not be the base domain or a name under it (400), nor another
    tenant's custom domain (409).
    """
    service = _service(call)
    service.update(name=call.data.get("name"),
                   custom_domain=call.data.get("custom_domain", ""), base_domain=base_domain())
    return _show(service, call)
