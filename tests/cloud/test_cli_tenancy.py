"""``anthias-edge tenant create`` and ``user create`` on a device (SQLite) and in the cloud."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from anthias_edge.cli import main
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
