"""``/api/v3/plans``, ``/api/v3/subscription``, ``/api/v3/billing/invoices``: the tenant's plan.

``POST /subscription`` takes one ``action``: ``trial`` (a plan's free trial, for a tenant that
never subscribed), ``subscribe`` and ``change_plan`` (the same: a paid plan answers a
``checkout_url`` to send the customer to, and applies once the provider reports the payment;
the free plan applies at once), ``cancel`` (at the period's end) and ``resume``. ``PUT
/subscription`` is ``change_plan``. Every change is audit-logged by the billing service.
Limits refuse only new items, never take anything away (services/billing/limits.py).
"""

from __future__ import annotations

from typing import Any

from anthias_edge.api.v3.fields import Str
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.errors import ValidationError
from anthias_edge.services.billing.plans import show_plan
from anthias_edge.services.billing.service import BillingService, show_subscription
from anthias_edge.timeutil import format_datetime

ACTIONS = ("trial", "subscribe", "change_plan", "cancel", "resume")
PLAN_CODE = Str(max_length=50, pattern=r"^[A-Za-z0-9_-]+$", description="A plan's code.")
RETURN_URL = Str(max_length=2000, pattern=r"^https?://[^\s]+$", nullable=True,
                 description="Where the provider sends the customer back after paying.")
ACT = {"action": Str(required=True, choices=ACTIONS), "plan": PLAN_CODE,
       "return_url": RETURN_URL}
CHANGE = {"plan": Str(required=True, max_length=50, pattern=r"^[A-Za-z0-9_-]+$"),
          "return_url": RETURN_URL}

_WHEN = {"type": ["string", "null"], "format": "date-time"}
_COUNT = {"type": "integer", "minimum": 0}
_USED = {"type": "object", "required": ["used", "limit"],
         "properties": {"used": _COUNT, "limit": _COUNT}}
USAGE = {"type": "object", "properties": {
    "assets": _USED, "devices": _USED, "storage_bytes": _USED}}
PLAN = {"type": "object", "required": ["code", "name", "price_amount", "currency", "interval"],
        "properties": {
            "code": {"type": "string"}, "name": {"type": "string"},
            "price_amount": {"type": "integer", "description": "Whole units (IDR: rupiah)."},
            "currency": {"type": "string"}, "interval": {"type": "string",
                                                         "enum": ["month", "year"]},
            "trial_days": _COUNT, "is_public": {"type": "boolean"}, "sort_order": _COUNT,
            "limits": {"type": "object", "properties": {
                "max_assets": _COUNT, "max_devices": _COUNT, "storage_quota_gb": _COUNT}}}}
PLAN_LIST = {"type": "object", "required": ["items"],
             "properties": {"items": {"type": "array", "items": PLAN}}}
SUBSCRIPTION = {"type": ["object", "null"], "properties": {
    "plan": {"type": "string"},
    "status": {"type": "string", "enum": ["trialing", "active", "past_due", "canceled"]},
    "current_period_start": _WHEN, "current_period_end": _WHEN,
    "cancel_at_period_end": {"type": "boolean"}, "trial_end": _WHEN, "grace_until": _WHEN,
    "amount": _COUNT, "currency": {"type": "string"},
    "payment_provider": {"type": ["string", "null"]}}}
ANSWER = {"type": "object", "required": ["subscription", "plan", "usage"], "properties": {
    "subscription": SUBSCRIPTION,
    "plan": {"type": "string", "description": "The plan whose limits apply now."},
    "usage": USAGE,
    "checkout_url": {"type": "string", "description": "Where to pay (paid plans only)."}}}
INVOICE = {"type": "object", "properties": {
    "order_id": {"type": "string"}, "plan": {"type": "string"}, "kind": {"type": "string"},
    "amount": _COUNT, "currency": {"type": "string"}, "status": {"type": "string"},
    "period_start": _WHEN, "period_end": _WHEN, "paid_at": _WHEN,
    "provider": {"type": "string"}}}
INVOICE_LIST = {"type": "object", "required": ["items"],
                "properties": {"items": {"type": "array", "items": INVOICE}}}


def billing_service(call: Call) -> BillingService:
    """The caller's tenant's billing, with the deployment's payment providers and plugins."""
    runtime = call.runtime
    plugins = runtime.plugins
    kwargs: dict[str, Any] = {}
    if plugins is not None:
        kwargs = {"providers": plugins.payment_providers, "events": plugins.events}
    return BillingService(
        call.tenant_id, call.actor, ip=call.ip, clock=runtime.clock,
        media_dir=runtime.media_dir(call.tenant_id), **kwargs)


def _answer(service: BillingService, checkout_url: str | None = None) -> dict[str, Any]:
    answer = {"subscription": show_subscription(service.subscription()),
              "plan": service.limits().plan, "usage": service.usage()}
    if checkout_url:
        answer["checkout_url"] = checkout_url
    return answer


@route("/plans", "GET", permission="billing.view", returns=PLAN_LIST, tag="billing")
def plan_list(call: Call) -> Any:
    """The plans a tenant may choose, in display order, with their price and limits."""
    return {"items": [show_plan(plan) for plan in billing_service(call).plans()]}


@route("/subscription", "GET", permission="billing.view", returns=ANSWER, tag="billing")
def subscription_detail(call: Call) -> Any:
    """The tenant's subscription (null if it never subscribed), its plan now and its usage."""
    return _answer(billing_service(call))


@route("/subscription", "POST", permission="billing.manage", body=ACT, returns=ANSWER,
       errors=(400, 404, 409, 502, 503), tag="billing")
def subscription_act(call: Call) -> Any:
    """Start a trial, subscribe, change plan, cancel at period end, or resume.

    ``subscribe``/``change_plan`` to a paid plan answer ``checkout_url``; the subscription
    changes when the provider reports the payment. 404: no such plan; 409: the action does
    not apply now (e.g. a second trial); 503: no payment provider is enabled.
    """
    service = billing_service(call)
    action, plan = call.data["action"], call.data.get("plan")
    if action in ("trial", "subscribe", "change_plan") and not plan:
        raise ValidationError({"plan": ["Required for this action."]})
    if action == "trial":
        service.start_trial(plan)
    elif action in ("subscribe", "change_plan"):
        result = service.subscribe(plan, call.data.get("return_url"))
        if result.checkout is not None:
            return _answer(service, result.checkout.redirect_url)
    elif action == "cancel":
        service.cancel_at_period_end()
    else:
        service.resume()
    return _answer(service)


@route("/subscription", "PUT", permission="billing.manage", body=CHANGE, returns=ANSWER,
       errors=(400, 404, 409, 502, 503), tag="billing")
def subscription_change(call: Call) -> Any:
    """Change plan (the same as POST with ``action: change_plan``)."""
    service = billing_service(call)
    result = service.subscribe(call.data["plan"], call.data.get("return_url"))
    return _answer(service, result.checkout.redirect_url if result.checkout else None)


@route("/billing/invoices", "GET", permission="billing.view", returns=INVOICE_LIST,
       tag="billing")
def invoice_list(call: Call) -> Any:
    """The paid periods, newest first."""
    return {"items": [
        {"order_id": a.order_id, "plan": a.plan, "kind": a.kind, "amount": a.amount,
         "currency": a.currency, "status": a.status,
         "period_start": format_datetime(a.period_start),
         "period_end": format_datetime(a.period_end), "paid_at": format_datetime(a.updated_at),
         "provider": a.provider}
        for a in billing_service(call).invoices()]}
