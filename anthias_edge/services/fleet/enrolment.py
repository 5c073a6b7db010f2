"""What a tenant's admins make for devices to link with: pairing codes and fleet tokens.

A pairing code is 8 characters, lives 10 minutes and links one device; an unused one can be
revoked (deleted). A fleet token
(``aft_`` + 43 characters) links up to ``max_devices`` devices until ``expires_at``, from a
file on the device's SD card; it can be revoked. Either secret is answered once, at creation,
and only its sha256 is stored. Creating and revoking are audit-logged (never the secret).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from peewee import IntegrityError, fn

from anthias_edge.db import db
from anthias_edge.errors import AnthiasError, ValidationError
from anthias_edge.models import FleetToken, PairingCode
from anthias_edge.services import audit
from anthias_edge.services.fleet.codes import digest, new_code, new_fleet_token
from anthias_edge.services.fleet.errors import FleetTokenNotFound, PairingCodeNotFound
from anthias_edge.services.fleet.linking import CODE_LIFETIME, MAX_CODE_TRIES, clean_name
from anthias_edge.timeutil import utcnow

MAX_TOKEN_DEVICES = 10_000
MAX_TOKEN_LIFE = dt.timedelta(days=366)
MAX_TOKEN_NAME = 100
PREFIX_LENGTH = 8  # "aft_" and four characters: enough to tell a list's tokens apart
CODE_ID_LENGTH = 16  # a pairing code's id: the start of its hash (hex), never the code
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class NewPairingCode:
    """A pairing code just made: ``code`` is shown this once."""

    code: str
    row: PairingCode


@dataclass(frozen=True)
class NewFleetToken:
    """A fleet token just made: ``secret`` is shown this once."""

    secret: str
    row: FleetToken


@dataclass
class EnrolmentService:
    """Pairing codes and fleet tokens of one tenant (``tenant_id``)."""

    tenant_id: str
    actor: str | None = None
    ip: str | None = None
    clock: Callable[[], dt.datetime] = utcnow

    # -- pairing codes --------------------------------------------------------
    def create_pairing_code(self, name: str | None = None) -> NewPairingCode:
        """A one-time code (10 minutes); ``name`` (optional) names the device it links."""
        device_name = None if name is None else clean_name(name)
        now = self.clock()
        with db.atomic():
            # Codes that can no longer be used only clutter the list (and hold their hash).
            (PairingCode.delete().where(PairingCode.tenant == self.tenant_id,
                                        PairingCode.used_at.is_null(),
                                        PairingCode.expires_at <= now).execute())
            for _ in range(MAX_CODE_TRIES):
                code = new_code()
                try:
                    with db.atomic():  # a savepoint: PostgreSQL survives the failed insert
                        row = PairingCode.create(code_hash=digest(code), tenant=self.tenant_id,
                                                 created_by=self.actor, created_at=now,
                                                 expires_at=now + CODE_LIFETIME,
                                                 name=device_name)
                except IntegrityError:  # a clash with a live code: draw again
                    continue
                self._audit("pairing_code.create", "pairing_code", row.code_hash[:12],
                            device_name or "")
                return NewPairingCode(code, row)
        raise AnthiasError("Could not make a unique pairing code.")

    def pairing_codes(self, *, include_used: bool = False) -> list[PairingCode]:
        """The tenant's unexpired codes, newest first (used ones too when asked)."""
        query = PairingCode.select().where(PairingCode.tenant == self.tenant_id,
                                           PairingCode.expires_at > self.clock())
        if not include_used:
            query = query.where(PairingCode.used_at.is_null())
        return list(query.order_by(PairingCode.created_at.desc(), PairingCode.code_hash))

    def revoke_pairing_code(self, code_id: str) -> None:
        """Delete an unused code so no screen can link with it (``code_id``: the id v3 shows).

        A used code stays as the record of the link it made: PairingCodeNotFound, like a
        code that never was or another tenant's.
        """
        if (not isinstance(code_id, str) or len(code_id) != CODE_ID_LENGTH
                or not set(code_id) <= _HEX):
            raise PairingCodeNotFound()
        with db.atomic():
            row = (PairingCode.select()
                   .where(PairingCode.tenant == self.tenant_id,
                          fn.SUBSTR(PairingCode.code_hash, 1, CODE_ID_LENGTH) == code_id,
                          PairingCode.used_at.is_null())
                   .first())
            # A code a screen uses meanwhile is not deleted (the condition is checked again).
            if row is None or not (PairingCode.delete()
                                   .where(PairingCode.code_hash == row.code_hash,
                                          PairingCode.used_at.is_null()).execute()):
                raise PairingCodeNotFound()
            self._audit("pairing_code.revoke", "pairing_code", row.code_hash[:12],
                        row.name or "")

    # -- fleet tokens -----------------------------------------------------------
    def create_fleet_token(self, name: str, max_devices: int,
                           expires_at: dt.datetime) -> NewFleetToken:
        """A token for up to ``max_devices`` devices until ``expires_at`` (at most a year)."""
        errors: dict[str, list[str]] = {}
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_TOKEN_NAME:
            errors["name"] = [f"1 to {MAX_TOKEN_NAME} characters."]
        if (not isinstance(max_devices, int) or isinstance(max_devices, bool)
                or not 1 <= max_devices <= MAX_TOKEN_DEVICES):
            errors["max_devices"] = [f"A whole number from 1 to {MAX_TOKEN_DEVICES}."]
        now = self.clock()
        if not isinstance(expires_at, dt.datetime):
            errors["expires_at"] = ["Must be a date and time."]
        elif not now < expires_at <= now + MAX_TOKEN_LIFE:
            errors["expires_at"] = ["Must be in the future, at most a year ahead."]
        if errors:
            raise ValidationError(errors)
        secret = new_fleet_token()
        with db.atomic():
            row = FleetToken.create(tenant=self.tenant_id, name=name.strip(),
                                    token_hash=digest(secret), prefix=secret[:PREFIX_LENGTH],
                                    max_devices=max_devices, used_count=0,
                                    expires_at=expires_at, created_by=self.actor,
                                    created_at=now)
            self._audit("fleet_token.create", "fleet_token", row.token_id,
                        f"{row.name} (up to {max_devices} devices)")
        return NewFleetToken(secret, row)

    def fleet_tokens(self) -> list[FleetToken]:
        """The tenant's fleet tokens, newest first (revoked and expired ones too)."""
        return list(FleetToken.select().where(FleetToken.tenant == self.tenant_id)
                    .order_by(FleetToken.created_at.desc(), FleetToken.token_id))

    def fleet_token(self, token_id: str) -> FleetToken:
        """One of the tenant's tokens, or FleetTokenNotFound (another tenant's too)."""
        row = FleetToken.get_or_none(FleetToken.token_id == str(token_id),
                                     FleetToken.tenant == self.tenant_id)
        if row is None:
            raise FleetTokenNotFound()
        return row

    def revoke_fleet_token(self, token_id: str) -> FleetToken:
        """Stop a token from enrolling more devices (those it enrolled stay linked)."""
        row = self.fleet_token(token_id)
        if row.revoked_at is None:
            now = self.clock()
            with db.atomic():
                (FleetToken.update(revoked_at=now)
                 .where(FleetToken.token_id == row.token_id, FleetToken.revoked_at.is_null())
                 .execute())
                self._audit("fleet_token.revoke", "fleet_token", row.token_id, row.name)
            row.revoked_at = now
        return row

    def _audit(self, action: str, kind: str, object_id: str, summary: str) -> None:
        if self.actor is not None:
            audit.record(self.tenant_id, self.actor, action, kind, object_id, summary,
                         self.ip, clock=self.clock)


def pairing_code_id(row: PairingCode) -> str:
    """The id v3 shows for a pairing code: the start of its hash, which tells codes apart
    without saying the code."""
    return row.code_hash[:CODE_ID_LENGTH]


def token_state(row: FleetToken, now: dt.datetime) -> str:
    """``active``, ``revoked``, ``expired`` or ``used_up`` (its cap reached)."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    if row.used_count >= row.max_devices:
        return "used_up"
    return "active"
