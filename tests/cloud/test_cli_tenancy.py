"""``anthias-edge tenant create``, ``user create`` and ``keys``, on a device and in the cloud."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from anthias_edge.cli import main
from anthias_edge.services.auth import jwt_tokens
from anthias_edge.services.auth.jwt_tokens import KEY_CACHE_TTL
from tests.cloud.pg import query

PASSWORD = "correct horse battery"


def run(home: Path, *args: str, env: dict[str, str] | None = None):
    """Invoke the CLI with HOME (and no DATABASE_URL unless given)."""
    return CliRunner().invoke(main, list(args), env={"HOME": str(home), "DATABASE_URL": None,
                                                     **(env or {})})


@pytest.mark.sqlite_only
def test_user_create_on_a_device_adds_a_member_of_the_local_tenant(home):
    result = run(home, "user", "create", "--username", "Bob", "--password", PASSWORD,
                 "--role", "editor")

    assert result.exit_code == 0, result.output
    user_id = result.stdout.strip()
    with sqlite3.connect(home / ".screenly" / "screenly.db") as conn:
        rows = conn.execute(
            "SELECT u.username, m.role, t.subdomain FROM users u JOIN tenant_users m "
            "ON m.user_id = u.id JOIN tenants t ON t.id = m.tenant_id WHERE u.id = ?",
            (user_id,)).fetchall()
    conn.close()
    assert rows == [("bob", "editor", "local")]


@pytest.mark.sqlite_only
def test_tenant_create_on_a_device_prints_the_new_id_and_a_taken_name_is_one_error_line(home):
    first = run(home, "tenant", "create", "--name", "Acme", "--subdomain", "acme",
                "--owner-username", "alice", "--owner-password", PASSWORD)
    again = run(home, "tenant", "create", "--name", "Acme 2", "--subdomain", "acme",
                "--owner-username", "alice2", "--owner-password", PASSWORD)

    assert first.exit_code == 0, first.output
    with sqlite3.connect(home / ".screenly" / "screenly.db") as conn:
        assert conn.execute("SELECT subdomain FROM tenants WHERE id = ?",
                            (first.stdout.strip(),)).fetchall() == [("acme",)]
    conn.close()
    assert again.exit_code == 1
    assert again.stderr.strip() == "Error: That subdomain is taken."


@pytest.mark.sqlite_only
def test_a_weak_password_and_an_unknown_tenant_are_refused(home):
    weak = run(home, "user", "create", "--username", "bob", "--password", "short")
    unknown = run(home, "user", "create", "--tenant", "nowhere", "--username", "bob",
                  "--password", PASSWORD)

    assert weak.exit_code == 1 and "password" in weak.stderr
    assert unknown.exit_code == 1 and unknown.stderr.strip() == "Error: Tenant not found."


@pytest.mark.postgres
def test_tenant_and_user_create_in_the_cloud_write_to_postgresql(home, cloud_url):
    env = {"DATABASE_URL": cloud_url, "ANTHIAS_MODE": "cloud"}
    tenant = run(home, "tenant", "create", "--name", "Acme", "--subdomain", "acme",
                 "--owner-username", "alice", "--owner-password", PASSWORD, env=env)
    user = run(home, "user", "create", "--tenant", "acme", "--username", "carol",
               "--password", PASSWORD, "--role", "admin", env=env)

    assert tenant.exit_code == 0, tenant.output
    assert user.exit_code == 0, user.output
    tenant_id = tenant.stdout.strip()
    assert query(cloud_url,
                 "SELECT u.username, m.role FROM tenant_users m JOIN users u ON u.id = m.user_id "
                 "WHERE m.tenant_id = %s ORDER BY m.id", (tenant_id,)) == [
        ("alice", "owner"), ("carol", "admin")]
    assert not (home / ".screenly" / "screenly.db").exists()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.sqlite_only
def test_keys_rotate_logs_nobody_out_and_retire_ends_the_old_keys_tokens(
        home, make_app, monkeypatch):
    client = make_app().test_client()
    assert run(home, "user", "create", "--username", "ops", "--password", PASSWORD,
               "--role", "admin").exit_code == 0

    def sign_in() -> str:
        response = client.post("/api/v3/auth/token", json={
            "username": "ops", "password": PASSWORD, "tenant": "local"})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    first = sign_in()
    old_kid = jwt.get_unverified_header(first)["kid"]

    rotated = run(home, "keys", "rotate")

    assert rotated.exit_code == 0, rotated.output
    new_kid = rotated.stdout.strip()
    assert new_kid != old_kid
    assert client.get("/api/v3/assets", headers=_bearer(first)).status_code == 200
    second = sign_in()
    assert jwt.get_unverified_header(second)["kid"] == new_kid
    listing = run(home, "keys", "list")
    assert [(line.split()[0], line.split()[-1]) for line in listing.stdout.splitlines()] == [
        (new_kid, "signing"), (old_kid, "verifying")]

    retired = run(home, "keys", "retire", old_kid)

    assert retired.exit_code == 0 and retired.stdout.strip() == f"retired {old_kid}"
    # The server is another process: it trusts a key it has read for KEY_CACHE_TTL.
    later = time.monotonic() + KEY_CACHE_TTL.total_seconds()
    monkeypatch.setattr(jwt_tokens.time, "monotonic", lambda: later)
    assert client.get("/api/v3/assets", headers=_bearer(first)).status_code == 401
    assert client.get("/api/v3/assets", headers=_bearer(second)).status_code == 200
    again = run(home, "keys", "retire", old_kid)
    assert again.exit_code == 1
    assert again.stderr.strip() == f"Error: No active signing key '{old_kid}': see `keys list`."


@pytest.mark.sqlite_only
def test_keys_list_before_any_sign_in_says_there_is_none(home):
    result = run(home, "keys", "list")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No signing keys yet: the first sign-in creates one."


@pytest.mark.postgres
def test_keys_rotate_in_the_cloud_needs_the_configured_secret_key(home, cloud_url):
    env = {"DATABASE_URL": cloud_url, "ANTHIAS_MODE": "cloud", "ANTHIAS_SECRET_KEY": None,
           "ANTHIAS_SECRET_KEY_FILE": None}
    refused = run(home, "keys", "rotate", env=env)
    key = Fernet.generate_key().decode()
    rotated = run(home, "keys", "rotate", env={**env, "ANTHIAS_SECRET_KEY": key})

    assert refused.exit_code == 1 and "Cloud mode needs ANTHIAS_SECRET_KEY" in refused.stderr
    assert rotated.exit_code == 0, rotated.output
    assert query(cloud_url, "SELECT kid FROM signing_keys WHERE retired_at IS NULL") == [
        (rotated.stdout.strip(),)]
