"""``anthias-edge qr list|create|deactivate``: a tenant's shared codes, for scripts.

Each command works on the device's database (or PostgreSQL with ``DATABASE_URL``) inside the
tenant's scope, as row-level security asks of operator commands, and writes the audit log
as actor ``cli``. Output is one line per code, tab-separated, or JSON with ``--json``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from anthias_edge.cli.common import load_settings

if TYPE_CHECKING:
    from anthias_edge.models import QRContent, Tenant
    from anthias_edge.settings import Settings

ACTOR = "cli"
TENANT_HELP = "Subdomain or id of the tenant (a device's own tenant is `local`)."


def _base_url(settings: Settings, tenant: Tenant) -> str:
    """Where the codes lead, as the API says: a device's public_url or LAN address, a cloud
    tenant's own address; empty when none is known (the line then shows /q/<code>)."""
    from anthias_edge.services.qr_links import cloud_share_base, device_share_base

    if settings["mode"] == "cloud":
        return cloud_share_base(tenant.subdomain, settings.base_domain,
                                custom_domain=tenant.custom_domain)
    return device_share_base(settings)


def _fields(row: QRContent, base: str) -> dict[str, Any]:
    from anthias_edge.services.qr_links import landing_url
    from anthias_edge.timeutil import format_datetime

    return {"qr_code": row.qr_code, "barcode": row.barcode, "asset_id": row.asset_id,
            "title": row.title, "is_active": bool(row.is_active),
            "is_expired": row.is_expired(), "access_count": row.access_count,
            "expires_at": format_datetime(row.expires_at),
            "landing_url": landing_url(row.qr_code, public_url=None, base_url=base)}


def _line(fields: dict[str, Any]) -> str:
    state = ("expired" if fields["is_expired"] else
             "active" if fields["is_active"] else "inactive")
    return "\t".join([fields["qr_code"], fields["barcode"] or "-", state,
                      str(fields["access_count"]), fields["landing_url"], fields["title"]])


def _run(tenant_ref: str, work: Any) -> Any:
    """``work(service, tenant)`` in the tenant's scope on the migrated database."""
    from anthias_edge.cli.tenancy import _tenancy_database
    from anthias_edge.services.qr_content import QRContentService
    from anthias_edge.services.row_security import tenant_scope
    from anthias_edge.services.tenants import get_tenant

    with _tenancy_database() as database:
        tenant = get_tenant(tenant_ref)
        with tenant_scope(database, tenant.id):
            return work(QRContentService(tenant.id, actor=ACTOR), tenant)


@click.group("qr")
def qr_group() -> None:
    """Shared codes (QR contents) of a tenant's assets: list, create, deactivate."""


@qr_group.command("list")
@click.option("--tenant", "tenant_ref", default="local", show_default=True, help=TENANT_HELP)
@click.option("--asset", "asset_id", default=None, help="Only this asset's codes.")
@click.option("--active/--inactive", default=None, help="Only active (or inactive) codes.")
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of lines.")
def qr_list(tenant_ref: str, asset_id: str | None, active: bool | None, as_json: bool) -> None:
    """Print the codes, newest first: code, barcode, state, scans, landing URL, title."""
    settings = load_settings()

    def work(service: Any, tenant: Tenant) -> list[dict[str, Any]]:
        base = _base_url(settings, tenant)
        found, cursor = [], None
        while True:
            page = service.page(limit=200, cursor=cursor, asset_id=asset_id, active=active)
            found += [_fields(row, base) for row in page.items]
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

    rows = _run(tenant_ref, work)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    for fields in rows:
        click.echo(_line(fields))


@qr_group.command("create")
@click.argument("asset_id")
@click.option("--tenant", "tenant_ref", default="local", show_default=True, help=TENANT_HELP)
@click.option("--title", default=None, help="Title on the landing page (default: asset name).")
@click.option("--description", default="", help="Text under the title on the landing page.")
@click.option("--expires", "expires", default=None,
              help="ISO-8601 date and time after which the code answers 410 (UTC if no offset).")
@click.option("--barcode", "include_barcode", is_flag=True, help="Also make a Code 128 barcode.")
@click.option("--json", "as_json", is_flag=True, help="Print the new code as JSON.")
def qr_create(asset_id: str, tenant_ref: str, title: str | None, description: str,
              expires: str | None, include_barcode: bool, as_json: bool) -> None:
    """Make a code for ASSET_ID; print it as a list line (or JSON)."""
    from anthias_edge.cli.common import BadUsage
    from anthias_edge.timeutil import parse_datetime

    expires_at = None
    if expires:
        try:
            expires_at = parse_datetime(expires)  # naive UTC
        except (ValueError, OverflowError) as exc:
            raise BadUsage(f"--expires: {exc}") from exc
    settings = load_settings()

    def work(service: Any, tenant: Tenant) -> dict[str, Any]:
        row = service.create(asset_id, title, description, expires_at, include_barcode)
        return _fields(row, _base_url(settings, tenant))

    fields = _run(tenant_ref, work)
    click.echo(json.dumps(fields, ensure_ascii=False) if as_json else _line(fields))


@qr_group.command("deactivate")
@click.argument("qr_code")
@click.option("--tenant", "tenant_ref", default="local", show_default=True, help=TENANT_HELP)
def qr_deactivate(qr_code: str, tenant_ref: str) -> None:
    """Stop QR_CODE from opening its content (scans answer 410); its count stays."""
    settings = load_settings()

    def work(service: Any, tenant: Tenant) -> dict[str, Any]:
        return _fields(service.deactivate(qr_code), _base_url(settings, tenant))

    click.echo(_line(_run(tenant_ref, work)))
