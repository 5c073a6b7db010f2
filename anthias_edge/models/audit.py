"""The audit log: who did what to which object of a tenant, append only."""

from __future__ import annotations

from peewee import BigAutoField, CharField, TextField

from anthias_edge.models.base import BaseModel, UtcDateTimeField
from anthias_edge.timeutil import utcnow


class AuditLog(BaseModel):
    """One recorded action; ``actor`` is a user id, an API token id or ``system``."""

    id = BigAutoField()
    tenant = CharField(max_length=36, column_name="tenant_id")
    actor = TextField()
    action = TextField()
    object_type = TextField(default="")
    object_id = TextField(default="")
    summary = TextField(default="")
    ip = TextField(null=True)
    at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "audit_log"
        indexes = ((("tenant", "id"), False),)
