"""``anthias-edge player``: play the schedule on this screen."""

from __future__ import annotations

import sys

import click

from anthias_edge.cli.common import configure_logging, load_settings


@click.command("player")
@click.option("--renderer", type=click.Choice(["auto", "browser", "mpv", "headless"]),
              default="auto", show_default=True,
              help="What shows the assets: auto picks Chromium and mpv when installed and a "
                   "display exists, else headless (records to $HOME/.screenly/shown.jsonl).")
def player_command(renderer: str) -> None:
    """Play the schedule on this screen, obeying the server's commands, until SIGTERM or Ctrl-C."""
    settings = load_settings()
    configure_logging(settings)
    from player.main import run_player

    sys.exit(run_player(settings, renderer))
