"""``anthias-edge plans list|set|import``: the operator changes the catalogue without code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from anthias_edge.cli import main

pytestmark = pytest.mark.sqlite_only  # the device's SQLite file under HOME


def run(home: Path, *args: str) -> Result:
    """``anthias-edge ARGS`` with HOME set."""
    return CliRunner().invoke(main, list(args), env={"HOME": str(home)})


def _plans(home: Path) -> dict[str, dict]:
    result = run(home, "plans", "list", "--json")
    assert result.exit_code == 0, result.output
    return {plan["code"]: plan for plan in json.loads(result.output)["plans"]}


def test_the_seeded_catalogue_is_listed(home: Path):
    result = run(home, "plans", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == ["free", "basic", "pro", "business", "legacy"]
    assert "(hidden)" in lines[-1]
    assert _plans(home)["basic"]["price_amount"] == 149000


def test_set_changes_one_plan_and_adds_a_new_one(home: Path):
    changed = run(home, "plans", "set", "basic", "--max-assets", "300", "--price-amount",
                  "159000")
    added = run(home, "plans", "set", "school", "--name", "School", "--max-assets", "50",
                "--max-devices", "3", "--storage-quota-gb", "5", "--hidden")
    assert changed.exit_code == 0 and added.exit_code == 0, changed.output + added.output
    plans = _plans(home)
    assert plans["basic"]["limits"]["max_assets"] == 300
    assert plans["basic"]["price_amount"] == 159000
    assert plans["school"]["limits"] == {"max_assets": 50, "max_devices": 3,
                                         "storage_quota_gb": 5}
    assert plans["school"]["is_public"] is False


def test_bad_values_are_refused_naming_the_field(home: Path):
    negative = run(home, "plans", "set", "basic", "--max-assets", "-1")
    incomplete = run(home, "plans", "set", "school", "--name", "School")
    assert negative.exit_code == 1
    assert "max_assets" in negative.output
    assert incomplete.exit_code == 1
    assert "max_devices" in incomplete.output
    assert _plans(home)["basic"]["limits"]["max_assets"] == 200
    assert "school" not in _plans(home)


def test_import_applies_a_whole_file(home: Path, tmp_path: Path):
    catalogue = tmp_path / "plans.json"
    catalogue.write_text(json.dumps({"plans": [
        {"code": "pro", "price_amount": 499000, "trial_days": 7},
        {"code": "enterprise", "name": "Enterprise", "price_amount": 4990000,
         "currency": "IDR", "interval": "year", "max_assets": 100000, "max_devices": 1000,
         "storage_quota_gb": 5000, "sort_order": 40}]}), encoding="utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text('{"plans": [{"code": "pro", "interval": "fortnight"}]}', encoding="utf-8")

    result = run(home, "plans", "import", str(catalogue))
    refused = run(home, "plans", "import", str(broken))

    assert result.exit_code == 0, result.output
    assert "2 plans saved: pro, enterprise" in result.output
    plans = _plans(home)
    assert (plans["pro"]["price_amount"], plans["pro"]["trial_days"]) == (499000, 7)
    assert plans["enterprise"]["interval"] == "year"
    assert refused.exit_code == 1 and "interval" in refused.output
    assert plans["pro"]["interval"] == "month"
