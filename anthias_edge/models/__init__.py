"""Peewee models, one module per aggregate. Query helpers are model methods."""

from anthias_edge.models.asset import Asset
from anthias_edge.models.audit import AuditLog
from anthias_edge.models.base import BaseModel
from anthias_edge.models.fleet import (
    Device,
    DeviceAsset,
    DeviceCode,
    DeviceCommand,
    DevicePlay,
    FleetToken,
    PairingCode,
)
from anthias_edge.models.qr_content import QRContent
from anthias_edge.models.sync_device import SyncAppliedCommand, SyncLink, SyncOutbox
from anthias_edge.models.tenant import Tenant
from anthias_edge.models.token import (
    ApiToken,
    LoginAttempt,
    RefreshToken,
    RevokedToken,
    SigningKey,
)
from anthias_edge.models.user import TenantUser, User

__all__ = [
    "ApiToken",
    "Asset",
    "AuditLog",
    "BaseModel",
    "Device",
    "DeviceAsset",
    "DeviceCode",
    "DeviceCommand",
    "DevicePlay",
    "FleetToken",
    "LoginAttempt",
    "PairingCode",
    "QRContent",
    "RefreshToken",
    "RevokedToken",
    "SigningKey",
    "SyncAppliedCommand",
    "SyncLink",
    "SyncOutbox",
    "Tenant",
    "TenantUser",
    "User",
]
