"""Row-level security in the cloud: the database itself keeps tenants apart (migration 0009).

Each test acts as the app does in a cloud request (role ``anthias_app``, the tenant set for
the transaction) and runs deliberately unfiltered queries: none may read, change or add a
row of another tenant. The suite connects as the superuser ``postgres``; the app's role
switch is what subjects it to the policies, as in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse, urlunparse

import pytest
from click.testing import CliRunner
from flask import Flask
from peewee import Database, PeeweeException

from anthias_edge.app import create_app
from anthias_edge.cli import main
from anthias_edge.errors import ValidationError
from anthias_edge.models import Asset
from anthias_edge.services.row_security import ConfinedTransaction, set_tenant
from anthias_edge.services.tenants import create_tenant
from tests.cloud.conftest import BASE_DOMAIN, SECRET_KEY, cloud_environ
from tests.cloud.pg import drop_database, fresh_database, query
from tests.helpers import basic

pytestmark = pytest.mark.postgres

DATABASE = "anthias_rls_test"  # apart from the other cloud modules' database
PASSWORD = "correct horse battery"
ALICE = basic("alice", PASSWORD)  # her Authorization header
TENANT_TABLES = ("assets", "tenant_users", "api_tokens", "refresh_tokens", "audit_log")
PAGE = {"name": "Page", "uri": "https://example.org/", "mimetype": "webpage", "duration": 10,
        "is_enabled": True, "skip_asset_check": True}


@pytest.fixture(scope="module")
def cloud_server_url() -> Iterator[str]:
    """This module's own database (overrides the package's shared one)."""
    yield fresh_database(DATABASE)
    drop_database(DATABASE)


def bearer(token: str) -> dict[str, str]:
    """A Bearer Authorization header."""
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def as_app(database: Database, tenant_id: str | None) -> Iterator[None]:
    """What a cloud request runs in: role ``anthias_app``, ``tenant_id`` set (or none)."""
    database.connect(reuse_if_open=True)
    transaction = ConfinedTransaction(database)
    transaction.__enter__()
    try:
        if tenant_id is not None:
            set_tenant(database, tenant_id)
        yield
    finally:
        transaction.__exit__(RuntimeError, None, None)  # roll back: tests leave no trace
        database.close()


def sql(database: Database, statement: str, params: tuple = ()) -> list[tuple]:
    """Rows of one statement on the current connection."""
    cursor = database.execute_sql(statement, params)
    return cursor.fetchall() if cursor.description else []


@pytest.fixture
def tenants(cloud_app: Flask, make_tenant) -> dict[str, str]:
    """Tenants acme and globex, each with an asset, an API token, a session and audit rows."""
    ids = {"acme": make_tenant("acme", "alice", PASSWORD),
           "globex": make_tenant("globex", "gina", PASSWORD)}
    client = cloud_app.test_client()
    for sub, owner in (("acme", "alice"), ("globex", "gina")):
        login = client.post("/api/v3/auth/token",
                            json={"username": owner, "password": PASSWORD, "tenant": sub})
        assert login.status_code == 200, login.get_json()
        headers = bearer(login.get_json()["access_token"])
        made = client.post("/api/v3/assets", json={**PAGE, "name": f"{sub} page"},
                           headers=headers)
        assert made.status_code == 201, made.get_json()
        token = client.post("/api/v3/tokens", headers=headers,
                            json={"name": "script", "permissions": ["assets.view"]})
        assert token.status_code == 201, token.get_json()
    return ids


def test_every_tenant_table_is_forced_under_a_policy_and_the_app_role_bypasses_nothing(
        cloud_app, cloud_url):
    tables = query(cloud_url, "SELECT relname, relrowsecurity, relforcerowsecurity "
                              "FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
                   (list(TENANT_TABLES),))
    role = query(cloud_url, "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles "
                            "WHERE rolname = 'anthias_app'")
    owned = query(cloud_url, "SELECT count(*) FROM pg_class c JOIN pg_roles r "
                             "ON r.oid = c.relowner WHERE r.rolname = 'anthias_app'")

    assert tables == [(name, True, True) for name in sorted(TENANT_TABLES)]
    assert role == [(False, False, False)]
    assert owned == [(0,)]


def test_unfiltered_reads_as_the_app_see_only_the_tenant_set(cloud_app, tenants):
    database = cloud_app.extensions["anthias"].database
    acme = tenants["acme"]

    with as_app(database, acme):
        models = [asset.name for asset in Asset.select()]
        raw = sql(database, "SELECT name, tenant_id FROM assets")
        seen = {table: {row[0] for row in sql(database, f"SELECT tenant_id FROM {table}")}
                for table in TENANT_TABLES}
        role = sql(database, "SELECT current_user")

    assert models == ["acme page"]
    assert raw == [("acme page", acme)]
    assert seen == {table: {acme} for table in TENANT_TABLES}
    assert role == [("anthias_app",)]


def test_unfiltered_updates_and_deletes_as_the_app_touch_only_the_tenant_set(
        cloud_app, cloud_url, tenants):
    database = cloud_app.extensions["anthias"].database
    acme, globex = tenants["acme"], tenants["globex"]

    database.connect(reuse_if_open=True)
    transaction = ConfinedTransaction(database)
    with transaction:  # committed: the other tenant's rows must survive for real
        set_tenant(database, acme)
        renamed = database.execute_sql("UPDATE assets SET name = 'mine now'").rowcount
        forgotten = database.execute_sql("DELETE FROM audit_log").rowcount
        revoked = database.execute_sql("DELETE FROM api_tokens").rowcount
    database.close()

    assert (renamed, revoked) == (1, 1) and forgotten >= 1
    assert query(cloud_url, "SELECT tenant_id, name FROM assets ORDER BY name") == [
        (globex, "globex page"), (acme, "mine now")]
    assert query(cloud_url, "SELECT DISTINCT tenant_id FROM audit_log") == [(globex,)]
    assert query(cloud_url, "SELECT tenant_id FROM api_tokens") == [(globex,)]


@pytest.mark.parametrize("statement", [
    "INSERT INTO assets (asset_id, name, tenant_id) VALUES ('stolen', 'x', %s)",
    "UPDATE assets SET tenant_id = %s",
    "INSERT INTO audit_log (tenant_id, actor, action, at) VALUES (%s, 'me', 'x', now())",
])
def test_a_row_for_another_tenant_is_refused(cloud_app, cloud_url, tenants, statement):
    database = cloud_app.extensions["anthias"].database

    with as_app(database, tenants["acme"]), pytest.raises(PeeweeException) as refused:
        database.execute_sql(statement, (tenants["globex"],))

    assert "row-level security" in str(refused.value)
    assert query(cloud_url, "SELECT count(*) FROM assets WHERE tenant_id = %s",
                 (tenants["globex"],)) == [(1,)]


def test_with_no_tenant_set_the_app_sees_nothing_and_writes_nothing(cloud_app, tenants):
    database = cloud_app.extensions["anthias"].database

    with as_app(database, None):
        counts = {table: sql(database, f"SELECT count(*) FROM {table}")[0][0]
                  for table in TENANT_TABLES}
        changed = database.execute_sql("UPDATE assets SET name = 'x'").rowcount
        with pytest.raises(PeeweeException):
            database.execute_sql("INSERT INTO assets (asset_id, tenant_id) VALUES ('a', %s)",
                                 (tenants["acme"],))

    assert counts == {table: 0 for table in TENANT_TABLES}
    assert changed == 0


@pytest.mark.parametrize("statement", [
    "ALTER TABLE assets DISABLE ROW LEVEL SECURITY",
    "ALTER TABLE assets NO FORCE ROW LEVEL SECURITY",
    "DROP POLICY anthias_tenant_isolation ON assets",
    "SELECT * FROM anthias_asset_owners(ARRAY['x'])",
])
def test_the_app_role_cannot_take_the_policies_away(cloud_app, tenants, statement):
    database = cloud_app.extensions["anthias"].database

    with as_app(database, tenants["acme"]), pytest.raises(PeeweeException) as refused:
        database.execute_sql(statement)

    assert "must be owner" in str(refused.value) or "permission denied" in str(refused.value)


def test_turning_row_security_off_as_the_app_fails_instead_of_showing_rows(cloud_app, tenants):
    database = cloud_app.extensions["anthias"].database

    with as_app(database, tenants["acme"]), pytest.raises(PeeweeException) as refused:
        database.execute_sql("SET LOCAL row_security = off")
        database.execute_sql("SELECT * FROM assets")

    assert "row-level security" in str(refused.value)


def test_a_pooled_connection_starts_each_request_with_no_tenant(cloud_app, tenants):
    """A request sets its tenant; the next user of the same pooled connection sees none."""
    runtime = cloud_app.extensions["anthias"]
    database = runtime.database
    client = cloud_app.test_client()
    login = client.post("/api/v3/auth/token",
                        json={"username": "alice", "password": PASSWORD, "tenant": "acme"})
    listed = client.get("/api/v3/assets", headers=bearer(login.get_json()["access_token"]))
    assert [a["name"] for a in listed.get_json()["items"]] == ["acme page"]

    database.connect(reuse_if_open=True)
    after = sql(database, "SELECT current_user, current_setting('anthias.tenant_id', true)")
    # Even a session-wide setting left behind by some bug is overridden by the next request.
    sql(database, "SELECT set_config('anthias.tenant_id', %s, false)", (tenants["acme"],))
    database.close()
    unauthenticated = client.get("/api/v3/assets")
    with as_app(database, None):
        fresh = sql(database, "SELECT count(*) FROM assets")

    assert after == [("postgres", "")]
    assert unauthenticated.status_code == 401
    assert fresh == [(0,)]


def test_the_whole_v3_flow_works_under_the_policies(cloud_app, tenants):
    """Login, API token, refresh, audit, users: each finds its rows inside its tenant."""
    client = cloud_app.test_client()
    login = client.post("/api/v3/auth/token",
                        json={"username": "alice", "password": PASSWORD, "tenant": "acme"})
    pair = login.get_json()
    headers = bearer(pair["access_token"])
    made = client.post("/api/v3/tokens", headers=headers,
                       json={"name": "ci", "permissions": ["assets.view"]})
    secret = made.get_json()["token"]
    listed = client.get("/api/v3/assets", headers=bearer(secret))
    refreshed = client.post("/api/v3/auth/refresh",
                            json={"refresh_token": pair["refresh_token"]})
    member = client.post("/api/v3/users", headers=headers,
                         json={"username": "carl", "password": PASSWORD, "role": "viewer"})
    removed = client.delete(f"/api/v3/users/{member.get_json()['id']}", headers=headers)
    audit = client.get("/api/v3/audit-log", headers=headers)
    logout = client.post("/api/v3/auth/logout",
                         json={"refresh_token": refreshed.get_json()["refresh_token"]})

    assert login.status_code == 200 and made.status_code == 201
    assert [a["name"] for a in listed.get_json()["items"]] == ["acme page"]
    assert refreshed.status_code == 200 and refreshed.get_json()["tenant_id"] == tenants["acme"]
    assert member.status_code == 201 and removed.status_code == 204
    actions = {entry["action"] for entry in audit.get_json()["items"]}
    assert {"auth.login", "token.create", "user.create", "user.delete"} <= actions
    assert logout.status_code == 204


def test_removing_a_member_keeps_a_user_another_tenant_still_has(cloud_app, cloud_url, tenants):
    """The orphan check counts every tenant's memberships, which the app cannot see."""
    acme, globex = tenants["acme"], tenants["globex"]
    client = cloud_app.test_client()
    owner = client.post("/api/v3/auth/token",
                        json={"username": "alice", "password": PASSWORD, "tenant": "acme"})
    headers = bearer(owner.get_json()["access_token"])
    made = client.post("/api/v3/users", headers=headers,
                       json={"username": "shared", "password": PASSWORD, "role": "viewer"})
    user_id = made.get_json()["id"]
    query(cloud_url, "INSERT INTO tenant_users (user_id, tenant_id, role, created_at) "
                     "VALUES (%s, %s, 'viewer', now()) RETURNING id", (user_id, globex))

    removed = client.delete(f"/api/v3/users/{user_id}", headers=headers)

    assert removed.status_code == 204
    assert query(cloud_url, "SELECT tenant_id FROM tenant_users WHERE user_id = %s",
                 (user_id,)) == [(globex,)]
    assert query(cloud_url, "SELECT count(*) FROM users WHERE id = %s", (user_id,)) == [(1,)]
    assert acme != globex


