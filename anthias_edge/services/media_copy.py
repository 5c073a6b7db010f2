"""Copying a device's asset files into one cloud tenant's folder (``migrate-to-postgresql``).

In the cloud a tenant may use only files in ``<assetdir>/<tenant_id>/`` (media.py), so a
migrated library's local ``uri`` values are rewritten into that folder and the files are
copied there from the device's asset folder. Only a regular file directly in that folder is
copied (links and ``..`` resolved): a library from a customer's device names what it likes.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from anthias_edge.services.media import tenant_media_dir
from anthias_edge.services.uri_rules import is_local

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MediaCopy:
    """Where a library's files come from and the cloud's asset folder they go to."""

    source_dir: Path  # the device's asset folder (an extracted backup's screenly_assets)
    asset_dir: Path  # the cloud's; each tenant's files go to <asset_dir>/<tenant_id>/


@dataclass
class PlacedMedia:
    """The rows with rewritten URIs, and what happened to their files."""

    rows: list[dict[str, Any]]
    copied: int = 0
    missing: int = 0
    created: list[Path] = field(default_factory=list)

    def undo(self) -> None:
        """Remove the files this copy created (the database write that needed them failed)."""
        for path in self.created:
            try:
                path.unlink()
            except OSError as exc:
                logger.info("could not remove %s: %s", path, exc)


def place_media(rows: list[Mapping[str, Any]], media: MediaCopy, tenant_id: str | None,
                *, dry_run: bool = False) -> PlacedMedia:
    """Rewrite each local ``uri`` into the tenant's folder and copy its file there.

    ``dry_run`` copies nothing and only counts. A file not found in the source folder is
    counted as missing; its row still points into the tenant's folder, never elsewhere.
    """
    target_dir = tenant_media_dir(media.asset_dir, tenant_id or "dry-run", own_library=False)
    placed = PlacedMedia(rows=[])
    try:
        for row in rows:
            uri = row.get("uri") or ""
            if not is_local(uri):
                placed.rows.append(dict(row))
                continue
            name = _file_name(uri, str(row.get("asset_id") or ""))
            target = target_dir / name
            placed.rows.append({**row, "uri": str(target)})
            source = _source_file(media.source_dir, name)
            if source is None:
                placed.missing += 1
            elif dry_run:
                placed.copied += 1
            else:
                _copy_into_place(source, target, placed)
    except BaseException:
        placed.undo()
        raise
    return placed


def _plain(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\0" not in name


def _file_name(uri: str, asset_id: str) -> str:
    """The file's name in the tenant's folder: the device's, else the asset id."""
    name = PurePosixPath(uri).name
    if _plain(name) and len(name) <= 255:
        return name
    return asset_id if _plain(asset_id) and len(asset_id) <= 255 else uuid.uuid4().hex


def _source_file(source_dir: Path, name: str) -> Path | None:
    """The regular file ``name`` directly in ``source_dir``, links resolved, or None."""
    try:
        folder = source_dir.resolve()
        path = (source_dir / name).resolve()
        if path.parent == folder and path.is_file():
            return path
    except (OSError, RuntimeError):
        pass
    return None


def _copy_into_place(source: Path, target: Path, placed: PlacedMedia) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    existed = target.exists()
    partial = target.with_name(f".{uuid.uuid4().hex}.part")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    placed.copied += 1
    if not existed:  # a re-run overwrites its own earlier copy; undo keeps that one
        placed.created.append(target)
