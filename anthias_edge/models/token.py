"""Credentials: API tokens, refresh tokens, revoked access tokens, JWT signing keys, failed logins.

Secrets are never stored: tokens keep a SHA-256 of the secret, signing keys are
encrypted at rest (``services/auth/crypto_box.py``).
"""

from __future__ import annotations

from peewee import CharField, ForeignKeyField, IntegerField, TextField

from anthias_edge.models.base import BaseModel, JSONTextField, UtcDateTimeField
from anthias_edge.models.tenant import Tenant, new_id
from anthias_edge.models.user import User
from anthias_edge.timeutil import utcnow


class ApiToken(BaseModel):
    """A script's credential: scoped permissions, found by ``prefix``, checked by hash."""

    id = CharField(max_length=36, primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", on_delete="CASCADE")
    user = ForeignKeyField(User, column_name="user_id", on_delete="CASCADE")
    name = TextField()
    prefix = TextField(unique=True)
    secret_hash = TextField()
    permissions = JSONTextField(default=list)
    expires_at = UtcDateTimeField(null=True)
    last_used_at = UtcDateTimeField(null=True)
    revoked_at = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "api_tokens"


class RefreshToken(BaseModel):
    """One link of a login session's rotation chain (``family_id``)."""

    id = CharField(max_length=36, primary_key=True, default=new_id)
    tenant = ForeignKeyField(Tenant, column_name="tenant_id", on_delete="CASCADE")
    user = ForeignKeyField(User, column_name="user_id", on_delete="CASCADE")
    token_hash = TextField(unique=True)
    family_id = CharField(max_length=36, index=True)
    # The access token issued with this refresh token, revoked with the session.
    access_jti = TextField(null=True)
    rotated_at = UtcDateTimeField(null=True)
    revoked_at = UtcDateTimeField(null=True)
    expires_at = UtcDateTimeField()
    created_at = UtcDateTimeField(default=utcnow)

    class Meta:
        table_name = "refresh_tokens"


class RevokedToken(BaseModel):
    """A signed-out access token's id, refused until the token would have expired anyway."""

    jti = TextField(primary_key=True)
    expires_at = UtcDateTimeField(index=True)

    class Meta:
        table_name = "revoked_tokens"


class SigningKey(BaseModel):
    """An HS256 key for access tokens; the newest unretired one signs, all unretired verify."""

    kid = TextField(primary_key=True)
    secret_encrypted = TextField()
    created_at = UtcDateTimeField(default=utcnow)
    retired_at = UtcDateTimeField(null=True)

    class Meta:
        table_name = "signing_keys"


class LoginAttempt(BaseModel):
    """Recent failed logins under one throttle key, shared by every worker.

    A key names an account (``user:<name>``) or an account from one address
    (``pair:<name>|<address>``); ``services/auth/login_throttle.py`` owns the policy.
    """

    key = TextField(primary_key=True)
    failures = IntegerField(default=0)
    last_failure_at = UtcDateTimeField(index=True)

    class Meta:
        table_name = "login_attempts"
