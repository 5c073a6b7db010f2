"""Tenancy commands: ``tenant create``, ``user create``, ``keys`` and ``migrate-to-postgresql``.

They work on the device's SQLite database, or on PostgreSQL when ``DATABASE_URL`` is set (cloud
mode). Loaded lazily by ``anthias_edge.cli.main``; Flask is never imported here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from anthias_edge.cli.common import load_settings, progress_bar
from anthias_edge.permissions import ROLES

if TYPE_CHECKING:
    from peewee import Database

    from anthias_edge.services.auth.jwt_tokens import AccessTokens


@contextlib.contextmanager
def _tenancy_database() -> Iterator[Database]:
    """The deployment's database (DATABASE_URL, else the device's file), migrated and bound."""
    from peewee import PeeweeException

    from anthias_edge.db import db, open_database
    from anthias_edge.services.pg_migration import apply_pending_migrations

    settings = load_settings()
    database = open_database(settings.database_url or settings.database_path)
    db.initialize(database)
    try:
        with database.connection_context():
            apply_pending_migrations(database)
            yield database
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
    from anthias_edge.services.row_security import tenant_scope
    from anthias_edge.services.tenants import TenantService, get_tenant

    with _tenancy_database() as database:
        tenant = get_tenant(tenant_ref)
        # Not a request: the owner's connection names the tenant, as row-level security asks.
        with tenant_scope(database, tenant.id):
            member = TenantService(tenant.id).create_user(username, password, role, email)
    click.echo(member.user_id)


@click.group("keys")
def keys_group() -> None:
    """Signing keys of v3 access tokens: list, rotate, retire.

    The newest active key signs; every active key verifies, so rotating logs nobody out.
    """


def _access_tokens() -> AccessTokens:
    from anthias_edge.services.auth.crypto_box import load_crypto_box
    from anthias_edge.services.auth.jwt_tokens import AccessTokens

    settings = load_settings()
    return AccessTokens(load_crypto_box(settings.deployment, settings.home,
                                        cloud=settings["mode"] == "cloud"))


@keys_group.command("list")
def keys_list() -> None:
    """One line per key, newest first: kid, created (UTC), state (signing, verifying, retired)."""
    from anthias_edge.models.token import SigningKey

    with _tenancy_database():
        keys = list(SigningKey.select(SigningKey.kid, SigningKey.created_at,
                                      SigningKey.retired_at)
                    .order_by(SigningKey.created_at.desc(), SigningKey.kid.desc()))
    if not keys:
        click.echo("No signing keys yet: the first sign-in creates one.")
        return
    signing = next((key.kid for key in keys if key.retired_at is None), None)
    for key in keys:
        if key.retired_at is not None:
            state = f"retired {key.retired_at:%Y-%m-%d %H:%M:%S}"
        else:
            state = "signing" if key.kid == signing else "verifying"
        click.echo(f"{key.kid}  {key.created_at:%Y-%m-%d %H:%M:%S}  {state}")


@keys_group.command("rotate")
@click.option("--prune/--no-prune", default=True, show_default=True,
              help="Also retire keys replaced longer than one token lifetime ago: nothing they "
                   "signed is still valid.")
def keys_rotate(prune: bool) -> None:
    """Make a new signing key (print its kid); tokens signed before keep working until they expire.

    Run it on a schedule (systemd/anthias-keys-rotate.timer does, monthly) or at once when a
    key may have leaked, followed by ``keys retire`` for that key.
    """
    with _tenancy_database():
        access = _access_tokens()
        kid = access.rotate_signing_key()
        retired = access.retire_superseded_keys() if prune else []
    click.echo(kid)
    for old in retired:
        click.echo(f"retired {old}", err=True)


@keys_group.command("retire")
@click.argument("kid")
def keys_retire(kid: str) -> None:
    """Stop accepting tokens signed by KID (their holders must sign in again).

    Running servers notice within the seconds they trust a key they have read (KEY_CACHE_TTL).
    """
    with _tenancy_database():
        if not _access_tokens().retire_signing_key(kid):
            raise click.ClickException(f"No active signing key {kid!r}: see `keys list`.")
    click.echo(f"retired {kid}")


@click.command("migrate-to-postgresql")
@click.option("--sqlite-db", "sqlite_db", required=True, type=click.Path(path_type=Path),
              help="Anthias or Anthias Edge database (screenly.db); opened read-only.")
@click.option("--tenant-name", required=True, help="Name of the tenant to create or reuse.")
@click.option("--tenant-subdomain", required=True, help="Subdomain of that tenant.")
@click.option("--database-url", required=True, envvar="DATABASE_URL",
              help="postgresql:// URL of the cloud database (default: DATABASE_URL).")
@click.option("--dry-run", is_flag=True, help="Write nothing; print what would be done.")
@click.option("--source-assets", type=click.Path(path_type=Path), default=None,
              help="The device's asset folder (default: screenly_assets beside the "
                   "database's .screenly folder, as on an Anthias device).")
@click.option("--asset-dir", type=click.Path(path_type=Path), default=None,
              help="The cloud's asset folder (default: this HOME's assetdir); the files "
                   "go to its <tenant id>/ folder.")
def migrate_to_postgresql_command(sqlite_db: Path, tenant_name: str, tenant_subdomain: str,
                                  database_url: str, dry_run: bool, source_assets: Path | None,
                                  asset_dir: Path | None) -> None:
    """Copy every asset of an Anthias or Anthias Edge SQLite database into a cloud tenant.

    One transaction: all assets or none. Running it again updates what it copied before.
    The local assets' files are copied into the tenant's own folder of the asset folder.
    """
    from anthias_edge.services.media_copy import MediaCopy
    from anthias_edge.services.pg_migration import migrate_to_postgresql

    media = MediaCopy(
        source_dir=source_assets or sqlite_db.absolute().parent.parent / "screenly_assets",
        asset_dir=asset_dir or load_settings().asset_dir)
    with progress_bar("Copying assets") as progress:
        result = migrate_to_postgresql(sqlite_db, tenant_name, tenant_subdomain, database_url,
                                       dry_run=dry_run, progress=progress, media=media)
    tenant = ("a new tenant" if result.tenant_created
              else f"tenant {result.tenant_id}") + f" '{tenant_subdomain}'"
    missing = (f"; {result.files_missing} not found in {media.source_dir}"
               if result.files_missing else "")
    if result.dry_run:
        click.echo(f"Dry run: would copy {result.total} assets from {result.era} database "
                   f"{sqlite_db} into {tenant}: {result.creates} to create, "
                   f"{result.updates} to update. Nothing was written.")
        click.echo(f"{result.files_copied} files would be copied into "
                   f"{media.asset_dir}/<tenant id>/{missing}.")
        return
    click.echo(f"Copied {result.total} assets from {result.era} database {sqlite_db} into "
               f"{tenant}: {result.creates} created, {result.updates} updated.")
    click.echo(f"{result.files_copied} files copied into "
               f"{media.asset_dir / result.tenant_id}{missing}.")
    click.echo(f"Tenant id: {result.tenant_id}")
