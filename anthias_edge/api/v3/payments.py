"""``POST /api/v3/payments/<provider>/notification``: a payment gateway's webhook (public).

Nobody signs in here: the gateway proves the notification itself. The provider's
``verify_notification`` gets the raw headers and body exactly as received (Midtrans: the
SHA-512 signature, compared in constant time; a subscription notification, which has no
signature, only as far as the gateway's own API confirms it). Only then does the billing
service apply it: it finds the tenant by our order id or the provider's subscription id,
checks amount and currency against what we asked for, stores the event once and moves
status only forward (``services/billing/notifications.py``).

Answers, as gateways read them (integrations.md 1.5, 1.7): 200 once the notification is ours
(applied, or a replay, stale or deferred one that changes nothing); 400
``notification_rejected`` for a forged one, an order that is not ours or an amount we did not
ask for (Midtrans retries a 400 only twice); 404 when no such provider is enabled here; 502
when the gateway could not be asked to confirm (it sends again later, and the reconciler
polls anyway).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request

from anthias_edge.api.v3.routing import Call, route
from anthias_edge.errors import NotificationRejected, PathNotFound

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
ANSWER = {"type": "object", "required": ["outcome"], "properties": {
    "outcome": {"type": "string",
                "description": "applied, recorded, duplicate, stale or deferred"}}}


@route("/payments/<provider>/notification", "POST", public=True, returns=ANSWER,
       errors=(400, 404, 413, 502), tag="billing")
def payment_notification(call: Call, provider: str) -> Any:
    """A payment provider's notification: verified, then applied once (see the module)."""
    from anthias_edge.services.billing import apply_notification

    runtime = call.runtime
    gateway = (runtime.plugins.payment_providers.get(provider)
               if runtime.plugins is not None else None)
    if gateway is None:
        raise PathNotFound("No payment provider of that name is enabled here.")
    # A public URL: never read more than a notification can be (Midtrans's are a few KB).
    request.max_content_length = MAX_BODY
    # The raw bytes: a signature covers the body as sent, not as JSON would re-encode it.
    body = request.get_data(cache=False)
    try:
        notification = gateway.verify_notification(dict(request.headers), body)
    except NotificationRejected as exc:
        logger.warning("%s notification from %s rejected: %s", provider, call.ip, exc.message)
        raise
    outcome = apply_notification(runtime.database, notification, provider, provider=gateway,
                                 box=_box(runtime), events=runtime.plugins.events)
    if not outcome.accepted:
        logger.warning("%s notification for %s refused: %s", provider,
                       notification.order_id or notification.subscription_id, outcome.outcome)
        raise NotificationRejected(f"The notification does not match our records "
                                   f"({outcome.outcome}).", details={"outcome": outcome.outcome})
    return {"outcome": outcome.outcome}


def _box(runtime: Any) -> Any:
    """The deployment's key box, which keeps a saved card token encrypted at rest."""
    from anthias_edge.services.auth.crypto_box import load_crypto_box

    return load_crypto_box(runtime.settings.deployment, runtime.settings.home,
                           cloud=runtime.is_cloud)
