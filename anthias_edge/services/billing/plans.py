"""The plan catalogue: read it, and let an operator change it without code.

The package's ``data/plans.json`` seeds the table once (migration 0012); afterwards the
table is the catalogue, changed with ``anthias-edge plans set|import``. Changing a plan's
limits applies them at once to every tenant subscribed to it (limits are read per check).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from anthias_edge.db import db
from anthias_edge.models.billing import Plan
from anthias_edge.services import sync_version
from anthias_edge.services.billing.errors import PlanCatalogueInvalid, PlanNotFound
from anthias_edge.timeutil import utcnow

FREE = "free"
INTERVALS = ("month", "year")
INT_FIELDS = ("price_amount", "trial_days", "max_assets", "max_devices", "storage_quota_gb",
              "sort_order")
FIELDS = ("name", "currency", "interval", "is_public", *INT_FIELDS)


def get_plan(code: str, *, public_only: bool = False) -> Plan:
    """The plan ``code``; PlanNotFound if there is none (or it is hidden and must be public)."""
    plan = Plan.get_or_none(Plan.code == str(code or ""))
    if plan is None or (public_only and not plan.is_public):
        raise PlanNotFound(details={"plan": code})
    return plan


def list_plans(*, public_only: bool = False) -> list[Plan]:
    """The catalogue in display order."""
    return list(Plan.catalogue(public_only=public_only))


def validate_plan(code: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """Checked, normalised column values for plan ``code``; PlanCatalogueInvalid otherwise."""
    problems: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if not code or not str(code).replace("-", "").replace("_", "").isalnum():
        problems["code"] = ["Use letters, digits, - and _."]
    for key, value in values.items():
        if key not in FIELDS:
            problems[key] = ["Unknown field."]
        elif key in INT_FIELDS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                problems[key] = ["Must be a whole number, 0 or more."]
            else:
                clean[key] = value
        elif key == "interval" and value not in INTERVALS:
            problems[key] = [f"One of {', '.join(INTERVALS)}."]
        elif key == "currency" and not (isinstance(value, str) and len(value) == 3
                                        and value.isalpha()):
            problems[key] = ["An ISO 4217 code such as IDR."]
        elif key == "is_public" and not isinstance(value, bool):
            problems[key] = ["true or false."]
        elif key == "name" and not (isinstance(value, str) and value.strip()):
            problems[key] = ["Must not be empty."]
        else:
            clean[key] = value.upper() if key == "currency" else value
    if problems:
        said = "; ".join(f"{key}: {' '.join(texts)}" for key, texts in problems.items())
        raise PlanCatalogueInvalid(f"Plan {code!r} is not valid ({said})",
                                   details={str(code): problems})
    return clean


def set_plan(code: str, values: Mapping[str, Any]) -> Plan:
    """Create or change one plan (a new plan needs name and the three limits)."""
    clean = validate_plan(code, values)
    with db.atomic():
        plan = Plan.get_or_none(Plan.code == code)
        if plan is None:
            missing = [k for k in ("name", "max_assets", "max_devices", "storage_quota_gb")
                       if k not in clean]
            if missing:
                raise PlanCatalogueInvalid(
                    f"A new plan {code!r} needs {', '.join(missing)}.",
                    details={code: {k: ["Required for a new plan."] for k in missing}})
            plan = Plan.create(code=code, updated_at=utcnow(), **clean)
        elif clean:
            Plan.update(updated_at=utcnow(), **clean).where(Plan.code == code).execute()
            plan = Plan.get(Plan.code == code)
        # Linked devices cache their plan's limits: each tenant's next pull must see new ones.
        # Which tenants are on this plan is behind row-level security here, and catalogue
        # changes are rare: every tenant pulls once more.
        sync_version.bump_all()
    return plan


def import_plans(path: Path) -> list[Plan]:
    """Create or change every plan in a JSON file shaped like ``data/plans.json``."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        entries: Iterable[Mapping[str, Any]] = document["plans"]
        items = [(entry["code"], {k: v for k, v in entry.items() if k != "code"})
                 for entry in entries]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlanCatalogueInvalid(f"{path}: not a plan file ({exc})") from exc
    with db.atomic():
        return [set_plan(code, values) for code, values in items]


def show_plan(plan: Plan) -> dict[str, Any]:
    """A plan as the API and the CLI show it."""
    return {"code": plan.code, "name": plan.name, "price_amount": plan.price_amount,
            "currency": plan.currency, "interval": plan.interval,
            "trial_days": plan.trial_days, "is_public": bool(plan.is_public),
            "sort_order": plan.sort_order,
            "limits": {"max_assets": plan.max_assets, "max_devices": plan.max_devices,
                       "storage_quota_gb": plan.storage_quota_gb}}