# -- the device's own tenant has no place in the cloud ------------------------------------


def test_a_cloud_database_has_no_device_tenant_and_local_names_no_tenant(
        cloud_app, cloud_url, tenants):
    client = cloud_app.test_client()
    login = client.post("/api/v3/auth/token",
                        json={"username": "alice", "password": PASSWORD, "tenant": "local"})
    on_local = client.get("/api/v2/assets", headers=ALICE,
                          base_url=f"http://local.{BASE_DOMAIN}")
    header = client.post("/api/v3/auth/token", headers={"X-Tenant-ID": "local"},
                         json={"username": "alice", "password": PASSWORD})

    assert query(cloud_url, "SELECT count(*) FROM tenants WHERE subdomain = 'local'") == [(0,)]
    assert login.status_code == 401
    assert on_local.status_code == 401
    assert header.status_code in (401, 403)
    with cloud_app.extensions["anthias"].database.connection_context(), \
            pytest.raises(ValidationError):
        create_tenant("Sneaky", "local", "sam", PASSWORD)


def test_a_device_tenant_holding_data_is_deactivated_at_cloud_start_and_unreachable(
        home, cloud_url, tenants, cloud_app):
    """A database a device once ran on: its tenant stays, but no credential reaches it."""
    query(cloud_url, "INSERT INTO tenants (id, name, subdomain, is_active, plan_type, "
                     "max_assets, max_devices, storage_quota_gb, created_at, updated_at) "
                     "VALUES ('dev', 'This device', 'local', true, 'device', 9999, 1, 1000, "
                     "now(), now()) RETURNING id")
    query(cloud_url, "INSERT INTO tenant_users (user_id, tenant_id, role, created_at) "
                     "SELECT id, 'dev', 'owner', now() FROM users WHERE username = 'alice' "
                     "RETURNING id")
    second = create_app(environ=cloud_environ(home, cloud_url, ANTHIAS_SECRET_KEY=SECRET_KEY))
    second.config["ANTHIAS_BASE_DOMAIN"] = BASE_DOMAIN
    try:
        client = second.test_client()
        by_id = client.post("/api/v3/auth/token",
                            json={"username": "alice", "password": PASSWORD, "tenant": "dev"})
        by_host = client.get("/api/v2/assets", headers=ALICE,
                             base_url=f"http://local.{BASE_DOMAIN}")
    finally:
        runtime = second.extensions["anthias"]
        runtime.messenger.close()
        runtime.close_database()

    assert query(cloud_url, "SELECT is_active FROM tenants WHERE id = 'dev'") == [(False,)]
    assert by_id.status_code == 401
    assert by_host.status_code == 401


