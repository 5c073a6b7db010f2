"""Who sent a signed request: the device, its key, its tenant (no Flask here).

``authenticate`` reads the token's device id, reads that device (on PostgreSQL first setting
the transaction's tenant to the device's, through 0013's SECURITY DEFINER
``anthias_device_tenant``: row-level security then shows only that tenant's rows for the rest
of the request), checks the signature and claims against the device's public key, refuses a
revoked device, and records the ``jti`` (a replay finds it already there). The jti is
recorded only after the signature is verified, so nobody can fill the replay store.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from peewee import Database

from anthias_edge.db import is_postgresql
from cloud_sync.protocol import (
    MAX_LIFETIME_S,
    SKEW_S,
    DeviceAuthInvalid,
    DeviceAuthReplayed,
    DeviceRevoked,
    UnverifiedToken,
    load_public_key,
    read_token,
    verify_token,
)

ACTIVE = "active"
KEY_CACHE_SIZE = 100_000

_PG_ENTER = ("SELECT set_config('anthias.tenant_id', "
             "coalesce(anthias_device_tenant(%s), ''), true)")
DEVICE_COLUMNS = ("d.device_id, d.tenant_id, d.public_key, d.status, d.command_version, "
                  "t.sync_version, d.last_seen_at, d.acked_seq")
_DEVICE = (f"SELECT {DEVICE_COLUMNS} FROM devices AS d JOIN tenants AS t "
           "ON t.id = d.tenant_id WHERE d.device_id = {p}")
_REMEMBER = ("INSERT INTO sync_nonces (device_id, jti, expires_at) VALUES ({p}, {p}, {p}) "
             "ON CONFLICT DO NOTHING")
_FORGET_EXPIRED = "DELETE FROM sync_nonces WHERE expires_at < {p}"


@dataclass(frozen=True)
class DeviceRow:
    """The device behind a signed request, with what its state's ETag is made of."""

    device_id: str
    tenant_id: str
    public_key: str
    status: str
    command_version: int
    sync_version: int
    last_seen_at: dt.datetime | None
    acked_seq: int

    @classmethod
    def from_row(cls, row: tuple) -> DeviceRow:
        """From the columns of ``DEVICE_COLUMNS``."""
        seen = row[6]
        if isinstance(seen, str):
            from anthias_edge.timeutil import parse_stored

            seen = parse_stored(seen)
        return cls(str(row[0]), str(row[1]), row[2], row[3], int(row[4] or 0),
                   int(row[5] or 0), seen, int(row[7] or 0))


class KeyCache:
    """Parsed public keys by their text: parsing is the costly part, the text is read anyway.

    Keyed by the key's text as read from the device row in this very request, so a device
    whose key or status changed is never verified against stale data.
    """

    def __init__(self, size: int = KEY_CACHE_SIZE) -> None:
        self._keys: dict[str, Ed25519PublicKey] = {}
        self._known: dict[str, tuple[str, str]] = {}
        self._size = size
        self._lock = threading.Lock()

    def known(self, device_id: str) -> tuple[str, str] | None:
        """(key text, tenant id) this worker last verified ``device_id`` with: a hint (see
        fast_path.py: whatever uses it checks it against the device row in the same query)."""
        return self._known.get(device_id)

    def remember(self, device: DeviceRow) -> None:
        """Note the key a device's request was verified with."""
        self.remember_key(device.device_id, device.public_key, device.tenant_id)

    def remember_key(self, device_id: str, key_text: str, tenant_id: str) -> None:
        """Note the key text (and tenant) a request of ``device_id`` was verified with."""
        known = (key_text, tenant_id)
        if self._known.get(device_id) == known:
            return
        with self._lock:
            if len(self._known) >= self._size:
                self._known.clear()
            self._known[device_id] = known

    def get(self, text: str) -> Ed25519PublicKey:
        """The key (DeviceAuthInvalid if the stored text is not one)."""
        key = self._keys.get(text)
        if key is None:
            try:
                key = load_public_key(text)
            except ValueError as exc:
                raise DeviceAuthInvalid("The device's stored key is not usable.") from exc
            with self._lock:
                if len(self._keys) >= self._size:
                    self._keys.clear()
                self._keys[text] = key
        return key


def sql(database: Database, template: str) -> str:
    """A statement with the database's parameter mark."""
    return template.replace("{p}", "%s" if is_postgresql(database) else "?")


def load_device(database: Database, device_id: str) -> DeviceRow | None:
    """The device (None if unknown); on PostgreSQL also enters the device's tenant."""
    if is_postgresql(database):
        database.execute_sql(_PG_ENTER, (device_id,))
    row = database.execute_sql(sql(database, _DEVICE), (device_id,)).fetchone()
    return None if row is None else DeviceRow.from_row(row)


def nonce_expiry(token: UnverifiedToken, now: float) -> dt.datetime:
    """Until when the jti must be kept: while the token could still be accepted."""
    until = min(token.exp, int(now) + MAX_LIFETIME_S) + SKEW_S
    return dt.datetime.fromtimestamp(until, dt.UTC).replace(tzinfo=None)


def remember_jti(database: Database, device_id: str, jti: str, expires_at: dt.datetime) -> bool:
    """Record the jti; False if it was already there (a replay)."""
    cursor = database.execute_sql(sql(database, _REMEMBER), (device_id, jti, expires_at))
    return cursor.rowcount == 1


def forget_expired(database: Database, now: dt.datetime) -> int:
    """Delete the jtis whose tokens can no longer be accepted; how many."""
    return database.execute_sql(sql(database, _FORGET_EXPIRED), (now,)).rowcount


def check_signed(token: UnverifiedToken, device: DeviceRow | None, keys: KeyCache, method: str,
                 path_with_query: str, body: bytes, now: float) -> DeviceRow:
    """Signature and claims of ``token`` against ``device``; revoked devices refused."""
    if device is None:
        raise DeviceAuthInvalid("No such device.")
    verify_token(token, keys.get(device.public_key), method, path_with_query, body, now)
    if device.status != ACTIVE:
        raise DeviceRevoked()
    keys.remember(device)
    return device


def authenticate(database: Database, authorization: str | None, method: str,
                 path_with_query: str, body: bytes, keys: KeyCache,
                 now: float) -> DeviceRow:
    """The device that signed this request, after every check; raises a 401 error otherwise."""
    token = read_token(authorization)
    device = check_signed(token, load_device(database, token.device_id), keys, method,
                          path_with_query, body, now)
    if not remember_jti(database, device.device_id, token.jti, nonce_expiry(token, now)):
        raise DeviceAuthReplayed()
    return device
