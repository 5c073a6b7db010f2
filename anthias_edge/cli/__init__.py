"""The ``anthias-edge`` command line: the click group and where each command lives.

Subcommands are looked up lazily (``LazyGroup``) and import Flask, peewee and waitress only in
their bodies, so ``anthias-edge --help`` and ``--version`` start fast on a Raspberry Pi. A domain
error (``AnthiasError``) raised by any command ends, here and only here, as one ``Error: ...``
line on stderr and exit code 1.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

from anthias_edge import __version__


class LazyGroup(click.Group):
    """A group whose subcommands are ``"module:attribute"`` strings, imported when first used.

    It also turns an ``AnthiasError`` from any subcommand into a ``click.ClickException``, so
    commands raise domain errors and never convert them by hand.
    """

    def __init__(
        self, *args: Any, lazy_commands: Mapping[str, str] | None = None, **kwargs: Any
    ) -> None:
        """Take the usual ``click.Group`` arguments plus ``lazy_commands``: name -> import path."""
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands or {})
        self._plugin_commands_added = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, eager, lazy and the plugins', sorted."""
        self._add_plugin_commands()
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Import a lazy command on first use; eager ones as ``click.Group`` does; any other
        name may be a plugin's (the plugins are looked for only then)."""
        if cmd_name in self.lazy_commands:
            return self._load(cmd_name)
        if cmd_name not in self.commands:
            self._add_plugin_commands()
        return super().get_command(ctx, cmd_name)

    def _add_plugin_commands(self) -> None:
        # Once; a broken plugin (or settings file) must not take the core commands with it.
        if self._plugin_commands_added:
            return
        self._plugin_commands_added = True
        from anthias_edge.cli.plugins import add_plugin_commands

        try:
            add_plugin_commands(self, {*self.commands, *self.lazy_commands})
        except Exception as exc:
            click.echo(f"Warning: plugin commands are not available: {exc}", err=True)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the chosen subcommand; a domain error becomes one ``Error:`` line, exit code 1."""
        from anthias_edge.cli.common import error_message
        from anthias_edge.errors import AnthiasError

        try:
            return super().invoke(ctx)
        except AnthiasError as exc:
            raise click.ClickException(error_message(exc)) from exc

    def _load(self, cmd_name: str) -> click.Command:
        module_name, _, attribute = self.lazy_commands[cmd_name].partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.lazy_commands[cmd_name]} is not a click command")
        return command


@click.group(
    "anthias-edge",
    cls=LazyGroup,
    lazy_commands={
        "serve": "anthias_edge.cli.serve:serve",
        "player": "anthias_edge.cli.player:player_command",
        "migrate": "anthias_edge.cli.database:migrate",
        "import-anthias": "anthias_edge.cli.database:import_anthias_command",
        "tenant": "anthias_edge.cli.tenancy:tenant_group",
        "user": "anthias_edge.cli.tenancy:user_group",
        "keys": "anthias_edge.cli.tenancy:keys_group",
        "migrate-to-postgresql": "anthias_edge.cli.tenancy:migrate_to_postgresql_command",
        "qr": "anthias_edge.cli.qr:qr_group",
        "plugins": "anthias_edge.cli.plugins:plugins_group",
        "plans": "anthias_edge.cli.billing:plans_group",
        "upgrade": "anthias_edge.cli.upgrade:upgrade_command",
        "rollback": "anthias_edge.cli.upgrade:rollback_command",
        "link": "anthias_edge.cli.sync:link_command",
        "unlink": "anthias_edge.cli.sync:unlink_command",
        "sync": "anthias_edge.cli.sync:sync_group",
    },
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", prog_name="anthias-edge",
                      message="%(prog)s %(version)s")
def main() -> None:
    """Anthias Edge: offline-first digital signage, a drop-in successor to Anthias.

    Data lives in $HOME/.screenly and $HOME/screenly_assets, as on Anthias; settings come from
    $HOME/.screenly/screenly.conf and ANTHIAS_* environment variables.
    """