def test_migrating_postgresql_removes_the_device_tenant_and_the_cli_cannot_make_it(
        home, cloud_url, cloud_app):
    env = {"HOME": str(home), "DATABASE_URL": cloud_url, "ANTHIAS_MODE": "cloud"}
    made = CliRunner().invoke(main, ["tenant", "create", "--name", "Local", "--subdomain",
                                     "local", "--owner-username", "lu", "--owner-password",
                                     PASSWORD], env=env)

    assert query(cloud_url, "SELECT count(*) FROM tenants") == [(0,)]
    assert made.exit_code == 1 and "reserved" in made.output


# -- a production-like owner: not a superuser, so the forced policies hold it too ----------

OWNER = "anthias_rls_owner"
OWNED_DATABASE = "anthias_rls_owned"


@pytest.fixture
def owner_url(cloud_server_url: str) -> Iterator[str]:
    """A database owned by a login role with CREATEROLE only, as a cloud operator sets up."""
    server = cloud_server_url.rsplit("/", 1)[0]
    admin = f"{server}/postgres"
    import psycopg  # only where PostgreSQL runs, as tests/cloud/pg.py does

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DO $$ BEGIN CREATE ROLE {OWNER} LOGIN CREATEROLE; "
                     "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
        conn.execute(f"DROP DATABASE IF EXISTS {OWNED_DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {OWNED_DATABASE} OWNER {OWNER}")
    parsed = urlparse(cloud_server_url)
    yield urlunparse(parsed._replace(netloc=f"{OWNER}@{parsed.hostname}:{parsed.port or 5432}",
                                     path=f"/{OWNED_DATABASE}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {OWNED_DATABASE} WITH (FORCE)")


def test_an_owner_that_is_not_a_superuser_migrates_serves_and_is_held_to_the_policies(
        home, owner_url):
    env = {"HOME": str(home), "DATABASE_URL": owner_url, "ANTHIAS_MODE": "cloud"}
    for sub, owner in (("acme", "alice"), ("globex", "gina")):
        made = CliRunner().invoke(main, ["tenant", "create", "--name", sub, "--subdomain", sub,
                                         "--owner-username", owner, "--owner-password",
                                         PASSWORD], env=env)
        assert made.exit_code == 0, made.output
    added = CliRunner().invoke(main, ["user", "create", "--tenant", "acme", "--username",
                                      "carl", "--password", PASSWORD, "--role", "editor"],
                               env=env)
    app = create_app(environ=cloud_environ(home, owner_url, ANTHIAS_SECRET_KEY=SECRET_KEY))
    app.config["ANTHIAS_BASE_DOMAIN"] = BASE_DOMAIN
    try:
        client = app.test_client()
        login = client.post("/api/v3/auth/token",
                            json={"username": "carl", "password": PASSWORD, "tenant": "acme"})
        made = client.post("/api/v3/assets", json=PAGE,
                           headers=bearer(login.get_json()["access_token"]))
        legacy = client.get("/api/v2/assets", headers=ALICE,
                            base_url=f"http://acme.{BASE_DOMAIN}")
    finally:
        runtime = app.extensions["anthias"]
        runtime.messenger.close()
        runtime.close_database()
    # The owner itself, with no tenant named, sees none of the rows it owns.
    as_owner = query(owner_url, "SELECT count(*) FROM tenant_users")
    lookup_members = query(owner_url, "SELECT pg_has_role(current_user, 'anthias_lookup', "
                                      "'MEMBER')")

    assert added.exit_code == 0, added.output
    assert login.status_code == 200, login.get_json()
    assert made.status_code == 201, made.get_json()
    assert [a["name"] for a in legacy.get_json()] == ["Page"]
    assert as_owner == [(0,)]
    assert lookup_members == [(False,)]
