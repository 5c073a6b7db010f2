"""Which tenant the database lets a transaction see: PostgreSQL row-level security (0009).

In the cloud, isolation does not rest on every query remembering ``WHERE tenant_id = ...``.
Each tenant-owned table (assets, tenant_users, api_tokens, refresh_tokens, audit_log) has a
policy that shows and accepts only rows whose ``tenant_id`` equals the transaction's setting
``anthias.tenant_id``; a forgotten filter returns nothing of another tenant, and a row of
another tenant cannot be written.

Who sets what:

- A cloud request runs as one transaction begun with ``SET LOCAL ROLE anthias_app`` (a role
  that owns no table and cannot bypass policies) and an empty tenant, in the same round trip
  (``CONFINED_BEGIN``). Both are transaction-local, so the pooled connection goes back with
  neither: the next request, whatever it is, starts from no tenant again.
- The tenant is set only from an authenticated caller: a verified access token's tenant
  claim (its membership is then read inside that tenant), an API token or refresh token whose
  secret's hash matched, a password verified against the user before the membership is read.
  A host name or ``X-Tenant-ID`` header only ever selects which tenant to check against.
- Before a tenant is known, the few questions that cross tenants are SECURITY DEFINER
  functions, each answering one thing (an API token's tenant given its prefix and secret
  hash, a refresh token's tenant, how many tenants a user belongs to). Tenant lookups by
  subdomain or custom domain, and users by name, need none: ``tenants`` and ``users`` are the
  directory every login starts from and carry no tenant's content.
- Commands an operator runs (``tenant create``, ``user create``, ``migrate-to-postgresql``)
  are not requests: they connect as the tables' owner, which FORCE ROW LEVEL SECURITY also
  holds to the policies, so they name their tenant with ``tenant_scope`` once it exists.
  ``migrate-to-postgresql``'s check that no asset id belongs to another tenant is the one
  operator-only function. There is no "see everything" switch.

On SQLite (a device, one tenant) every function here does nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import peewee
from peewee import Database, _transaction

from anthias_edge.db import is_postgresql

APP_ROLE = "anthias_app"
TENANT_SETTING = "anthias.tenant_id"
# One round trip: peewee would send BEGIN on its own, then the settings. The tenant is empty
# at a request's start, and known when ``commit_and_continue`` begins again (a UUID, checked).
_CONFINED_BEGIN_AS = (f"BEGIN; SELECT set_config('role', '{APP_ROLE}', true), "
                      f"set_config('{TENANT_SETTING}', '{{tenant}}', true)")
CONFINED_BEGIN = _CONFINED_BEGIN_AS.format(tenant="")
# A write request's commit waits for the disk again, even if a bookkeeping write in it
# (``db.without_waiting_for_disk``) turned that off for the rest of the transaction.
DURABLE_COMMIT = "SET LOCAL synchronous_commit TO DEFAULT; COMMIT"
_SET_TENANT = f"SELECT set_config('{TENANT_SETTING}', %s, true)"
_SET_API_TOKEN_TENANT = (f"SELECT set_config('{TENANT_SETTING}', "
                         "coalesce(anthias_api_token_tenant(%s, %s), ''), true)")
_SET_REFRESH_TOKEN_TENANT = (f"SELECT set_config('{TENANT_SETTING}', "
                             "coalesce(anthias_refresh_token_tenant(%s), ''), true)")


class ConfinedTransaction(_transaction):
    """peewee's outermost transaction, begun as ``anthias_app`` with no tenant.

    Nested ``db.atomic()`` blocks become savepoints inside it, as with any transaction.
    ``durable=False`` (reads) lets the commit skip the WAL flush when bookkeeping asked so.
    """

    def __init__(self, database: Database, durable: bool = True) -> None:
        super().__init__(database)
        self.durable = durable

    def _begin(self) -> None:
        self.db.cursor().execute(CONFINED_BEGIN)

    def commit(self, begin: bool = False) -> None:
        """Commit (one round trip either way); a confined transaction is never reopened."""
        if not self.durable:
            super().commit(False)
            return
        with peewee.__exception_wrapper__:
            self.db.cursor().execute(DURABLE_COMMIT)
        self.db._run_commit_callbacks()

    def commit_and_continue(self, tenant_id: str) -> None:
        """Commit the work done so far, then go on in a new confined transaction of
        ``tenant_id`` (the request's own tenant: it was authenticated for it).

        One round trip: the tenant id is written into the statement, which only a UUID (what
        every tenant id is) may be; any other goes as a parameter, one round trip more.
        """
        try:
            literal = str(uuid.UUID(str(tenant_id)))
        except ValueError:
            literal = None
        if literal is None:
            self.commit(begin=False)
            self._begin()
            set_tenant(self.db, tenant_id)
            return
        commit = DURABLE_COMMIT if self.durable else "COMMIT"
        with peewee.__exception_wrapper__:
            self.db.cursor().execute(f"{commit}; {_CONFINED_BEGIN_AS.format(tenant=literal)}")
        self.db._run_commit_callbacks()


def commit_request_write(database: Database, tenant_id: str | None) -> bool:
    """Commit a cloud request's transaction now, and go on with ``tenant_id`` in a new one.

    Called after every asset write. For one that took its tenant's lock
    (``tenant_writes.py``) the lock is released at commit, so it is not held while the request
    reads the row back, tells plugins and writes its answer. For all of them, plugins hear of
    a change only once it is committed (``plugins/events.py``), and a deleted asset's file is
    removed only after its row. Nothing happens (False) outside a cloud request's transaction
    or inside a caller's savepoint, whose work must stay one with what follows. A failed
    commit raises: the request is a 500, never a success whose write is lost.
    """
    top = database.top_transaction()
    if (not tenant_id or not isinstance(top, ConfinedTransaction)
            or database.transaction_depth() != 1):
        return False
    top.commit_and_continue(str(tenant_id))
    return True


def _applies(database: Database) -> bool:
    """Settings made with ``set_config(..., true)`` last only for an open transaction."""
    return is_postgresql(database) and database.in_transaction()


def set_tenant(database: Database, tenant_id: str) -> None:
    """Make ``tenant_id`` the tenant the rest of this transaction sees (PostgreSQL)."""
    if _applies(database):
        database.execute_sql(_SET_TENANT, (str(tenant_id),))


def enter_api_token_tenant(database: Database, prefix: str, secret_hash: str) -> None:
    """Set the tenant of the API token with this prefix and secret hash (none if no match)."""
    if _applies(database):
        database.execute_sql(_SET_API_TOKEN_TENANT, (prefix, secret_hash))


def enter_refresh_token_tenant(database: Database, token_hash: str) -> None:
    """Set the tenant of the refresh token with this hash (none if no match)."""
    if _applies(database):
        database.execute_sql(_SET_REFRESH_TOKEN_TENANT, (token_hash,))


def user_memberships(database: Database, user_id: str) -> int | None:
    """In how many tenants ``user_id`` is a member, all tenants counted; None off PostgreSQL."""
    if not is_postgresql(database):
        return None
    return int(database.execute_sql("SELECT anthias_user_memberships(%s)",
                                    (str(user_id),)).fetchone()[0])


def asset_owners(database: Database, asset_ids: list[str]) -> dict[str, str | None]:
    """asset_id -> tenant_id for those of ``asset_ids`` that exist (operator commands only)."""
    cursor = database.execute_sql("SELECT asset_id, tenant_id FROM anthias_asset_owners(%s)",
                                  (asset_ids,))
    return dict(cursor.fetchall())


@contextmanager
def tenant_scope(database: Database, tenant_id: str) -> Iterator[None]:
    """A transaction that sees ``tenant_id``'s rows: for work that is not a request."""
    with database.atomic():
        set_tenant(database, tenant_id)
        yield
