"""Where the hub keeps the files devices upload: a MediaStore, content-addressed per tenant.

A file is named by its sha256 inside its tenant. An upload writes a partial file chunk by
chunk (resumable: the partial's size is the offset to resume from); once whole, its hash is
checked and only then is it renamed to its final name, so a final name always holds exactly
the bytes its hash names. ``LocalFolderStore`` (the default) keeps them under each tenant's
asset folder: ``<asset_dir>/<tenant_id>/shared/<sha256>``, partials in ``shared/.partial``;
they count toward the tenant's storage quota like its other files. Another backend (object
storage) implements the same five methods.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Protocol

from anthias_edge.services.media import tenant_media_dir

SHA256 = re.compile(r"^[0-9a-f]{64}$")
SHARED = "shared"
PARTIAL = ".partial"
READ_CHUNK = 1024 * 1024


class MediaStore(Protocol):
    """The hub's file store; every method takes a tenant id and a checked sha256 hex."""

    def received(self, tenant_id: str, sha256: str) -> int:
        """Bytes of the partial upload so far (0 if none)."""

    def write(self, tenant_id: str, sha256: str, offset: int, chunk: bytes) -> int:
        """Write ``chunk`` at ``offset`` of the partial (dropping anything after it); new size."""

    def finish(self, tenant_id: str, sha256: str) -> bool:
        """Check the whole partial's hash; True: now final. False: the partial is discarded."""

    def discard(self, tenant_id: str, sha256: str) -> None:
        """Forget a partial upload."""

    def path(self, tenant_id: str, sha256: str) -> Path | None:
        """The final file on local disk, if complete (None otherwise)."""


class LocalFolderStore:
    """Files under ``<root>/<tenant_id>/shared/``, where ``root`` is the asset folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _folder(self, tenant_id: str) -> Path:
        return tenant_media_dir(self.root, tenant_id, own_library=False) / SHARED

    def _partial(self, tenant_id: str, sha256: str) -> Path:
        _check(sha256)
        return self._folder(tenant_id) / PARTIAL / f"{sha256}.part"

    def received(self, tenant_id: str, sha256: str) -> int:
        try:
            return self._partial(tenant_id, sha256).stat().st_size
        except FileNotFoundError:
            return 0

    def write(self, tenant_id: str, sha256: str, offset: int, chunk: bytes) -> int:
        partial = self._partial(tenant_id, sha256)
        partial.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(partial, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            view = memoryview(chunk)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.ftruncate(fd, offset + len(chunk))
            os.fsync(fd)  # an acknowledged chunk survives a power cut
            return offset + len(chunk)
        finally:
            os.close(fd)

    def finish(self, tenant_id: str, sha256: str) -> bool:
        partial = self._partial(tenant_id, sha256)
        digest = hashlib.sha256()
        with partial.open("rb") as handle:
            while block := handle.read(READ_CHUNK):
                digest.update(block)
        if digest.hexdigest() != sha256:
            partial.unlink(missing_ok=True)
            return False
        final = self._folder(tenant_id) / sha256
        os.replace(partial, final)  # same folder tree, same file system: atomic
        return True

    def discard(self, tenant_id: str, sha256: str) -> None:
        self._partial(tenant_id, sha256).unlink(missing_ok=True)

    def path(self, tenant_id: str, sha256: str) -> Path | None:
        _check(sha256)
        final = self._folder(tenant_id) / sha256
        return final if final.is_file() else None


def _check(sha256: str) -> None:
    if not SHA256.match(sha256):  # a file name made of anything else could leave the folder
        raise ValueError("not a sha256 hex digest")
