"""``systemd/anthias-cloud.service`` passes ``systemd-analyze verify`` and runs cloud mode."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "anthias-cloud.service"
EXEC = "/opt/anthias-edge/venv/bin/anthias-edge"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="needs systemd-analyze")
def test_the_cloud_unit_passes_systemd_analyze_verify(tmp_path):
    stub = tmp_path / "anthias-edge"
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace(EXEC, str(stub)))

    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                            text=True, timeout=60, check=False)

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
