"""``/api/v3/sharing/settings``: where a device's QR codes lead (its ``public_url`` setting).

A device setting with no home in v1-v2 (``/api/v2/device_settings`` keeps Anthias's fields
exactly), read and written here for the dashboard's settings page. Device only, and only
for the device's own tenant: in the cloud a tenant's codes lead to its own address.
"""

from __future__ import annotations

from typing import Any

from anthias_edge.api.v3.fields import Spec, Str
from anthias_edge.api.v3.routing import Call, route
from anthias_edge.errors import PathNotFound
from anthias_edge.services.device.settings_save import discard_changes
from anthias_edge.services.qr_links import LANDING_PATH, device_share_base

BODY: dict[str, Spec] = {
    "public_url": Str(required=True, max_length=2048,
                      description="Absolute http(s) URL phones reach this device at; empty: "
                                  "the device's own LAN address."),
}
SETTINGS = {"type": "object", "required": ["public_url", "landing_base"], "properties": {
    "public_url": {"type": "string"},
    "landing_base": {"type": "string", "description": "Where the screen's codes lead now "
                     "(<landing_base><code>); empty when no address a phone could reach is "
                     "known (the server listens on loopback only): the screen draws no code."}}}


def _own_device(call: Call) -> None:
    if call.runtime.is_cloud or call.tenant_id != call.runtime.local_tenant_id:
        raise PathNotFound()


def _show(call: Call) -> dict[str, Any]:
    settings = call.runtime.settings
    # As the player finds it (player.main.code_link), not the address this request used.
    base = device_share_base(settings)
    return {"public_url": str(settings["public_url"]),
            "landing_base": base + LANDING_PATH if base else ""}


@route("/sharing/settings", "GET", permission="qr.view", returns=SETTINGS, tag="qr")
def sharing_settings(call: Call) -> Any:
    """The device's public_url and where its codes lead now."""
    _own_device(call)
    call.runtime.settings.reload()
    return _show(call)


@route("/sharing/settings", "PATCH", permission="qr.edit", body=BODY, returns=SETTINGS,
       errors=(400,), tag="qr")
def sharing_settings_patch(call: Call) -> Any:
    """Set public_url (empty: the LAN address); the player redraws its codes."""
    _own_device(call)
    settings = call.runtime.settings
    try:
        settings.reload()
        settings.update({"public_url": call.data["public_url"]})  # InvalidSetting: 400
        settings.save()
    except BaseException:
        discard_changes(settings)
        raise
    call.runtime.messenger.send_to_viewer("reload")  # the player reads settings on reload
    return _show(call)
