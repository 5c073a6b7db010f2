"""Linking a device to a tenant: the three ways in, each ending in one new ``devices`` row.

- ``enroll_with_code``: the device sends a one-time pairing code an admin made.
- ``enroll_with_fleet_token``: the device sends a multi-use fleet token (capped, expiring).
- ``start_device_code`` / ``claim_device_code`` / ``poll_device_code``: the device asks for
  a code and shows it; an admin claims it in the cloud; the device polls until it is linked.

The hub (``cloud_sync/hub``) calls the device-side functions from requests that know no
tenant yet. On PostgreSQL the secret's hash finds its tenant through a SECURITY DEFINER
function (migration 0013) and the transaction then sets that tenant, so everything after it
reads and writes under that tenant's row-level policy. Each function is one transaction
(a savepoint inside a request's): a refusal writes nothing, and a code is used, a token's use
counted and the device made together or not at all.

One public key links one active device (migration 0017's unique index): a second link with
it is refused with DeviceKeyInUse (409), whichever tenant the first is in.

Races: a pairing or device code is taken by a conditional UPDATE (unused, unexpired), so two
devices sending the same code get one device between them; a fleet token's use is counted by
``UPDATE ... WHERE used_count < max_devices``, which PostgreSQL re-checks after the row lock,
so concurrent enrolments never pass the cap; the plan's ``max_devices`` is checked with the
tenant's row locked (``FOR UPDATE``), so concurrent links never pass it either. SQLite runs
one writing transaction at a time (``BEGIN IMMEDIATE``), which gives the same guarantees.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from peewee import IntegrityError

from anthias_edge.db import db, is_postgresql
from anthias_edge.errors import AnthiasError, ValidationError
from anthias_edge.models import Device, DeviceCode, FleetToken, PairingCode
from anthias_edge.models.fleet import ACTIVE
from anthias_edge.services import audit
from anthias_edge.services.billing.limits import check_device_limit, device_count
from anthias_edge.services.fleet.codes import (
    digest,
    is_fleet_token,
    new_code,
    new_poll_token,
    normalise_code,
)
from anthias_edge.services.fleet.errors import (
    DeviceCodeExpired,
    DeviceCodeInvalid,
    DeviceKeyInUse,
    FleetTokenInvalid,
    PairingCodeInvalid,
)
from anthias_edge.services.row_security import set_tenant
from anthias_edge.timeutil import utcnow

INTERVAL_S = 30  # the pull interval a newly linked device is told (and status is judged by)
CODE_LIFETIME = dt.timedelta(minutes=10)
MAX_NAME = 100
MAX_VERSION = 100
MAX_HARDWARE = 4000  # characters of JSON
MAX_CODE_TRIES = 5
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class DeviceCodeTicket:
    """What a device gets for its own code: the code to show, the secret to poll with."""

    code: str
    poll_token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class DeviceCodePoll:
    """A device code's state: ``pending`` (device None) or ``claimed`` (with the device)."""

    status: str
    device: Device | None = None


# -- checks of what a device sends ---------------------------------------------------------
def clean_public_key(value: Any) -> str:
    """The base64url (no padding) text of a raw 32-byte Ed25519 public key, or 400."""
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ValidationError({"public_key": ["Must be base64url of a 32-byte Ed25519 key."]})
    text = value.strip().rstrip("=")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32 or not all(c.isalnum() or c in "-_" for c in text):
        raise ValidationError({"public_key": ["Must be base64url of a 32-byte Ed25519 key."]})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def clean_name(value: Any, field: str = "name") -> str:
    """A device name: 1 to 100 characters of text, trimmed, no control characters."""
    if not isinstance(value, str):
        raise ValidationError({field: ["Must be text."]})
    name = value.strip()
    if not 1 <= len(name) <= MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValidationError({field: [f"1 to {MAX_NAME} characters, no control characters."]})
    return name


