"""``anthias-edge upgrade`` and ``anthias-edge rollback``: switch releases (docs/upgrade.md)."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # the service is imported inside the commands, for a fast --help
    from anthias_edge.services.upgrade import DataHome

DEFAULT_ROOT = Path("/opt/anthias-edge")
SERVICE_USER = "anthias"


def _default_home() -> Path:
    """The service user's HOME when root runs this (the usual case), else this user's."""
    if os.geteuid() == 0:
        try:
            return Path(pwd.getpwnam(SERVICE_USER).pw_dir)
        except KeyError:
            pass
    return Path(os.environ.get("HOME") or Path.home())


def _data(home: Path | None) -> DataHome:
    from anthias_edge.services.upgrade import DataHome

    chosen = home or _default_home()
    click.echo(f"Data: {chosen}")
    return DataHome(chosen, {key: value for key, value in os.environ.items()
                             if key.startswith("ANTHIAS_") or key == "DATABASE_URL"})


root_option = click.option("--root", type=click.Path(path_type=Path), default=DEFAULT_ROOT,
                           show_default=True, help="The install root holding releases/ and venv.")
home_option = click.option("--home", type=click.Path(path_type=Path, file_okay=False),
                           help="HOME of the device data (default: the anthias user's when run "
                                "as root, else $HOME).")
restart_option = click.option("--no-restart", is_flag=True,
                              help="Do not stop and start the anthias units around the switch.")


@click.command("upgrade")
@click.option("--wheel", type=click.Path(path_type=Path, dir_okay=False),
              help="Install this Anthias Edge wheel.")
@click.option("--index", "index_url", metavar="URL",
              help="Fetch the wheel (and dependencies) from this PyPI-style index.")
@click.option("--version", "version", metavar="V", help="With --index: this version.")
@click.option("--find-links", type=click.Path(path_type=Path, file_okay=False), multiple=True,
              help="A folder of wheels for the dependencies (repeatable).")
@click.option("--no-index", is_flag=True, help="Use only --find-links folders, no index.")
@root_option
@home_option
@restart_option
def upgrade_command(wheel: Path | None, index_url: str | None, version: str | None,
                    find_links: tuple[Path, ...], no_index: bool, root: Path,
                    home: Path | None, no_restart: bool) -> None:
    """Install a new release beside the current one, migrate the database (after a backup)
    and switch to it; the current release becomes the rollback target."""
    from anthias_edge.services.upgrade import PipSource, upgrade
    from anthias_edge.services.upgrade.releases import Layout

    if (wheel is None) == (index_url is None):
        raise click.UsageError("Give exactly one of --wheel PATH and --index URL.")
    if version and wheel is not None:
        raise click.UsageError("--version goes with --index; a wheel names its own version.")
    source = PipSource(index_url=index_url, find_links=find_links, no_index=no_index)
    installed = upgrade(Layout(root), _data(home), wheel=wheel, source=source, version=version,
                        restart=not no_restart, say=click.echo)
    click.echo(f"Upgraded to {installed}.")


@click.command("rollback")
@click.option("--restore-database", is_flag=True,
              help="Also put back the database copy taken before the upgrade (loses what was "
                   "written since; the database as it is now is kept in backups/).")
@root_option
@home_option
@restart_option
def rollback_command(restore_database: bool, root: Path, home: Path | None,
                     no_restart: bool) -> None:
    """Switch back to the previous release."""
    from anthias_edge.services.upgrade import rollback
    from anthias_edge.services.upgrade.releases import Layout

    version = rollback(Layout(root), _data(home), restore_database=restore_database,
                       restart=not no_restart, say=click.echo)
    click.echo(f"Rolled back to {version}.")
