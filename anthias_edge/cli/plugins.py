"""``anthias-edge plugins list|show|set|unset``, and the plugins' own commands on the CLI.

``list`` loads the plugins exactly as the server does (same settings, same database, same
checks), so what it shows is what ``serve`` would run, and for each plugin left out it says
why. ``set`` stores one setting of a plugin (secret ones encrypted; a secret is asked for
when no value is given, so it stays out of the shell history).
"""

from __future__ import annotations

import configparser
import contextlib
import json
import os
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from anthias_edge.cli.common import load_settings

if TYPE_CHECKING:
    from anthias_edge.plugins.manager import PluginHost
    from anthias_edge.plugins.settings import PluginSettingsStore

SAFE_HELP = "Load only the built-in plugins (as plugins_safe_mode does)."


@contextlib.contextmanager
def _loaded(safe: bool) -> Iterator[tuple[PluginHost, PluginSettingsStore]]:
    """The plugins as the server would load them, and their settings store, on the database."""
    from anthias_edge.cli.tenancy import _tenancy_database
    from anthias_edge.plugins.manager import load_plugins, parse_names
    from anthias_edge.plugins.settings import PluginSettingsStore, crypto_box_loader

    settings = load_settings()
    store = PluginSettingsStore(crypto_box_loader(settings, cloud=settings["mode"] == "cloud"),
                                os.environ)
    with _tenancy_database():
        host = load_plugins(store, safe=safe or bool(settings["plugins_safe_mode"]),
                            disabled=parse_names(settings["disabled_plugins"]))
        yield host, store


def _schema(host: PluginHost, name: str) -> dict[str, Any]:
    from anthias_edge.errors import PluginNotFound

    if host.record(name) is None:
        raise PluginNotFound(f"No plugin called {name!r} is installed "
                             "(anthias-edge plugins list shows them).")
    if name not in host.schemas:
        raise PluginNotFound(f"Plugin {name} was not loaded: {host.record(name).problem}")
    return host.schemas[name]


@click.group("plugins")
def plugins_group() -> None:
    """Plugins: which are loaded, why one is not, and their settings."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of lines.")
@click.option("--safe", is_flag=True, help=SAFE_HELP)
def plugins_list(as_json: bool, safe: bool) -> None:
    """Every plugin found: name, version, source, enabled, hooks; or why it is not loaded."""
    with _loaded(safe) as (host, _store):
        records = [record.as_dict() for record in host.records]
    if as_json:
        click.echo(json.dumps(records, indent=2))
        return
    for record in records:
        state = "enabled" if record["enabled"] else "disabled"
        click.echo(f"{record['name']}\t{record['version']}\t{record['source']}\t{state}\t"
                   f"{','.join(record['hooks']) or '-'}")
        if record["problem"]:
            click.echo(f"  not loaded: {record['problem']}")


@plugins_group.command("show")
@click.argument("name")
def plugins_show(name: str) -> None:
    """The settings of plugin NAME as JSON (secret values masked)."""
    with _loaded(False) as (host, store):
        schema = _schema(host, name)
        shown = store.shown(name, schema)
    click.echo(json.dumps({key: {"value": shown[key], "secret": setting.secret,
                                 "required": setting.required, "help": setting.help}
                           for key, setting in schema.items()}, indent=2, default=str))


@plugins_group.command("set")
@click.argument("name")
@click.argument("key")
@click.argument("value", required=False)
def plugins_set(name: str, key: str, value: str | None) -> None:
    """Store setting KEY of plugin NAME; a secret is asked for when VALUE is left out."""
    with _loaded(False) as (host, store):
        schema = _schema(host, name)
        setting = schema.get(key)
        if value is None:
            value = click.prompt(key, hide_input=bool(setting and setting.secret))
        store.set(name, schema, key, value)
    click.echo(f"{name}.{key} set; restart the server to apply it.")


@plugins_group.command("unset")
@click.argument("name")
@click.argument("key")
def plugins_unset(name: str, key: str) -> None:
    """Remove the stored setting KEY of plugin NAME (its default applies again)."""
    with _loaded(False) as (host, store):
        _schema(host, name)
        removed = store.unset(name, key)
    click.echo(f"{name}.{key} {'removed' if removed else 'was not set'}.")


def add_plugin_commands(cli: click.Group, core: Collection[str]) -> None:
    """Give ``cli`` the commands of the enabled plugins (``register_commands``).

    Plugins are found and registered without the database: a plugin's commands are there
    even while its settings are incomplete, so it can offer a command that sets them up.
    """
    from anthias_edge.plugins.manager import load_plugins

    safe, disabled = _switches()
    host = load_plugins(None, safe=safe, disabled=disabled)
    host.add_commands(cli, core)


def _switches() -> tuple[bool, list[str]]:
    """``plugins_safe_mode`` and ``disabled_plugins``, without writing a settings file.

    ``anthias-edge --help`` must not create ``screenly.conf`` in a HOME that has none, which
    ``load_settings`` does; there the environment alone decides.
    """
    from anthias_edge.plugins.manager import parse_names

    home = Path(os.environ.get("HOME") or Path.home())
    if (home / ".screenly" / "screenly.conf").exists():
        settings = load_settings()
        return bool(settings["plugins_safe_mode"]), parse_names(settings["disabled_plugins"])
    safe = os.environ.get("ANTHIAS_PLUGINS_SAFE_MODE", "off").strip().lower()
    return (configparser.ConfigParser.BOOLEAN_STATES.get(safe, False),
            parse_names(os.environ.get("ANTHIAS_DISABLED_PLUGINS", "")))
