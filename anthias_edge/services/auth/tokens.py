"""Logins, refresh-token rotation, logout, and API tokens for scripts.

Refresh and API token secrets are random and shown once; only their SHA-256 is
stored. A refresh token is used once: presenting an already-rotated one means it
was stolen or replayed, and its whole family (the login session) is revoked.

Revoking a session (sign-out, replay) also revokes its access tokens: each refresh token
row names the access token issued with it, and their ids go into ``revoked_tokens`` until
they would have expired. Every access-token check reads that list in the query that reads
the member anyway, so a sign-out holds on every worker at once and costs no extra round trip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import uuid
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from peewee import JOIN, Field

from anthias_edge.db import db, without_waiting_for_disk
from anthias_edge.errors import (
    ApiTokenNotFound,
    AuthenticationFailed,
    PermissionDenied,
    TenantInactive,
    TenantNotFound,
    TokenInvalid,
    ValidationError,
)
from anthias_edge.models import ApiToken, RefreshToken, RevokedToken, Tenant, TenantUser, User
from anthias_edge.models.base import PreparedSelect
from anthias_edge.models.user import permission_changes
from anthias_edge.permissions import Principal, check_permissions, effective_permissions
from anthias_edge.services import audit
from anthias_edge.services.auth.jwt_tokens import AccessTokens
from anthias_edge.services.auth.login_throttle import LoginThrottle
from anthias_edge.services.auth.member_login import check_member_password, member_after_password
from anthias_edge.services.auth.passwords import Passwords
from anthias_edge.services.row_security import (
    enter_api_token_tenant,
    enter_refresh_token_tenant,
    set_tenant,
)
from anthias_edge.services.tenants import TenantService, get_tenant, normalise_username
from anthias_edge.timeutil import utcnow

logger = logging.getLogger(__name__)

REFRESH_TTL = dt.timedelta(days=30)
API_TOKEN_PREFIX = "ae_"
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class TokenPair:
    """What a login or refresh returns (the v3 token response, minus ``token_type``)."""

    access_token: str
    expires_in: int
    refresh_token: str
    tenant_id: str
    user_id: str
    role: str


class TenantRef(NamedTuple):
    """What a request checks of its credentials' tenant: the names it may be called by."""

    id: str
    subdomain: str
    custom_domain: str | None
    is_active: bool


class Membership(NamedTuple):
    """A tenant member as every authenticated request reads it: no model, one row."""

    user_id: str
    tenant_id: str
    role: str
    grants: list[str]
    revokes: list[str]
    is_active: bool
    user_is_active: bool
    tenant: TenantRef


@dataclass(frozen=True)
class Caller:
    """Who a token speaks for, and that principal's tenant as read with the credentials."""

    principal: Principal
    tenant: TenantRef


def _member_fields() -> tuple[Field, ...]:
    return (TenantUser.user, TenantUser.tenant, TenantUser.role, TenantUser.permissions,
            TenantUser.is_active, User.is_active, Tenant.subdomain, Tenant.custom_domain,
            Tenant.is_active)


def _membership(values: Sequence[Any]) -> Membership | None:
    """A Membership out of ``_member_fields()``'s values; None for an outer join's blanks."""
    (user_id, tenant_id, role, permissions, is_active, user_is_active, subdomain,
     custom_domain, tenant_is_active) = values
    if user_id is None:
        return None
    return Membership(user_id, tenant_id, role, permission_changes(permissions, "grant"),
                      permission_changes(permissions, "revoke"), is_active, user_is_active,
                      TenantRef(tenant_id, subdomain, custom_domain, tenant_is_active))


# The member with its user and tenant in one query.
_LIVE_MEMBER = PreparedSelect(
    lambda user_id, tenant_id: TenantUser.select(*_member_fields()).join(User)
    .switch(TenantUser).join(Tenant)
    .where(TenantUser.user == user_id, TenantUser.tenant == tenant_id).limit(1))

