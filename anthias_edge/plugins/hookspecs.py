"""The hooks a plugin may implement; each docstring is that hook's contract.

Two kinds of hook:

- Registration hooks (``declare_settings``, ``register_*``) are called once per plugin while
  the host loads it, with that plugin's own settings. An exception, or a contribution that
  clashes with one already made, disables that plugin alone and is reported by name
  (``anthias-edge plugins list``); the server starts without it.
- Event hooks (``asset_*``, ``subscription_changed``) are called after the change is
  committed, in the process that made it, once per enabled plugin; a plugin's exception is
  logged with its name and never reaches the user nor the other plugins. They run inside the
  request: keep them quick and hand slow work to a queue of your own.

Arguments are passed by name: a hook function may accept only the ones it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

from anthias_edge.plugins import PROJECT_NAME

if TYPE_CHECKING:
    import click
    from flask import Blueprint

    from anthias_edge.plugins.payment import PaymentProvider, SubscriptionChange
    from anthias_edge.plugins.settings import PluginSetting

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


@hookspec
def declare_settings() -> Iterable[PluginSetting]:
    """The settings this plugin reads: a list of ``PluginSetting`` (key, type, default, ...).

    Called first when the plugin loads. The host validates the stored values against them
    before any other hook of the plugin runs; a required setting left empty, or a value of the
    wrong type, disables the plugin with the reason. ``secret=True`` values are stored
    encrypted and never shown. Return an empty list (or do not implement it) for none.
    """


@hookspec
def register_payment_providers(settings: Mapping[str, Any]) -> Iterable[PaymentProvider]:
    """The payment providers this plugin contributes (objects of ``payment.PaymentProvider``).

    ``settings``: this plugin's validated settings (secrets decrypted). Called once at load.
    Each provider's ``name`` must be unique in the deployment: a second provider of a name
    already taken disables the plugin that offered it.
    """


@hookspec
def register_blueprints(settings: Mapping[str, Any]) -> Iterable[Blueprint]:
    """Flask blueprints to serve under ``/plugins/<plugin name>/``.

    ``settings``: this plugin's validated settings. Called once at load; each blueprint is
    mounted with the prefix ``/plugins/<plugin name>`` before its own ``url_prefix``, so a
    plugin can never answer a core URL. The core's authentication is not applied for you:
    a route that needs a signed-in caller must check it.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to ``anthias-edge`` with ``cli.add_command(...)``.

    Called when the command line lists or looks up a command that is not a core one. A
    command whose name is already taken is refused and the plugin's other commands are kept
    out too. Commands read the plugin's settings themselves when they run
    (``plugins.settings.load_plugin_settings``), not at registration.
    """


@hookspec
def asset_created(tenant_id: str | None, asset: Mapping[str, Any], actor: str | None) -> None:
    """An asset was created and committed.

    ``tenant_id``: its tenant (None: a row of no tenant). ``asset``: its columns by field
    name (``asset_id``, ``name``, ``uri``, ``mimetype``, ...), a copy. ``actor``: who created
    it through v3 (a user id or ``api_token:<prefix>``), None for the legacy APIs.
    """


@hookspec
def asset_updated(tenant_id: str | None, asset: Mapping[str, Any], changed: Sequence[str],
                  actor: str | None) -> None:
    """An asset was changed and committed.

    ``asset``: its columns after the change; ``changed``: the field names the caller sent
    (sorted; a field sent with its old value is named too). Other arguments as
    ``asset_created``.
    """


@hookspec
def asset_deleted(tenant_id: str | None, asset: Mapping[str, Any], actor: str | None) -> None:
    """An asset was deleted and the deletion committed; ``asset``: its columns before."""


@hookspec
def subscription_changed(change: SubscriptionChange) -> None:
    """A tenant's subscription moved (trial, payment, renewal, lapse, cancel, plan change).

    ``change``: a ``payment.SubscriptionChange`` with the tenant, the new and previous plan
    and status and the reason. Called once per change, after it is committed; a repeated or
    out-of-order notification that changes nothing calls nothing. This is where e-mails and
    other messages about billing belong.
    """
