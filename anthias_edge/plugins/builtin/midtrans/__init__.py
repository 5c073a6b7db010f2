"""Built-in plugin ``midtrans``: Midtrans (Indonesia) as a payment provider.

Settings (``anthias-edge plugins set midtrans KEY VALUE`` or ``ANTHIAS_PLUGIN_MIDTRANS_KEY``):
``server_key`` (secret; without it the plugin contributes no provider and payments are
unavailable), ``client_key`` (public, for a Snap page of our own), ``environment``
(``sandbox`` or ``production``: chooses Midtrans's hosts; a sandbox server key
``SB-Mid-server-...`` is refused in production), ``notification_url`` (this deployment's
public ``.../api/v3/payments/midtrans/notification``, sent as ``X-Override-Notification`` with
each checkout), ``snap_url``/``api_url`` (override the hosts: the tests' emulator), timeouts
and retries. See docs/plugins.md and integrations.md §1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from anthias_edge.plugins import hookimpl
from anthias_edge.plugins.settings import PluginSetting

if TYPE_CHECKING:
    from anthias_edge.plugins.builtin.midtrans.provider import MidtransProvider

logger = logging.getLogger("anthias_edge.plugins.midtrans")


def _url(value: Any) -> str | None:
    if value and not str(value).startswith(("https://", "http://")):
        return "must be an http(s) URL"
    return None


def _positive(value: Any) -> str | None:
    return None if value >= 0 else "must not be negative"


SETTINGS = (
    PluginSetting("server_key", str, secret=True,
                  help="Midtrans server key (Dashboard > Settings > Access keys). Never "
                       "leaves the server. Unset: no Midtrans payments."),
    PluginSetting("client_key", str, default="",
                  help="Midtrans client key (public; only the Snap JS uses it)."),
    PluginSetting("environment", str, default="sandbox", choices=("sandbox", "production"),
                  help="Which Midtrans to use; a sandbox key is refused in production."),
    PluginSetting("notification_url", str, default="", check=_url,
                  help="This deployment's public notification URL "
                       "(https://HOST/api/v3/payments/midtrans/notification), sent as "
                       "X-Override-Notification with each checkout."),
    PluginSetting("snap_url", str, default="", check=_url,
                  help="Override of the Snap base URL (default: the environment's)."),
    PluginSetting("api_url", str, default="", check=_url,
                  help="Override of the Core API base URL (default: the environment's)."),
    PluginSetting("timeout_seconds", int, default=10, check=_positive,
                  help="Seconds to wait for each answer of Midtrans."),
    PluginSetting("retries", int, default=2, check=_positive,
                  help="Extra tries after a timeout, a connection error or a 5xx."),
)


@hookimpl
def declare_settings() -> Iterable[PluginSetting]:
    """The settings listed in the module docstring."""
    return SETTINGS


@hookimpl
def register_payment_providers(settings: Mapping[str, Any]) -> Iterable[MidtransProvider]:
    """The Midtrans provider, when a server key is set (else none: payments unavailable)."""
    if not settings.get("server_key"):
        logger.info("midtrans: no server_key set; Midtrans payments are unavailable")
        return []
    return [build_provider(settings)]


def build_provider(settings: Mapping[str, Any], **client_options: Any) -> MidtransProvider:
    """A provider from the plugin's settings; InvalidPluginSetting for a sandbox key in
    production. ``client_options`` go to ``MidtransClient`` (a session, a sleep function)."""
    from anthias_edge.errors import InvalidPluginSetting
    from anthias_edge.plugins.builtin.midtrans.client import (
        BASE_URLS,
        SANDBOX_KEY_PREFIX,
        ClientConfig,
        MidtransClient,
    )
    from anthias_edge.plugins.builtin.midtrans.provider import MidtransProvider

    environment = settings.get("environment") or "sandbox"
    server_key = str(settings.get("server_key") or "")
    if environment == "production" and server_key.startswith(SANDBOX_KEY_PREFIX):
        raise InvalidPluginSetting(
            {"server_key": ["is a sandbox key (SB-Mid-server-...) but environment is "
                            "production"]},
            "Plugin midtrans refuses a sandbox server key (SB-Mid-server-...) in production: "
            "set the production key, or environment sandbox.")
    snap_url, api_url = BASE_URLS[environment]
    config = ClientConfig(
        server_key=server_key,
        snap_url=(settings.get("snap_url") or snap_url).rstrip("/"),
        api_url=(settings.get("api_url") or api_url).rstrip("/"),
        notification_url=settings.get("notification_url") or None,
        timeout_s=float(settings.get("timeout_seconds") or 10),
        retries=int(settings.get("retries") if settings.get("retries") is not None else 2))
    return MidtransProvider(MidtransClient(config, **client_options))
