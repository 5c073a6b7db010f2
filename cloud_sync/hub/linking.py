"""The hub's unsigned linking requests, answered by the fleet services (A1's linking.py).

The services pick the tenant from the secret the device shows (a pairing code, a fleet token,
a poll token), so these requests need no tenant of their own. What is left here is the
answer's shape, and the claim address an admin opens from the device's QR code: the cloud
console's Screens page with the claim dialog open.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from anthias_edge.models import Device, Tenant
from anthias_edge.services.fleet import linking as fleet
from cloud_sync.protocol.messages import format_time

INTERVAL_S = fleet.INTERVAL_S


def linked(device: Device) -> dict[str, Any]:
    """What a linked device is told: who it is now, in which tenant."""
    tenant = Tenant.get_or_none(Tenant.id == device.tenant)
    return {"device_id": device.device_id, "tenant_id": str(device.tenant),
            "tenant_name": tenant.name if tenant else "", "name": device.name,
            "interval_s": INTERVAL_S}


def enroll(data: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Link with a pairing code or a fleet token (exactly one, checked by the view)."""
    extra = (data["public_key"], data["name"], data.get("software_version"),
             data.get("hardware"))
    if data.get("code"):
        device = fleet.enroll_with_code(data["code"], *extra, clock=lambda: now)
    else:
        device = fleet.enroll_with_fleet_token(data["fleet_token"], *extra, clock=lambda: now)
    return linked(device)


def claim_url(host_url: str, code: str) -> str:
    """Where an admin claims ``code``: the console's Screens page, claim dialog open."""
    return f"{host_url.rstrip('/')}/#/screens/claim/{code}"


def create_device_code(data: dict[str, Any], host_url: str, now: dt.datetime) -> dict[str, Any]:
    """A code for the device to show, and the poll token it polls with."""
    ticket = fleet.start_device_code(data["public_key"], data["name"],
                                     data.get("software_version"), data.get("hardware"),
                                     clock=lambda: now)
    return {"code": ticket.code, "expires_at": format_time(ticket.expires_at),
            "poll_token": ticket.poll_token, "claim_url": claim_url(host_url, ticket.code)}


def poll_device_code(poll_token: str, now: dt.datetime) -> dict[str, Any]:
    """``pending``, or ``claimed`` with the link's facts (410 once expired)."""
    result = fleet.poll_device_code(poll_token, clock=lambda: now)
    if result.status != "claimed" or result.device is None:
        return {"status": "pending"}
    return {"status": "claimed", **linked(result.device)}
