"""The tenant: an organisation that owns assets, users and devices (migration 0003)."""

from __future__ import annotations

import uuid

from peewee import BooleanField, CharField, IntegerField, TextField

from anthias_edge.models.base import BaseModel, UtcDateTimeField
from anthias_edge.timeutil import utcnow

LOCAL_SUBDOMAIN = "local"


def new_id() -> str:
    """A fresh UUID4 as 36 characters of text, the id form of tenancy tables."""
    return str(uuid.uuid4())


class Tenant(BaseModel):
    """One organisation; on a device there is one, with subdomain ``local``."""

    id = CharField(max_length=36, primary_key=True, default=new_id)
    name = TextField()
    subdomain = TextField(unique=True)
    custom_domain = TextField(null=True, unique=True)
    is_active = BooleanField(default=True)
    plan_type = TextField(default="free")
    max_assets = IntegerField(default=100)
    max_devices = IntegerField(default=5)
    storage_quota_gb = IntegerField(default=10)
    # Bumped with every change to what the tenant's devices pull (migration 0013).
    sync_version = IntegerField(default=0)
    created_at = UtcDateTimeField(default=utcnow)
    updated_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "tenants"