def _clean_version(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_VERSION or "\x00" in value:
        raise ValidationError({"software_version": [f"At most {MAX_VERSION} characters."]})
    return value.strip() or None


def _clean_hardware(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError({"hardware": ["Must be an object."]})
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError({"hardware": ["Must be plain JSON."]}) from exc
    if len(text) > MAX_HARDWARE or "\\u0000" in text:
        raise ValidationError({"hardware": [f"At most {MAX_HARDWARE} characters of JSON."]})
    return dict(value)


# -- the ways in ----------------------------------------------------------------------------
def enroll_with_code(code: Any, public_key: Any, name: Any, software_version: Any = None,
                     hardware: Any = None, *, clock: Clock = utcnow) -> Device:
    """Link a device with a pairing code; PairingCodeInvalid (404) for any unusable code.

    The name an admin gave the code wins over the one the device sends.
    """
    key, device_name = clean_public_key(public_key), clean_name(name)
    version, hardware = _clean_version(software_version), _clean_hardware(hardware)
    plain = normalise_code(code)
    if plain is None:
        raise PairingCodeInvalid()
    code_hash = digest(plain)
    with db.atomic():
        tenant_id = _enter_tenant("anthias_pairing_code_tenant", code_hash,
                                  lambda: PairingCode.select(PairingCode.tenant)
                                  .where(PairingCode.code_hash == code_hash).scalar())
        if tenant_id is None:
            raise PairingCodeInvalid()
        now = clock()
        taken = (PairingCode.update(used_at=now)
                 .where(PairingCode.code_hash == code_hash, PairingCode.used_at.is_null(),
                        PairingCode.expires_at > now).execute())
        if not taken:
            raise PairingCodeInvalid()
        row = PairingCode.get(PairingCode.code_hash == code_hash)
        device = _new_device(tenant_id, row.name or device_name, key, "code", now,
                             software_version=version, hardware=hardware)
        (PairingCode.update(device_id=device.device_id)
         .where(PairingCode.code_hash == code_hash).execute())
    return device


def enroll_with_fleet_token(token: Any, public_key: Any, name: Any, software_version: Any = None,
                            hardware: Any = None, *, clock: Clock = utcnow) -> Device:
    """Link a device with a fleet token; FleetTokenInvalid (403, ``details.reason``) if not."""
    key, device_name = clean_public_key(public_key), clean_name(name)
    version, hardware = _clean_version(software_version), _clean_hardware(hardware)
    if not is_fleet_token(token):
        raise FleetTokenInvalid("unknown")
    token_hash = digest(token)
    with db.atomic():
        tenant_id = _enter_tenant("anthias_fleet_token_tenant", token_hash,
                                  lambda: FleetToken.select(FleetToken.tenant)
                                  .where(FleetToken.token_hash == token_hash).scalar())
        if tenant_id is None:
            raise FleetTokenInvalid("unknown")
        now = clock()
        counted = (FleetToken.update(used_count=FleetToken.used_count + 1)
                   .where(FleetToken.token_hash == token_hash, FleetToken.revoked_at.is_null(),
                          FleetToken.expires_at > now,
                          FleetToken.used_count < FleetToken.max_devices).execute())
        row = FleetToken.get(FleetToken.token_hash == token_hash)
        if not counted:
            raise FleetTokenInvalid(_refusal(row, now))
        device = _new_device(tenant_id, device_name, key, "fleet_token", now,
                             software_version=version, hardware=hardware,
                             fleet_token_id=row.token_id)
    return device


def start_device_code(public_key: Any, name: Any, software_version: Any = None,
                      hardware: Any = None, *, clock: Clock = utcnow) -> DeviceCodeTicket:
    """A code for the device to show (10 minutes) and the poll token it polls with.

    Expired unclaimed codes are deleted on the way (a poll of one answers 410 either way).
    """
    key, device_name = clean_public_key(public_key), clean_name(name)
    version, hardware = _clean_version(software_version), _clean_hardware(hardware)
    now = clock()
    expires_at = now + CODE_LIFETIME
    with db.atomic():
        (DeviceCode.delete().where(DeviceCode.tenant.is_null(), DeviceCode.claimed_at.is_null(),
                                   DeviceCode.expires_at <= now).execute())
        for _ in range(MAX_CODE_TRIES):
            code, poll_token = new_code(), new_poll_token()
            try:
                with db.atomic():  # a savepoint: PostgreSQL survives the failed insert
                    DeviceCode.create(code_hash=digest(code), poll_token_hash=digest(poll_token),
                                      public_key=key, name=device_name,
                                      software_version=version, hardware=hardware,
                                      created_at=now, expires_at=expires_at)
                return DeviceCodeTicket(code, poll_token, expires_at)
            except IntegrityError:  # a code clash (one in 2^40 per live code): draw again
                continue
    raise AnthiasError("Could not make a unique device code.")


def poll_device_code(poll_token: Any, *, clock: Clock = utcnow) -> DeviceCodePoll:
    """``pending`` or ``claimed`` (with its device); DeviceCodeExpired (410) otherwise.

    A claimed code keeps answering ``claimed`` (an answer lost on the way can be asked for
    again); an unknown poll token is answered like an expired one.
    """
    if not isinstance(poll_token, str) or not 20 <= len(poll_token) <= 100:
        raise DeviceCodeExpired()
    token_hash = digest(poll_token)
    with db.atomic():
        for _look in range(2):
            tenant_id = _enter_tenant("anthias_device_code_tenant", token_hash,
                                      lambda: DeviceCode.select(DeviceCode.tenant)
                                      .where(DeviceCode.poll_token_hash == token_hash).scalar())
            row = DeviceCode.get_or_none(DeviceCode.poll_token_hash == token_hash)
            # Found, or it had a tenant already: done. Neither: an admin's claim may have
            # committed between the two statements (each sees the latest commit), giving the
            # row a tenant that row-level security hides until it is set. Look once more.
            if row is not None or tenant_id is not None:
                break
        if row is None:
            raise DeviceCodeExpired()
        if row.claimed_at is not None and tenant_id is not None and row.device_id:
            device = Device.get_or_none(Device.device_id == row.device_id)
            if device is not None:
                return DeviceCodePoll("claimed", device)
        if row.expires_at <= clock():
            raise DeviceCodeExpired()
        return DeviceCodePoll("pending")


def claim_device_code(tenant_id: str, code: Any, name: Any = None, actor: str | None = None, *,
                      ip: str | None = None, clock: Clock = utcnow) -> Device:
    """An admin of ``tenant_id`` links the device showing ``code``; DeviceCodeInvalid if none.

    ``name`` (optional) replaces the name the device asked for.
    """
    chosen = None if name is None else clean_name(name)
    plain = normalise_code(code)
    if plain is None:
        raise DeviceCodeInvalid()
    code_hash = digest(plain)
    with db.atomic():
        now = clock()
        taken = (DeviceCode.update(claimed_at=now, tenant=str(tenant_id))
                 .where(DeviceCode.code_hash == code_hash, DeviceCode.claimed_at.is_null(),
                        DeviceCode.tenant.is_null(), DeviceCode.expires_at > now).execute())
        if not taken:
            raise DeviceCodeInvalid()
        row = DeviceCode.get(DeviceCode.code_hash == code_hash)
        device = _new_device(str(tenant_id), chosen or row.name, row.public_key, "device_code",
                             now, software_version=row.software_version,
                             hardware=row.hardware, actor=actor, ip=ip)
        DeviceCode.update(device_id=device.device_id).where(
            DeviceCode.code_hash == code_hash).execute()
    return device


# -- helpers ----------------------------------------------------------------------------------
def _enter_tenant(function: str, secret_hash: str, local: Callable[[], Any]) -> str | None:
    """The tenant owning ``secret_hash`` (a cross-tenant lookup); made this transaction's.

    PostgreSQL asks migration 0013's SECURITY DEFINER function; SQLite (one database, no
    policies) reads the row itself.
    """
    if is_postgresql(db):
        tenant_id = db.execute_sql(f"SELECT {function}(%s)", (secret_hash,)).fetchone()[0]
        if tenant_id is not None:
            set_tenant(db, tenant_id)
        return tenant_id
    value = local()
    return None if value is None else str(value)


def _refusal(row: FleetToken, now: dt.datetime) -> str:
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    return "cap_reached"


def active_device_count(tenant_id: str) -> int:
    """How many of the tenant's devices are linked (revoked ones no longer count)."""
    return device_count(tenant_id)


def lock_tenant(tenant_id: str) -> None:
    """Hold the tenant's row until the transaction ends, so device counts stay true."""
    if is_postgresql(db):
        db.execute_sql('SELECT 1 FROM "tenants" WHERE "id" = %s FOR UPDATE', (str(tenant_id),))


def _new_device(tenant_id: str, name: str, public_key: str, linked_via: str, now: dt.datetime,
                *, software_version: str | None = None, hardware: Any = None,
                fleet_token_id: str | None = None, actor: str | None = None,
                ip: str | None = None) -> Device:
    lock_tenant(tenant_id)
    check_device_limit(tenant_id, active_device_count(tenant_id))
    try:
        device = Device.create(tenant=tenant_id, name=name, public_key=public_key,
                               status=ACTIVE, linked_via=linked_via,
                               fleet_token_id=fleet_token_id, created_at=now,
                               software_version=software_version, hardware=hardware)
    except IntegrityError as exc:
        # 0017's unique index: another active device, of any tenant, has this key. The
        # index sees rows row-level security hides, and it makes a concurrent second
        # insert wait for the first and then fail, so no look-up first could do better.
        if "public_key" not in str(exc):
            raise
        raise DeviceKeyInUse() from exc
    audit.record(tenant_id, actor or f"device:{device.device_id}", "device.link", "device",
                 device.device_id, f"{name} (linked by {linked_via.replace('_', ' ')})", ip,
                 clock=lambda: now)
    return device
