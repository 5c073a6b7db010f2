"""Build a release's virtual environment from a wheel, and find the wheel on an index."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from anthias_edge.services.upgrade.errors import UpgradeError

PACKAGE = "anthias-edge"
# PEP 427: {distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl
WHEEL_NAME = re.compile(r"^anthias_edge-(?P<version>[^-]+)-.+\.whl$")


@dataclass(frozen=True)
class PipSource:
    """Where pip finds the packages: an index, extra folders of wheels, or only those."""

    index_url: str | None = None
    find_links: Sequence[Path] = field(default_factory=tuple)
    no_index: bool = False

    def arguments(self) -> list[str]:
        """pip's options for this source."""
        args = ["--no-index"] if self.no_index else []
        if self.index_url and not self.no_index:
            args += ["--index-url", self.index_url]
        for folder in self.find_links:
            args += ["--find-links", str(folder)]
        return args


def wheel_version(wheel: Path) -> str:
    """The version in an Anthias Edge wheel's file name."""
    match = WHEEL_NAME.match(wheel.name)
    if not match:
        raise UpgradeError(f"{wheel.name} is not an Anthias Edge wheel "
                           f"(expected anthias_edge-<version>-...whl).")
    return match.group("version")


def download_wheel(source: PipSource, version: str | None, folder: Path) -> Path:
    """Fetch the Anthias Edge wheel (the newest, or ``version``) from the index into ``folder``."""
    requirement = f"{PACKAGE}=={version}" if version else PACKAGE
    _pip([sys.executable, "-m", "pip"], ["download", "--no-deps", "--only-binary=:all:",
                                         "--dest", str(folder), *source.arguments(), requirement],
         f"Could not download {requirement}")
    wheels = sorted(folder.glob("anthias_edge-*.whl"))
    if not wheels:
        raise UpgradeError(f"The index gave no wheel for {requirement}.")
    return wheels[-1]


def build_release(target: Path, wheel: Path, source: PipSource, python: str) -> None:
    """Create a venv at ``target`` and install ``wheel`` (and its dependencies) into it."""
    try:
        subprocess.run([python, "-m", "venv", str(target)], check=True, capture_output=True,
                       text=True, timeout=600)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        raise UpgradeError(f"Could not create the virtual environment {target}: {detail}") \
            from exc
    _pip([str(target / "bin" / "python"), "-m", "pip"],
         ["install", "--no-input", *source.arguments(), str(wheel)],
         f"Could not install {wheel.name}")


def release_version(release: Path) -> str:
    """What the release's own ``anthias-edge --version`` says."""
    result = subprocess.run([str(release / "bin" / "anthias-edge"), "--version"],
                            capture_output=True, text=True, timeout=120, check=False)
    if result.returncode != 0:
        raise UpgradeError(f"{release.name}: anthias-edge --version failed: "
                           f"{_tail(result.stderr)}")
    return result.stdout.split()[-1]


def _pip(pip: list[str], args: list[str], failure: str) -> None:
    try:
        result = subprocess.run([*pip, "--disable-pip-version-check", *args],
                                capture_output=True, text=True, timeout=3600, check=False)
    except OSError as exc:
        raise UpgradeError(f"{failure}: {exc}.") from exc
    if result.returncode != 0:
        raise UpgradeError(f"{failure}: {_tail(result.stderr or result.stdout)}")


def _tail(text: str, lines: int = 5) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-lines:]) or "no output"