# The same, plus the access token's id if it was revoked (else NULL): every request with an
# access token runs it. The outer join is one primary-key probe in the query already made;
# a per-worker cache would let another worker's sign-out go unseen for its lifetime.
_LIVE_MEMBER_UNREVOKED = PreparedSelect(
    lambda jti, user_id, tenant_id: TenantUser.select(*_member_fields(), RevokedToken.jti)
    .join(User).switch(TenantUser).join(Tenant)
    .join_from(TenantUser, RevokedToken, JOIN.LEFT_OUTER, on=(RevokedToken.jti == jti))
    .where(TenantUser.user == user_id, TenantUser.tenant == tenant_id).limit(1))


class _ApiTokenRow(NamedTuple):
    id: str
    prefix: str
    secret_hash: str
    permissions: list[str]
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None
    member: Membership | None


# An API token, its creator's membership in the token's tenant, the user and the tenant in one
# query (a script may call many times a minute); a missing membership leaves ``member`` None.
_API_TOKEN_WITH_MEMBER = PreparedSelect(
    lambda prefix: ApiToken.select(
        ApiToken.id, ApiToken.prefix, ApiToken.secret_hash, ApiToken.permissions,
        ApiToken.expires_at, ApiToken.revoked_at, ApiToken.last_used_at, *_member_fields())
    .join_from(ApiToken, TenantUser, JOIN.LEFT_OUTER,
               on=((TenantUser.user == ApiToken.user) & (TenantUser.tenant == ApiToken.tenant)))
    .join_from(TenantUser, User, JOIN.LEFT_OUTER)
    .join_from(TenantUser, Tenant, JOIN.LEFT_OUTER)
    .where(ApiToken.prefix == prefix).limit(1))
_API_TOKEN_COLUMNS = len(_ApiTokenRow._fields) - 1


def _api_token_row(prefix: str) -> _ApiTokenRow | None:
    values = _API_TOKEN_WITH_MEMBER.first(prefix)
    if values is None:
        return None
    return _ApiTokenRow(*values[:_API_TOKEN_COLUMNS],
                        _membership(values[_API_TOKEN_COLUMNS:]))


