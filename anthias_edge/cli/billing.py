"""``anthias-edge plans list|set|import``: the plan catalogue, changed without code.

The deployment's plans live in the database (seeded from the package's ``data/plans.json``
by migration 0012). ``set`` changes one plan's fields (or adds a plan); ``import`` applies a
whole file shaped like ``data/plans.json``. A plan's new limits apply to its subscribers at
once; nothing a tenant has is removed by lower limits, only new items are refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("plans")
def plans_group() -> None:
    """The plan catalogue: prices, intervals, trial days and limits."""


@plans_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plans_list(as_json: bool) -> None:
    """Every plan, in display order (hidden ones marked)."""
    from anthias_edge.cli.tenancy import _tenancy_database
    from anthias_edge.services.billing.plans import list_plans, show_plan

    with _tenancy_database():
        plans = [show_plan(plan) for plan in list_plans()]
    if as_json:
        click.echo(json.dumps({"plans": plans}, indent=2))
        return
    for plan in plans:
        limits = plan["limits"]
        hidden = "" if plan["is_public"] else "  (hidden)"
        click.echo(f"{plan['code']:<10} {plan['name']:<28} {plan['price_amount']:>10} "
                   f"{plan['currency']}/{plan['interval']:<5} trial {plan['trial_days']:>2}d  "
                   f"assets {limits['max_assets']}, devices {limits['max_devices']}, "
                   f"storage {limits['storage_quota_gb']} GB{hidden}")


@plans_group.command("set")
@click.argument("code")
@click.option("--name")
@click.option("--currency")
@click.option("--interval", type=click.Choice(["month", "year"]))
@click.option("--public/--hidden", "is_public", default=None)
@click.option("--price-amount", "price_amount", type=int)
@click.option("--trial-days", "trial_days", type=int)
@click.option("--max-assets", "max_assets", type=int)
@click.option("--max-devices", "max_devices", type=int)
@click.option("--storage-quota-gb", "storage_quota_gb", type=int)
@click.option("--sort-order", "sort_order", type=int)
def plans_set(code: str, **values: object) -> None:
    """Change plan CODE's fields, or add it (then --name and the three limits are needed)."""
    from anthias_edge.cli.tenancy import _tenancy_database
    from anthias_edge.services.billing.plans import set_plan

    given = {key: value for key, value in values.items() if value is not None}
    with _tenancy_database():
        plan = set_plan(code, given)
    click.echo(f"plan {plan.code} saved")


@plans_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def plans_import(path: Path) -> None:
    """Apply every plan in a JSON file shaped like the package's data/plans.json."""
    from anthias_edge.cli.tenancy import _tenancy_database
    from anthias_edge.services.billing.plans import import_plans

    with _tenancy_database():
        plans = import_plans(path)
    click.echo(f"{len(plans)} plans saved: {', '.join(p.code for p in plans)}")
