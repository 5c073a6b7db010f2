"""The release layout under the install root (docs/upgrade.md).

``releases/<version>/`` holds one virtual environment per release; ``venv`` is a symlink to
the current one (the units run ``venv/bin/anthias-edge``) and ``previous`` to the one before,
the rollback target. Links are relative, so a root moved or mounted elsewhere still works, and
each is replaced atomically (a new link renamed over the old one): a unit starting during the
switch sees either release, never none.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from anthias_edge.services.upgrade.errors import UpgradeError

# A version as it may name a folder: PEP 440 characters only, so nothing escapes releases/.
VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!_-]*$")


@dataclass(frozen=True)
class Layout:
    """The install root (``/opt/anthias-edge`` on a device)."""

    root: Path

    @property
    def releases(self) -> Path:
        """The folder of release venvs."""
        return self.root / "releases"

    @property
    def venv(self) -> Path:
        """The link to the current release."""
        return self.root / "venv"

    @property
    def previous_link(self) -> Path:
        """The link to the release before it."""
        return self.root / "previous"

    def release(self, version: str) -> Path:
        """The folder of one release's venv."""
        if not VERSION.match(version):
            raise UpgradeError(f"{version!r} is not a release version.")
        return self.releases / version

    def current(self) -> Path:
        """The current release's folder; an error when the root has no release layout."""
        if self.venv.is_dir() and not self.venv.is_symlink():
            raise UpgradeError(
                f"{self.venv} is a plain virtual environment, not a link to a release: "
                f"reinstall with the release layout (docs/upgrade.md) before upgrading.")
        target = _target(self.venv)
        if target is None:
            raise UpgradeError(f"No current release: {self.venv} is not a link to a release "
                               f"in {self.releases}.")
        return target

    def previous(self) -> Path | None:
        """The previous release's folder, or None when there is none to go back to."""
        return _target(self.previous_link)

    def point(self, link: Path, release: Path) -> None:
        """Make ``link`` point at ``release``, atomically."""
        temporary = link.with_name(f".{link.name}.new")
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(os.path.relpath(release, link.parent))
        os.replace(temporary, link)

    def prune(self) -> list[str]:
        """Remove the releases that are neither current nor previous; return their names."""
        keep = {self.current().resolve()}
        previous = self.previous()
        if previous is not None:
            keep.add(previous.resolve())
        removed = []
        for folder in sorted(self.releases.iterdir()):
            if folder.is_dir() and folder.resolve() not in keep:
                shutil.rmtree(folder)
                removed.append(folder.name)
        return removed


def _target(link: Path) -> Path | None:
    if not link.is_symlink():
        return None
    target = link.resolve()
    return target if (target / "bin" / "anthias-edge").exists() else None