def last_use_interval(prefix: str) -> dt.timedelta:
    """How long a token's noted last use stands: one to two minutes, fixed per token.

    Tokens first used together (a fleet's scripts started at once) would otherwise all be
    written in the same second of every minute; the spread turns that burst into a trickle.
    """
    spread = zlib.crc32(prefix.encode()) % 60
    return LAST_USED_GRANULARITY + dt.timedelta(seconds=spread)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class AuthService:
    """Authentication for v3; every method reads and writes only the database."""

    def __init__(
        self,
        access_tokens: AccessTokens,
        *,
        passwords: Passwords | None = None,
        throttle: LoginThrottle | None = None,
        refresh_ttl: dt.timedelta = REFRESH_TTL,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        """Share ``clock`` with ``access_tokens`` and ``throttle`` in tests."""
        self.access_tokens = access_tokens
        self.passwords = passwords or Passwords()
        self.throttle = throttle or LoginThrottle(clock=clock)
        self.refresh_ttl = refresh_ttl
        self.clock = clock

    # -- login, refresh, logout --------------------------------------------------------

    def authenticate(self, username: str, password: str, tenant_ref: str,
                     ip: str | None = None) -> TokenPair:
        """Log in to one tenant; the same AuthenticationFailed for every kind of wrong."""
        username = normalise_username(username)
        tenant_id = None

        def find_user() -> User | None:
            nonlocal tenant_id
            user, tenant_id = self._login_user(username, tenant_ref)
            return user

        attempt = check_member_password(self.throttle, self.passwords, username,
                                        password or "", ip, find_user)
        # The tenant's rows are entered only once the password matched (row_security.py).
        member = member_after_password(attempt.user, tenant_id) if attempt.user else None
        if member is None or not (member.is_active and member.user.is_active):
            if attempt.user is not None:  # a wrong password is counted already
                attempt.refuse()
            raise AuthenticationFailed()
        if not member.tenant.is_active:
            raise TenantInactive()
        attempt.accept()
        if self.passwords.needs_rehash(member.user.password_hash):
            User.update(password_hash=self.passwords.hash(password)).where(
                User.id == member.user_id).execute()
        pair = self._issue(member, family_id=str(uuid.uuid4()))
        audit.record(member.tenant_id, member.user_id, "auth.login", "user", member.user_id,
                     username, ip, clock=self.clock)
        return pair

    @staticmethod
    def _login_user(username: str, tenant_ref: str) -> tuple[User | None, str | None]:
        """The user of that name and the id of the tenant named, from the global directory."""
        try:
            tenant = get_tenant(tenant_ref)
        except TenantNotFound:
            return None, None
        return User.get_or_none(User.username == username), tenant.id

    def _issue(self, member: TenantUser | Membership, family_id: str) -> TokenPair:
        access, claims = self.access_tokens.issue(member.user_id, member.tenant_id, member.role)
        refresh = secrets.token_urlsafe(32)
        now = self.clock()
        RefreshToken.create(tenant=member.tenant_id, user=member.user_id,
                            token_hash=_sha256(refresh), family_id=family_id,
                            access_jti=claims.jti, expires_at=now + self.refresh_ttl,
                            created_at=now)
        return TokenPair(access_token=access,
                         expires_in=int((claims.expires_at - claims.issued_at).total_seconds()),
                         refresh_token=refresh, tenant_id=member.tenant_id,
                         user_id=member.user_id, role=member.role)

    def refresh(self, refresh_token: str, ip: str | None = None) -> TokenPair:
        """Trade a refresh token for a new pair; reuse of a rotated one revokes its family."""
        enter_refresh_token_tenant(db, _sha256(refresh_token or ""))
        token = RefreshToken.get_or_none(RefreshToken.token_hash == _sha256(refresh_token or ""))
        if token is None or token.revoked_at is not None:
            raise TokenInvalid()
        now = self.clock()
        if token.expires_at <= now:
            raise TokenInvalid()
        # Conditional update: of two concurrent uses of one token only one may win.
        won = (RefreshToken.update(rotated_at=now)
               .where(RefreshToken.id == token.id, RefreshToken.rotated_at.is_null(),
                      RefreshToken.revoked_at.is_null()).execute())
        if not won:
            with db.atomic():  # the audit entry with the change it records
                self._revoke_family(token.family_id)
                audit.record(token.tenant_id, token.user_id, "auth.refresh_reuse", "user",
                             token.user_id, "reused refresh token: session revoked", ip,
                             clock=self.clock)
            logger.warning("refresh token reused; family %s revoked", token.family_id)
            raise TokenInvalid()
        member = self._live_member(token.user_id, token.tenant_id)
        if member is None:
            self._revoke_family(token.family_id)
            raise TokenInvalid()
        return self._issue(member, family_id=token.family_id)

    def logout(self, refresh_token: str, ip: str | None = None) -> None:
        """Revoke the session (refresh-token family) this token belongs to."""
        enter_refresh_token_tenant(db, _sha256(refresh_token or ""))
        token = RefreshToken.get_or_none(RefreshToken.token_hash == _sha256(refresh_token or ""))
        if token is None:
            raise TokenInvalid()
        with db.atomic():  # the audit entry with the change it records
            if self._revoke_family(token.family_id):
                audit.record(token.tenant_id, token.user_id, "auth.logout", "user",
                             token.user_id, "", ip, clock=self.clock)

    def logout_everywhere(self, refresh_token: str, ip: str | None = None) -> int:
        """Revoke every session of this token's user in its tenant; answer how many ended.

        The token must still be live: a revoked or expired one (a replayed, stolen cookie)
        may not end its owner's other sessions.
        """
        enter_refresh_token_tenant(db, _sha256(refresh_token or ""))
        token = RefreshToken.get_or_none(RefreshToken.token_hash == _sha256(refresh_token or ""))
        if token is None or token.revoked_at is not None or token.expires_at <= self.clock():
            raise TokenInvalid()
        families = {family for (family,) in RefreshToken.select(RefreshToken.family_id)
                    .where(RefreshToken.user == token.user_id,
                           RefreshToken.tenant == token.tenant_id,
                           RefreshToken.revoked_at.is_null()).distinct().tuples()}
        ended = sum(1 for family in sorted(families) if self._revoke_family(family))
        audit.record(token.tenant_id, token.user_id, "auth.logout_all", "user", token.user_id,
                     f"{ended} session(s) ended", ip, clock=self.clock)
        return ended

    def _revoke_family(self, family_id: str) -> int:
        now = self.clock()
        count = (RefreshToken.update(revoked_at=now)
                 .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_null())
                 .execute())
        self._revoke_access_tokens(family_id, now)
        return count

    def _revoke_access_tokens(self, family_id: str, now: dt.datetime) -> None:
        """List the session's unexpired access tokens as revoked; forget expired entries."""
        # An access token expires ttl after its iat, which is no later than its refresh
        # row's created_at, and verification allows the leeway past that.
        lifetime = self.access_tokens.ttl + self.access_tokens.leeway + dt.timedelta(seconds=1)
        live = (RefreshToken.select(RefreshToken.access_jti, RefreshToken.created_at)
                .where(RefreshToken.family_id == family_id,
                       RefreshToken.access_jti.is_null(False),
                       RefreshToken.created_at > now - lifetime).tuples())
        rows = [{"jti": jti, "expires_at": created_at + lifetime} for jti, created_at in live]
        # Pruned here: the list only grows by sign-outs, so it stays one token lifetime long.
        RevokedToken.delete().where(RevokedToken.expires_at < now).execute()
        if rows:
            RevokedToken.insert_many(rows).on_conflict_ignore().execute()

    @staticmethod
    def _live_member(user_id: str, tenant_id: str) -> Membership | None:
        row = _LIVE_MEMBER.first(user_id, tenant_id)
        return AuthService._check_member(None if row is None else _membership(row))

    @staticmethod
    def _check_member(member: Membership | None) -> Membership | None:
        """The member if it and its user are active; TenantInactive if its tenant is not."""
        if member is None or not (member.is_active and member.user_is_active):
            return None
        if not member.tenant.is_active:
            raise TenantInactive()
        return member

    def principal_for_access_token(self, token: str) -> Principal:
        """Who an access token speaks for, with the member's permissions as they are now."""
        return self.access_token_caller(token).principal

    def access_token_caller(self, token: str) -> Caller:
        """``principal_for_access_token`` with the principal's tenant."""
        claims = self.access_tokens.verify(token)
        set_tenant(db, claims.tenant_id)  # a signed claim; the membership is read inside it
        row = _LIVE_MEMBER_UNREVOKED.first(claims.jti, claims.user_id, claims.tenant_id)
        if row is None or row[-1] is not None:  # no such member, or signed out
            raise TokenInvalid()
        member = self._check_member(_membership(row[:-1]))
        if member is None:
            raise TokenInvalid()
        return Caller(Principal(user_id=member.user_id, tenant_id=member.tenant_id,
                                role=member.role,
                                permissions=effective_permissions(member.role, member.grants,
                                                                  member.revokes)),
                      member.tenant)

    # -- API tokens ----------------------------------------------------------------------

    def create_api_token(
        self,
        tenant_id: str,
        creator_id: str,
        name: str,
        permissions: Iterable[str],
        expires_at: dt.datetime | None = None,
        ip: str | None = None,
    ) -> tuple[ApiToken, str]:
        """A token for scripts and its secret (shown once); never more than the creator has."""
        creator = TenantService(tenant_id).get_user(creator_id)
        wanted = check_permissions(permissions)
        if not (name or "").strip():
            raise ValidationError({"name": ["Must not be empty."]})
        if expires_at is not None and expires_at <= self.clock():
            raise ValidationError({"expires_at": ["Must be in the future."]})
        held = effective_permissions(creator.role, creator.grants, creator.revokes)
        beyond = sorted(set(wanted) - held)
        if beyond:
            raise PermissionDenied("A token cannot have permissions its creator lacks.",
                                   details={"permissions": beyond})
        prefix = secrets.token_hex(6)
        secret = f"{API_TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        with db.atomic():
            token = ApiToken.create(tenant=tenant_id, user=creator.user_id, name=name.strip(),
                                    prefix=prefix, secret_hash=_sha256(secret),
                                    permissions=wanted, expires_at=expires_at,
                                    created_at=self.clock())
            audit.record(tenant_id, creator.user_id, "token.create", "api_token", token.id,
                         f"{token.name}: {' '.join(wanted)}", ip, clock=self.clock)
        return token, secret

    def list_api_tokens(self, tenant_id: str) -> list[ApiToken]:
        """This tenant's API tokens (revoked ones included), newest first."""
        return list(ApiToken.select().where(ApiToken.tenant == tenant_id)
                    .order_by(ApiToken.created_at.desc(), ApiToken.id))

    def get_api_token(self, tenant_id: str, token_id: str) -> ApiToken:
        """One of this tenant's API tokens, or ApiTokenNotFound."""
        token = ApiToken.get_or_none(ApiToken.id == str(token_id), ApiToken.tenant == tenant_id)
        if token is None:
            raise ApiTokenNotFound()
        return token

    def revoke_api_token(self, tenant_id: str, token_id: str, actor: str = "system",
                         ip: str | None = None) -> ApiToken:
        """Revoke one of this tenant's API tokens (again is harmless)."""
        token = self.get_api_token(tenant_id, token_id)
        if token.revoked_at is None:
            with db.atomic():  # the audit entry with the change it records
                token.revoked_at = self.clock()
                token.save(only=[ApiToken.revoked_at])
                audit.record(tenant_id, actor, "token.revoke", "api_token", token.id,
                             token.name, ip, clock=self.clock)
        return token

    def authenticate_api_token(self, secret: str) -> Principal:
        """Who an API token speaks for: its permissions, within its creator's current ones."""
        return self.api_token_caller(secret).principal

    def api_token_caller(self, secret: str) -> Caller:
        """``authenticate_api_token`` with the principal's tenant."""
        parts = (secret or "").removeprefix(API_TOKEN_PREFIX).split("_", 1)
        if not (secret or "").startswith(API_TOKEN_PREFIX) or len(parts) != 2:
            raise TokenInvalid()
        enter_api_token_tenant(db, parts[0], _sha256(secret))
        token = _api_token_row(parts[0])
        if token is None or not hmac.compare_digest(token.secret_hash, _sha256(secret)):
            raise TokenInvalid()
        now = self.clock()
        if token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
            raise TokenInvalid()
        member = self._check_member(token.member)
        if member is None:
            raise TokenInvalid()
        # At most one write a minute per token, not one per request, and not waiting for the
        # disk: the last use is worth no request's latency.
        last_used = token.last_used_at
        if last_used is None or now - last_used >= last_use_interval(token.prefix):
            with without_waiting_for_disk(db):
                ApiToken.update(last_used_at=now).where(ApiToken.id == token.id).execute()
        held = effective_permissions(member.role, member.grants, member.revokes)
        return Caller(Principal(user_id=member.user_id, tenant_id=member.tenant_id,
                                role=member.role,
                                permissions=frozenset(token.permissions) & held,
                                token_id=token.id),
                      member.tenant)
