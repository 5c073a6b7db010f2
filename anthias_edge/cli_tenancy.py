"""Tenancy commands: ``tenant create``, ``user create`` and ``migrate-to-postgresql``.

They work on the device's SQLite database, or on PostgreSQL when ``DATABASE_URL`` is set (cloud
mode). Loaded lazily by ``anthias_edge.cli.main``; Flask is never imported here.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from anthias_edge.cli import _progress_bar, load_settings
from anthias_edge.permissions import ROLES

if TYPE_CHECKING:
    from peewee import Database

    from anthias_edge.errors import AnthiasError


def error_message(exc: AnthiasError) -> str:
    """One line for a domain error, field errors included."""
    field_errors = getattr(exc, "field_errors", None)
    if field_errors:
        fields = "; ".join(f"{name}: {' '.join(messages)}"
                           for name, messages in field_errors.items())
        return f"{exc.message} {fields}"
    return exc.message


@contextlib.contextmanager
def _tenancy_database() -> Iterator[Database]:
    """The deployment's database (DATABASE_URL, else the device's file), migrated and bound."""
    from peewee import PeeweeException

    from anthias_edge.db import db, open_database
    from anthias_edge.errors import AnthiasError
    from anthias_edge.services.pg_migration import migrate_locked

    settings = load_settings()
    database = open_database(os.environ.get("DATABASE_URL") or settings.database_path)
    db.initialize(database)
    try:
        with database.connection_context():
            migrate_locked(database)
            yield database
    except AnthiasError as exc:
        raise click.ClickException(error_message(exc)) from exc
    except PeeweeException as exc:
        raise click.ClickException(f"Database error: {exc}") from exc
    finally:
        database.close_all()


@click.group("tenant")
def tenant_group() -> None:
    """Manage tenants (organisations); on a device the only one is ``local``."""


@tenant_group.command("create")
@click.option("--name", required=True, help="Display name of the tenant.")
@click.option("--subdomain", required=True,
              help="Subdomain: <subdomain>.<ANTHIAS_BASE_DOMAIN> serves this tenant.")
@click.option("--owner-username", required=True, help="User name of the tenant's owner.")
@click.option("--owner-password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Owner's password (asked for when omitted, so it stays out of history).")
def tenant_create(name: str, subdomain: str, owner_username: str, owner_password: str) -> None:
    """Create a tenant and its owner; print the new tenant's id."""
    from anthias_edge.services.tenants import create_tenant

    with _tenancy_database():
        tenant, _owner = create_tenant(name, subdomain, owner_username, owner_password)
    click.echo(tenant.id)


@click.group("user")
def user_group() -> None:
    """Manage the users of a tenant."""


@user_group.command("create")
@click.option("--tenant", "tenant_ref", default="local", show_default=True,
              help="Subdomain or id of the tenant (a device's own tenant is `local`).")
@click.option("--username", required=True, help="New user's name (stored lower-cased).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="New user's password (asked for when omitted).")
@click.option("--role", type=click.Choice(ROLES), default="viewer", show_default=True,
              help="Role in the tenant.")
@click.option("--email", default="", help="E-mail address (optional).")
def user_create(tenant_ref: str, username: str, password: str, role: str, email: str) -> None:
    """Add a user with a role to a tenant; print the new user's id."""
    from anthias_edge.services.tenants import TenantService, get_tenant

    with _tenancy_database():
        tenant = get_tenant(tenant_ref)
        member = TenantService(tenant.id).create_user(username, password, role, email)
    click.echo(member.user_id)


@click.command("migrate-to-postgresql")
@click.option("--sqlite-db", "sqlite_db", required=True, type=click.Path(path_type=Path),
              help="Anthias or Anthias Edge database (screenly.db); opened read-only.")
@click.option("--tenant-name", required=True, help="Name of the tenant to create or reuse.")
@click.option("--tenant-subdomain", required=True, help="Subdomain of that tenant.")
@click.option("--database-url", required=True, envvar="DATABASE_URL",
              help="postgresql:// URL of the cloud database (default: DATABASE_URL).")
@click.option("--dry-run", is_flag=True, help="Write nothing; print what would be done.")
def migrate_to_postgresql_command(sqlite_db: Path, tenant_name: str, tenant_subdomain: str,
                                  database_url: str, dry_run: bool) -> None:
    """Copy every asset of an Anthias or Anthias Edge SQLite database into a cloud tenant.

    One transaction: all assets or none. Running it again updates what it copied before.
    """
    from anthias_edge.errors import AnthiasError
    from anthias_edge.services.pg_migration import migrate_to_postgresql

    try:
        with _progress_bar("Copying assets") as progress:
            result = migrate_to_postgresql(sqlite_db, tenant_name, tenant_subdomain,
                                           database_url, dry_run=dry_run, progress=progress)
    except AnthiasError as exc:
        raise click.ClickException(error_message(exc)) from exc
    tenant = ("a new tenant" if result.tenant_created
              else f"tenant {result.tenant_id}") + f" '{tenant_subdomain}'"
    if result.dry_run:
        click.echo(f"Dry run: would copy {result.total} assets from {result.era} database "
                   f"{sqlite_db} into {tenant}: {result.creates} to create, "
                   f"{result.updates} to update. Nothing was written.")
        return
    click.echo(f"Copied {result.total} assets from {result.era} database {sqlite_db} into "
               f"{tenant}: {result.creates} created, {result.updates} updated.")
    click.echo(f"Tenant id: {result.tenant_id}")
