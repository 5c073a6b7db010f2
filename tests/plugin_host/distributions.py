"""Installing small third-party plugins for the tests, through real entry points.

``install_plugin`` writes a module and a ``<name>-<version>.dist-info`` folder (``METADATA`` and
``entry_points.txt`` with the group ``anthias_edge.plugins``) into a site directory on
``sys.path``: to ``importlib.metadata`` that is an installed distribution, found exactly as
pip's would be; a subprocess sees it through ``PYTHONPATH``.
"""

from __future__ import annotations

import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

# A complete plugin: every hook, one setting of each kind, a payment provider, a blueprint, a
# command. Each call is appended to ``calls`` so a test sees what the host told it.
RECORDER = '''
"""A third-party plugin for the tests: implements every hook and records the calls."""
import click
from flask import Blueprint, jsonify

from anthias_edge.plugins import hookimpl
from anthias_edge.plugins.payment import Checkout, ProviderSubscription, TransactionStatus
from anthias_edge.plugins.settings import PluginSetting

calls = []
FAIL_IN = set()  # hook names that raise, for the tests of a failing plugin


def _record(hook, *values):
    calls.append((hook, *values))
    if hook in FAIL_IN:
        raise RuntimeError(f"{{hook}} failed on purpose")


class Gateway:
    name = "{provider}"
    currencies = ("IDR",)

    def __init__(self, api_key):
        self.api_key = api_key

    def create_checkout(self, request):
        return Checkout(request.order_id, f"https://pay.invalid/{{request.order_id}}"
                        f"?amount={{request.amount}}&key={{self.api_key}}")

    def verify_notification(self, headers, body):
        raise NotImplementedError

    def fetch_transaction_status(self, order_id):
        return TransactionStatus(order_id, None, "pending", None, None)

    def fetch_subscription_status(self, subscription_id):
        return ProviderSubscription(subscription_id, "active")

    def create_subscription(self, request):
        return ProviderSubscription("sub-1", "active")

    def cancel_subscription(self, subscription_id):
        return ProviderSubscription(subscription_id, "inactive")

    def resume_subscription(self, subscription_id):
        return ProviderSubscription(subscription_id, "active")


@hookimpl
def declare_settings():
    return [PluginSetting("greeting", str, default="hello", help="What /greeting says."),
            PluginSetting("repeat", int, default=1, help="How many times."),
            PluginSetting("api_key", str, secret=True, required={required},
                          help="The gateway's secret key.")]


@hookimpl
def register_payment_providers(settings):
    _record("register_payment_providers", dict(settings))
    return [Gateway(settings["api_key"])]


@hookimpl
def register_blueprints(settings):
    _record("register_blueprints")
    bp = Blueprint("greeter", __name__)

    @bp.get("/greeting")
    def greeting():
        return jsonify(greeting=" ".join([settings["greeting"]] * settings["repeat"]))

    return [bp]


@hookimpl
def register_commands(cli):
    @cli.command("{command}")
    def say():
        """Say hello from the plugin."""
        click.echo("hello from the plugin")


@hookimpl
def asset_created(tenant_id, asset, actor):
    _record("asset_created", tenant_id, asset["asset_id"], asset["name"], actor)


@hookimpl
def asset_updated(tenant_id, asset, changed, actor):
    _record("asset_updated", tenant_id, asset["asset_id"], asset["name"], list(changed), actor)


@hookimpl
def asset_deleted(tenant_id, asset, actor):
    _record("asset_deleted", tenant_id, asset["asset_id"], asset["name"], actor)


@hookimpl
def subscription_changed(change):
    _record("subscription_changed", change.tenant_id, change.plan, change.status, change.reason)
'''


@dataclass
class Installed:
    """A test distribution: its site directory, plugin (entry point) name and module name."""

    site: Path
    name: str
    module: str

    def loaded(self):
        """The plugin's module as the host imported it."""
        return sys.modules[self.module]


def install_plugin(site: Path, name: str, source: str, *, dist: str | None = None,
                   version: str = "1.2.3", module: str | None = None,
                   target: str | None = None) -> Installed:
    """Install plugin ``name`` (module text ``source``) into ``site`` as distribution ``dist``.

    ``target``: the entry point's value (default: the module itself), e.g. a missing module.
    The module name is unique per site, so tests never share a cached import.
    """
    site.mkdir(parents=True, exist_ok=True)
    module = module or f"anthias_test_{name.replace('-', '_')}_{abs(hash(site)) % 10**8}"
    dist = dist or f"anthias-test-{name}"
    (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        f"[anthias_edge.plugins]\n{name} = {target or module}\n", encoding="utf-8")
    return Installed(site, name, module)


def recorder_source(*, provider: str = "testpay", command: str = "hello-say",
                    required: bool = False) -> str:
    """The recording plugin's module text, with its provider name and command name."""
    return RECORDER.format(provider=provider, command=command, required=required)
