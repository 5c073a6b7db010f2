"""Roles and permissions: the one table, per-user grants and revokes, and the check.

Every action checks one permission (``assets.view``, ``users.manage``, ...), never
a role. A tenant user's ``grant`` list adds single permissions to the role and
``revoke`` removes them; a revoke wins over a grant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from anthias_edge.errors import PermissionDenied, ValidationError

_VIEWER = "assets.view qr.view tenant.view devices.view"
_EDITOR = _VIEWER + " assets.create assets.edit assets.delete qr.create qr.edit qr.delete"
_ADMIN = _EDITOR + (" users.view users.manage tenant.edit devices.manage audit.view"
                    " tokens.manage billing.view")
_OWNER = _ADMIN + " billing.manage tenant.delete"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset(_VIEWER.split()),
    "editor": frozenset(_EDITOR.split()),
    "admin": frozenset(_ADMIN.split()),
    "owner": frozenset(_OWNER.split()),
}
ROLES = tuple(ROLE_PERMISSIONS)
ALL_PERMISSIONS: frozenset[str] = ROLE_PERMISSIONS["owner"]


def check_role(role: str) -> str:
    """Return ``role`` if it is one of the four, else raise ValidationError."""
    if role not in ROLE_PERMISSIONS:
        raise ValidationError({"role": [f"Must be one of: {', '.join(ROLES)}."]})
    return role


def check_permissions(names: Iterable[str], field_name: str = "permissions") -> list[str]:
    """Return the names sorted and de-duplicated; unknown names raise ValidationError."""
    names = list(names)
    unknown = sorted({n for n in names if n not in ALL_PERMISSIONS})
    if unknown:
        raise ValidationError({field_name: [f"Unknown permission: {n}." for n in unknown]})
    return sorted(set(names))


def effective_permissions(
    role: str, grants: Iterable[str] = (), revokes: Iterable[str] = ()
) -> frozenset[str]:
    """The role's permissions plus ``grants`` minus ``revokes`` (unknown names ignored)."""
    base = ROLE_PERMISSIONS[check_role(role)]
    return frozenset((base | (set(grants) & ALL_PERMISSIONS)) - set(revokes))


def require(permissions: Iterable[str], needed: str) -> None:
    """Raise PermissionDenied unless ``needed`` is among ``permissions``."""
    if needed not in permissions:
        raise PermissionDenied(f"This needs the {needed} permission.",
                               details={"permission": needed})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a tenant user (by access token) or an API token acting for one."""

    user_id: str
    tenant_id: str
    role: str
    permissions: frozenset[str] = field(default_factory=frozenset)
    token_id: str | None = None

    @property
    def actor(self) -> str:
        """The audit log's actor: the API token's id when one is used, else the user's."""
        return self.token_id or self.user_id

    def require(self, needed: str) -> None:
        """Raise PermissionDenied unless this principal holds ``needed``."""
        require(self.permissions, needed)
