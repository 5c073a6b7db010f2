"""Tenants and their users: create, find, update, count; every user query tenant-scoped.

``TenantService(tenant_id, ...)`` only ever sees its own tenant: another tenant's
user is ``UserNotFound``. With a ``principal`` it also refuses to hand out more
than the principal holds (an admin cannot make an owner, nor edit one).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from peewee import IntegrityError, fn

from anthias_edge.db import db
from anthias_edge.errors import (
    Conflict,
    PermissionDenied,
    TenantInactive,
    TenantNotFound,
    UserNotFound,
    ValidationError,
)
from anthias_edge.models import ApiToken, Asset, RefreshToken, Tenant, TenantUser, User
from anthias_edge.models.tenant import LOCAL_SUBDOMAIN
from anthias_edge.permissions import (
    Principal,
    check_permissions,
    check_role,
    effective_permissions,
)
from anthias_edge.services import audit, sync_version
from anthias_edge.services.auth.passwords import Passwords
from anthias_edge.services.row_security import set_tenant, tenant_scope, user_memberships
from anthias_edge.timeutil import utcnow

logger = logging.getLogger(__name__)

SUBDOMAIN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,149}$")
MIN_PASSWORD = 8
DEVICE_PLAN = "device"
# Changes to these reach linked devices (their cached limits): they bump sync_version.
LIMIT_CHANGES = frozenset({"plan_type", "max_assets", "max_devices", "storage_quota_gb",
                           "is_active"})


@dataclass(frozen=True)
class TenantUsage:
    """What a tenant uses now, to show beside its limits."""

    assets: int
    users: int
    api_tokens: int


def normalise_username(username: str) -> str:
    """Usernames compare case-insensitively; they are stored lower-cased."""
    return (username or "").strip().lower()


def _check_new_credentials(username: str, password: str,
                           errors: dict[str, list[str]] | None = None) -> str:
    username = normalise_username(username)
    errors = {} if errors is None else errors
    if not USERNAME.match(username):
        errors["username"] = ["Use letters, digits and . _ @ + - (at most 150)."]
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = [f"Must be at least {MIN_PASSWORD} characters."]
    if errors:
        raise ValidationError(errors)
    return username


def local_tenant_id() -> str:
    """The id of the device's own tenant (subdomain ``local``); made here if it is missing.

    Migration 0003 makes it on every database and 0009 takes it off PostgreSQL again (a cloud
    database has no device), so a device running on PostgreSQL makes it when first asked.
    Only device code asks: in the cloud ``Runtime.local_tenant_id`` refuses first.
    """
    tenant = Tenant.get_or_none(Tenant.subdomain == LOCAL_SUBDOMAIN)
    if tenant is not None:
        return tenant.id
    now = utcnow()
    try:
        with db.atomic():
            tenant = Tenant.create(name="This device", subdomain=LOCAL_SUBDOMAIN,
                                   plan_type=DEVICE_PLAN, max_assets=9999, max_devices=1,
                                   storage_quota_gb=1000, created_at=now, updated_at=now)
    except IntegrityError:  # another process made it first
        return get_tenant_by_subdomain(LOCAL_SUBDOMAIN).id
    return tenant.id


def retire_device_tenant() -> str | None:
    """Cloud start: remove the device's tenant, or deactivate it if something refers to it.

    Answers ``"removed"``, ``"deactivated"`` or None (there was none). Its rows are looked
    for inside its own tenant, as row-level security requires of this (owner) connection.
    """
    tenant = Tenant.get_or_none(Tenant.subdomain == LOCAL_SUBDOMAIN,
                                Tenant.plan_type == DEVICE_PLAN)
    if tenant is None:
        return None
    with tenant_scope(db, tenant.id):
        used = any(model.select().where(model.tenant == tenant.id).exists()
                   for model in (Asset, TenantUser, ApiToken, RefreshToken))
        if not used:
            tenant.delete_instance()  # its audit entries go with it (ON DELETE CASCADE)
            return "removed"
        Tenant.update(is_active=False).where(Tenant.id == tenant.id).execute()
    logger.warning("the device tenant 'local' holds data in this cloud database; it stays "
                   "deactivated and no login, token or host name reaches it")
    return "deactivated"


def get_tenant_by_id(tenant_id: str) -> Tenant:
    """The tenant with this id, or TenantNotFound."""
    tenant = Tenant.get_or_none(Tenant.id == str(tenant_id))
    if tenant is None:
        raise TenantNotFound()
    return tenant


def get_tenant_by_subdomain(subdomain: str) -> Tenant:
    """The tenant with this subdomain (any case), or TenantNotFound."""
    tenant = Tenant.get_or_none(Tenant.subdomain == (subdomain or "").strip().lower())
    if tenant is None:
        raise TenantNotFound()
    return tenant


def get_tenant_by_domain(domain: str) -> Tenant:
    """The tenant whose custom domain this is, or TenantNotFound."""
    tenant = Tenant.get_or_none(Tenant.custom_domain == (domain or "").strip().lower())
    if tenant is None:
        raise TenantNotFound()
    return tenant


def check_asset_limit(tenant_id: str, extra: int = 1) -> None:
    """Raise AssetLimitReached when ``extra`` more assets would pass the tenant's plan limit.

    Every create path calls this through AssetService, inside the tenant's write lock
    (services/tenant_writes.py), so concurrent creates cannot pass the limit together. The
    limit is the subscription's plan's when there is one (services/billing/limits.py).
    """
    from anthias_edge.services.billing.limits import check_asset_limit as check

    check(tenant_id, extra)


def get_tenant(ref: str) -> Tenant:
    """A tenant named by its id or its subdomain."""
    tenant = Tenant.get_or_none((Tenant.id == str(ref)) |
                                (Tenant.subdomain == (ref or "").strip().lower()))
    if tenant is None:
        raise TenantNotFound()
    return tenant


def create_tenant(
    name: str,
    subdomain: str,
    owner_username: str,
    owner_password: str,
    *,
    plan_type: str = "free",
    passwords: Passwords | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
) -> tuple[Tenant, User]:
    """A new tenant and its owner, in one transaction; Conflict if either name is taken."""
    subdomain = (subdomain or "").strip().lower()
    errors: dict[str, list[str]] = {}
    if not (name or "").strip():
        errors["name"] = ["Must not be empty."]
    if not SUBDOMAIN.match(subdomain):
        errors["subdomain"] = ["Use 1-63 lower-case letters, digits and inner hyphens."]
    elif subdomain == LOCAL_SUBDOMAIN:
        errors["subdomain"] = ["'local' is reserved for a device's own tenant."]
    username = _check_new_credentials(owner_username, owner_password, errors)
    password_hash = (passwords or Passwords()).hash(owner_password)
    now = clock()
    try:
        with db.atomic():
            if Tenant.select().where(Tenant.subdomain == subdomain).exists():
                raise Conflict("That subdomain is taken.", details={"field": "subdomain"})
            if User.select().where(User.username == username).exists():
                raise Conflict("That username is taken.", details={"field": "username"})
            tenant = Tenant.create(name=name.strip(), subdomain=subdomain, plan_type=plan_type,
                                   created_at=now, updated_at=now)
            set_tenant(db, tenant.id)  # its owner and audit entry are rows of the new tenant
            owner = User.create(username=username, password_hash=password_hash, created_at=now)
            TenantUser.create(user=owner, tenant=tenant, role="owner", created_at=now)
            audit.record(tenant.id, "system", "tenant.create", "tenant", tenant.id,
                         f"tenant {subdomain} with owner {username}", clock=clock)
    except IntegrityError as exc:
        raise Conflict("That subdomain or username is taken.") from exc
    logger.info("created tenant %s", subdomain)
    return tenant, owner


def check_custom_domain(domain: str, base_domain: str) -> None:
    """Refuse the base domain and any name under it as a tenant's custom domain.

    ``<sub>.<base>`` names a tenant by its subdomain (now or once someone registers it) and
    the bare base is the cloud's own; as a custom domain either would let one tenant claim a
    host that the cloud or another tenant answers on. Unique domains are the database's job.
    """
    base = (base_domain or "").strip().lower().strip(".")
    if base and (domain == base or domain.endswith("." + base)):
        raise ValidationError({"custom_domain": [
            f"Must not be {base} or a name under it: those hosts belong to the cloud and to "
            "its tenants' subdomains. Use a domain of your own."]})


class TenantService:
    """One tenant's settings, usage and users; nothing outside this tenant is visible."""

    def __init__(
        self,
        tenant_id: str,
        *,
        principal: Principal | None = None,
        ip: str | None = None,
        passwords: Passwords | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        """``principal`` None means the system itself (CLI, migrations): no ceiling."""
        self.tenant_id = str(tenant_id)
        self.principal = principal
        self.ip = ip
        self.passwords = passwords or Passwords()
        self.clock = clock

    @property
    def actor(self) -> str:
        """Who the audit log names for this service's changes."""
        return self.principal.actor if self.principal else "system"

    def _audit(self, action: str, object_type: str, object_id: str, summary: str) -> None:
        audit.record(self.tenant_id, self.actor, action, object_type, object_id, summary,
                     self.ip, clock=self.clock)

    # -- the tenant -------------------------------------------------------------------

    def tenant(self) -> Tenant:
        """This service's tenant."""
        return get_tenant_by_id(self.tenant_id)

    def active_tenant(self) -> Tenant:
        """This service's tenant, or TenantInactive."""
        tenant = self.tenant()
        if not tenant.is_active:
            raise TenantInactive()
        return tenant

    def update(self, *, name: str | None = None, custom_domain: str | None = "",
               base_domain: str = "") -> Tenant:
        """Change what a tenant admin may change: its name and custom domain.

        ``custom_domain=""`` (the default) leaves it; ``None`` removes it. A domain that is
        ``base_domain`` or under it is refused: those hosts are the cloud's and its tenants'.
        """
        tenant = self.tenant()
        changes = []
        if name is not None:
            if not name.strip():
                raise ValidationError({"name": ["Must not be empty."]})
            tenant.name = name.strip()
            changes.append("name")
        if custom_domain != "":
            tenant.custom_domain = (custom_domain or "").strip().lower() or None
            if tenant.custom_domain:
                check_custom_domain(tenant.custom_domain, base_domain)
            changes.append("custom_domain")
        return self._save_tenant(tenant, changes)

    def set_plan(self, *, plan_type: str | None = None, max_assets: int | None = None,
                 max_devices: int | None = None, storage_quota_gb: int | None = None,
                 is_active: bool | None = None) -> Tenant:
        """Change plan, limits or activity: for billing and operators, not tenant admins."""
        tenant = self.tenant()
        values = {"plan_type": plan_type, "max_assets": max_assets, "max_devices": max_devices,
                  "storage_quota_gb": storage_quota_gb, "is_active": is_active}
        changes = [key for key, value in values.items() if value is not None]
        for key in changes:
            if key.startswith(("max_", "storage")) and values[key] < 0:
                raise ValidationError({key: ["Must not be negative."]})
            setattr(tenant, key, values[key])
        return self._save_tenant(tenant, changes)

    def _save_tenant(self, tenant: Tenant, changes: list[str]) -> Tenant:
        if not changes:
            return tenant
        tenant.updated_at = self.clock()
        # Never write sync_version back: a bump made since this row was read would be lost.
        columns = [f for f in Tenant._meta.sorted_fields
                   if f is not Tenant.id and f is not Tenant.sync_version]
        try:
            with db.atomic():
                tenant.save(only=columns)
                if set(changes) & LIMIT_CHANGES:
                    sync_version.bump(tenant.id)  # devices cache the limits
                self._audit("tenant.update", "tenant", tenant.id, ", ".join(changes))
        except IntegrityError as exc:
            raise Conflict("That domain belongs to another tenant.",
                           details={"field": "custom_domain"}) from exc
        return tenant

    def usage(self) -> TenantUsage:
        """Current counts of assets, users and live API tokens."""
        return TenantUsage(
            assets=Asset.select().where(Asset.tenant == self.tenant_id).count(),
            users=TenantUser.select().where(TenantUser.tenant == self.tenant_id).count(),
            api_tokens=ApiToken.select().where(ApiToken.tenant == self.tenant_id,
                                               ApiToken.revoked_at.is_null()).count(),
        )

    # -- users ------------------------------------------------------------------------

    def list_users(self) -> list[TenantUser]:
        """Every membership of this tenant with its user, oldest first."""
        return list(TenantUser.in_tenant(self.tenant_id))

    def get_user(self, user_id: str) -> TenantUser:
        """The membership of ``user_id`` in this tenant, or UserNotFound."""
        member = TenantUser.in_tenant(self.tenant_id).where(User.id == str(user_id)).first()
        if member is None:
            raise UserNotFound()
        return member

    def _check_ceiling(self, permissions: Iterable[str], what: str) -> None:
        if self.principal is None:
            return
        beyond = sorted(set(permissions) - self.principal.permissions)
        if beyond:
            raise PermissionDenied(f"You cannot {what} with permissions you do not hold.",
                                   details={"permissions": beyond})

    def create_user(self, username: str, password: str, role: str, email: str = "") -> TenantUser:
        """A new user who is a member of this tenant only; Conflict if the name is taken."""
        check_role(role)
        username = _check_new_credentials(username, password)
        self._check_ceiling(effective_permissions(role), "create a user")
        password_hash = self.passwords.hash(password)
        self.tenant()
        try:
            with db.atomic():
                if User.select().where(User.username == username).exists():
                    raise Conflict("That username is taken.", details={"field": "username"})
                now = self.clock()
                user = User.create(username=username, email=(email or "").strip(),
                                   password_hash=password_hash, created_at=now)
                TenantUser.create(user=user, tenant=self.tenant_id, role=role, created_at=now)
                self._audit("user.create", "user", user.id, f"{username} as {role}")
        except IntegrityError as exc:
            raise Conflict("That username is taken.", details={"field": "username"}) from exc
        return self.get_user(user.id)

    def update_user(
        self,
        user_id: str,
        *,
        role: str | None = None,
        grants: Iterable[str] | None = None,
        revokes: Iterable[str] | None = None,
        is_active: bool | None = None,
        email: str | None = None,
    ) -> TenantUser:
        """Change a member's role, grants, revokes, activity or email in this tenant."""
        member = self.get_user(user_id)
        before = effective_permissions(member.role, member.grants, member.revokes)
        self._check_ceiling(before, "change a user")
        new_role = check_role(role) if role is not None else member.role
        new_grants = check_permissions(grants, "grants") if grants is not None else member.grants
        new_revokes = (check_permissions(revokes, "revokes") if revokes is not None
                       else member.revokes)
        self._check_ceiling(effective_permissions(new_role, new_grants, new_revokes),
                            "give a user")
        changes = []
        with db.atomic():
            if (member.role == "owner" and member.is_active
                    and (new_role != "owner" or is_active is False)):
                self._keep_an_owner(member)
            if role is not None and role != member.role:
                changes.append(f"role {member.role} -> {role}")
            member.role = new_role
            if grants is not None or revokes is not None:
                changes.append(f"grant {new_grants} revoke {new_revokes}")
            member.permissions = {"grant": new_grants, "revoke": new_revokes}
            if is_active is not None:
                member.is_active = bool(is_active)
                changes.append(f"active {bool(is_active)}")
            member.save()
            if email is not None:
                User.update(email=email.strip()).where(User.id == member.user_id).execute()
                changes.append("email")
            if is_active is False:
                self._end_sessions(member.user_id)
            self._audit("user.update", "user", member.user_id, "; ".join(changes))
        return self.get_user(user_id)

    def remove_user(self, user_id: str) -> None:
        """End a membership and the user's sessions and tokens here; delete an orphaned user."""
        member = self.get_user(user_id)
        self._check_ceiling(effective_permissions(member.role, member.grants, member.revokes),
                            "remove a user")
        with db.atomic():
            if member.role == "owner" and member.is_active:
                self._keep_an_owner(member)
            self._end_sessions(member.user_id)
            ApiToken.delete().where(ApiToken.tenant == self.tenant_id,
                                    ApiToken.user == member.user_id).execute()
            member.delete_instance()
            # Counted across tenants: deleting a user another tenant still has would cascade
            # into that tenant's rows, which this tenant's transaction cannot see.
            elsewhere = user_memberships(db, member.user_id)
            if elsewhere is None:
                elsewhere = TenantUser.select().where(TenantUser.user == member.user_id).count()
            if not elsewhere:
                User.delete().where(User.id == member.user_id).execute()
            self._audit("user.delete", "user", member.user_id, member.user.username)

    def _keep_an_owner(self, member: TenantUser) -> None:
        others = (TenantUser.select(fn.COUNT(TenantUser.id))
                  .where(TenantUser.tenant == self.tenant_id, TenantUser.role == "owner",
                         TenantUser.is_active == True,  # noqa: E712 (peewee expression)
                         TenantUser.id != member.id).scalar())
        if not others:
            raise Conflict("A tenant must keep at least one active owner.")

    def _end_sessions(self, user_id: str) -> None:
        now = self.clock()
        RefreshToken.update(revoked_at=now).where(
            RefreshToken.tenant == self.tenant_id, RefreshToken.user == user_id,
            RefreshToken.revoked_at.is_null()).execute()
