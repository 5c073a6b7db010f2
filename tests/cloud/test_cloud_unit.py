"""``systemd/anthias-cloud.service`` passes ``systemd-analyze verify`` and runs cloud mode."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[2] / "systemd"
UNIT = UNITS / "anthias-cloud.service"
EXEC = "/opt/anthias-edge/venv/bin/anthias-edge"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
@pytest.mark.parametrize("names", [
    ["anthias-cloud.service"],
    ["anthias-keys-rotate.service", "anthias-keys-rotate.timer"],  # a timer needs its service
])
def test_the_cloud_units_pass_systemd_analyze_verify(tmp_path, names):
    stub = tmp_path / "anthias-edge"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    for name in names:
        (tmp_path / name).write_text((UNITS / name).read_text().replace(EXEC, str(stub)))

    result = subprocess.run(["systemd-analyze", "verify", *(str(tmp_path / n) for n in names)],
                            capture_output=True, text=True, timeout=60, check=False)

    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""


def test_the_cloud_unit_serves_in_cloud_mode_from_its_environment_file():
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(UNIT)
    service = parser["Service"]

    assert service["ExecStart"] == f"{EXEC} serve"
    assert "ANTHIAS_MODE=cloud" in service["Environment"]
    assert service["EnvironmentFile"] == "/etc/anthias-edge/cloud.env"
    assert (service["Type"], service["User"], service["NoNewPrivileges"]) == (
        "notify", "anthias", "yes")


def test_the_key_rotation_runs_keys_rotate_monthly_with_the_cloud_environment():
    service = configparser.ConfigParser(strict=False, interpolation=None)
    service.optionxform = str
    service.read(UNITS / "anthias-keys-rotate.service")
    timer = configparser.ConfigParser(strict=False, interpolation=None)
    timer.optionxform = str
    timer.read(UNITS / "anthias-keys-rotate.timer")

    assert service["Service"]["ExecStart"] == f"{EXEC} keys rotate"
    assert service["Service"]["EnvironmentFile"] == "/etc/anthias-edge/cloud.env"
    assert (service["Service"]["Type"], service["Service"]["User"]) == ("oneshot", "anthias")
    assert (timer["Timer"]["OnCalendar"], timer["Timer"]["Persistent"]) == ("monthly", "true")
