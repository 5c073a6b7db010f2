"""Users and their membership of tenants, with a role and per-user permission changes."""

from __future__ import annotations

from peewee import BigAutoField, BooleanField, CharField, ForeignKeyField, TextField

from anthias_edge.models.base import BaseModel, JSONTextField, UtcDateTimeField
from anthias_edge.models.tenant import Tenant, new_id
from anthias_edge.timeutil import utcnow

ROLES = ("owner", "admin", "editor", "viewer")


def _no_changes() -> dict[str, list[str]]:
    return {"grant": [], "revoke": []}


def permission_changes(permissions: dict | None, kind: str) -> list[str]:
    """A member's ``grant`` or ``revoke`` list out of its stored permissions object."""
    return list((permissions or {}).get(kind, []))


class User(BaseModel):
    """A person who can log in; usernames are unique and stored lower-cased."""

    id = CharField(max_length=36, primary_key=True, default=new_id)
    username = TextField(unique=True)
    email = TextField(default="")
    password_hash = TextField()
    is_active = BooleanField(default=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "users"


class TenantUser(BaseModel):
    """A user's membership of one tenant: role plus ``{"grant": [...], "revoke": [...]}``."""

    id = BigAutoField()
    user = ForeignKeyField(User, column_name="user_id", on_delete="CASCADE",
                           backref="memberships")
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", on_delete="CASCADE",
                             backref="members")
    role = TextField()
    permissions = JSONTextField(default=_no_changes)
    is_active = BooleanField(default=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "tenant_users"
        indexes = ((("user", "tenant"), True),)

    @property
    def grants(self) -> list[str]:
        """Permissions added on top of the role."""
        return permission_changes(self.permissions, "grant")

    @property
    def revokes(self) -> list[str]:
        """Permissions taken away from the role."""
        return permission_changes(self.permissions, "revoke")

    @classmethod
    def in_tenant(cls, tenant_id: str):
        """Memberships of one tenant with their users, oldest first."""
        return (cls.select(cls, User).join(User).where(cls.tenant == tenant_id)
                .order_by(cls.id))
