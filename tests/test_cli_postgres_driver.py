"""``anthias-edge migrate`` on PostgreSQL without the driver says which extra to install.

The missing driver is real: the CLI runs in a fresh interpreter whose import system refuses
psycopg and psycopg2, as on a device installed without the ``postgres`` extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NO_DRIVER = """
import sys

class NoPostgresDriver:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("psycopg", "psycopg2", "psycopg_binary", "psycopg_c"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NoPostgresDriver())
from anthias_edge.cli import main
main(sys.argv[1:], prog_name="anthias-edge")
"""


def _run_without_driver(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANTHIAS_")}
    env.update(HOME=str(home), DATABASE_URL="postgresql://app@127.0.0.1:1/signage")
    return subprocess.run([sys.executable, "-c", NO_DRIVER, *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


def test_migrate_without_the_postgres_extra_names_the_extra_to_install(home: Path):
    result = _run_without_driver(home, "migrate")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr  # one line, no traceback
    assert "pip install 'anthias-edge[postgres]'" in result.stderr
    assert "psycopg" in result.stderr and "psycopg2" not in result.stderr
    assert result.stdout == ""
