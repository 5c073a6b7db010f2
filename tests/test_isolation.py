"""The suite's own hygiene: a test leaves no process-wide state for the next one to trip on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Tests (parametrized) whose app ends linked to a cloud, then CLI commands run in-process
# on a fresh HOME.
LINKED_APP = ("tests/sync_device/test_write_paths.py::"
              "test_a_failed_create_leaves_neither_the_asset_nor_an_outbox_row")
CLI_ON_FRESH_HOME = ("tests/sync_agent/test_cli_sync.py::"
                     "test_status_and_unlink_of_a_device_that_is_not_linked")


def test_a_cli_test_after_an_app_test_sees_its_own_device_not_the_app_s_database():
    # In a child pytest: the order is the point, and this session's order is its own.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", LINKED_APP,
         CLI_ON_FRESH_HOME],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
