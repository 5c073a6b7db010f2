"""The device's data: ``migrate`` the database, ``import-anthias`` a device or its backup."""

from __future__ import annotations

from pathlib import Path

import click

from anthias_edge.cli.common import load_settings, progress_bar


@click.command("migrate")
def migrate() -> None:
    """Apply pending database migrations (DATABASE_URL, else the database setting)."""
    from peewee import PeeweeException

    from anthias_edge.db import open_database, require_postgresql_driver, run_migrations

    settings = load_settings()
    url = settings.database_url or str(settings.database_path)
    require_postgresql_driver(url)
    database = open_database(url)
    try:
        with database.connection_context():
            applied = run_migrations(database)
    except PeeweeException as exc:
        raise click.ClickException(f"Cannot open the database: {exc}") from exc
    finally:
        database.close_all()
    for name in applied:
        click.echo(f"Applied {name}")
    if not applied:
        click.echo("Database is up to date.")


@click.command("import-anthias")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("-y", "--yes", is_flag=True,
              help="Replace this device's existing database without asking.")
def import_anthias_command(path: Path, yes: bool) -> None:
    """Import an Anthias device from PATH: its HOME folder (holding .screenly/) or a backup
    archive (.tar.gz). Replaces this device's settings and library; stop the server first.
    """
    from anthias_edge.services.importer import check_source, import_anthias

    settings = load_settings()
    if settings.database_url:
        raise click.ClickException(
            "import-anthias fills the device's SQLite database; unset DATABASE_URL first."
        )
    try:
        check_source(path, settings)
        if settings.database_path.exists() and not yes:
            click.confirm(f"This replaces the library in {settings.database_path}. Continue?",
                          abort=True)
        with progress_bar("Importing files") as progress:
            summary = import_anthias(path, settings, progress)
    except OSError as exc:
        raise click.ClickException(f"Import failed: {exc}") from exc
    click.echo(f"Imported {summary.assets} assets and {summary.files} files from {path} "
               f"into {settings.home}.")
    if summary.migrations:
        click.echo(f"Applied migrations: {', '.join(summary.migrations)}")
