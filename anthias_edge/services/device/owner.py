"""On a device, the Basic-auth user of ``screenly.conf`` is the owner of the local tenant.

At start, and before each v3 login on a device, the owner ``User`` is created or
brought up to date from the conf's user name and SHA-256 password hash (stored as
``sha256$<hex>``; the first successful login re-hashes it with argon2id). A marker
file remembers which conf credentials were applied, so a password changed through
``device_settings`` reaches the owner while an unchanged one costs one small read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from peewee import PeeweeException

from anthias_edge.db import db
from anthias_edge.models import TenantUser, User
from anthias_edge.services import audit
from anthias_edge.services.auth.passwords import legacy_sha256_hash
from anthias_edge.services.tenants import normalise_username
from anthias_edge.settings import auth_enabled

if TYPE_CHECKING:
    from anthias_edge.runtime import Runtime

logger = logging.getLogger(__name__)

MARKER_NAME = "v3-owner.json"


def _fingerprint(username: str, password_hash: str) -> str:
    return hashlib.sha256(f"{username}\0{password_hash}".encode()).hexdigest()


def _read_marker(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_marker(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".v3-owner-")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(temp, path)


def sync_device_owner(rt: Runtime) -> str | None:
    """Make the conf's Basic-auth user the local tenant's owner; return its user id.

    Does nothing (None) in the cloud or when the device has no login.
    """
    settings = rt.settings
    # Only a device with Basic auth on has a login to mirror.
    if rt.is_cloud or not auth_enabled(settings) or not settings["user"]:
        return None
    conf_hash = str(settings["password"] or "")
    if len(conf_hash) != 64:
        return None
    username = normalise_username(settings["user"])
    marker_path = settings.config_dir / MARKER_NAME
    marker = _read_marker(marker_path)
    fingerprint = _fingerprint(username, conf_hash)
    known = User.get_or_none(User.id == str(marker.get("user_id", "")))
    if known is not None and marker.get("fingerprint") == fingerprint:
        return known.id
    tenant_id = rt.local_tenant_id
    with db.atomic():
        user = known or User.get_or_none(User.username == username)
        if user is None:
            user = User.create(username=username, password_hash=legacy_sha256_hash(conf_hash),
                               created_at=rt.clock())
        else:
            clash = User.get_or_none(User.username == username, User.id != user.id)
            if clash is None:
                user.username = username
            user.password_hash = legacy_sha256_hash(conf_hash)
            user.is_active = True
            user.save()
        member = TenantUser.get_or_none(TenantUser.user == user.id,
                                        TenantUser.tenant == tenant_id)
        if member is None:
            TenantUser.create(user=user.id, tenant=tenant_id, role="owner",
                              created_at=rt.clock())
        elif member.role != "owner" or not member.is_active:
            member.role, member.is_active = "owner", True
            member.save()
        audit.record(tenant_id, "system", "user.sync_device_owner", "user", user.id,
                     f"{user.username} from screenly.conf", clock=rt.clock)
    _write_marker(marker_path, {"user_id": user.id, "fingerprint": fingerprint})
    logger.info("device owner %s updated from screenly.conf", user.username)
    return user.id


def sync_device_owner_at_start(rt: Runtime) -> None:
    """``sync_device_owner`` as a start-up step: a device starts even when it fails."""
    if rt.is_cloud:
        return
    try:
        with rt.database.connection_context():
            sync_device_owner(rt)
    except (PeeweeException, OSError):
        # The next v3 login tries again.
        logger.exception("could not make the screenly.conf user the device owner")
