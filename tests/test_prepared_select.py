"""PreparedSelect: peewee's SQL rendered once per kind of database, rows as converted tuples."""

from __future__ import annotations

import pytest
from flask import Flask
from peewee import fn

from anthias_edge.models import Tenant, TenantUser, User
from anthias_edge.models.base import PreparedSelect
from anthias_edge.services.tenants import create_tenant

PASSWORD = "correct horse battery"


def member_query(user_id, tenant_id):
    return (TenantUser.select(TenantUser.id, TenantUser.role, TenantUser.permissions,
                              TenantUser.created_at, User.username, Tenant.subdomain)
            .join(User).switch(TenantUser).join(Tenant)
            .where(TenantUser.user == user_id, TenantUser.tenant == tenant_id).limit(1))


@pytest.fixture
def tenants(app: Flask):
    runtime = app.extensions["anthias"]
    with runtime.database.connection_context():
        acme, alice = create_tenant("Acme", "acme", "alice", PASSWORD)
        globex, bob = create_tenant("Globex", "globex", "bob", PASSWORD)
        yield runtime, (acme, alice), (globex, bob)


def test_it_answers_as_peewee_does_and_builds_the_query_once(tenants):
    # Each value converted by its field, as peewee converts it: JSON and datetimes included.
    _, (acme, alice), (globex, bob) = tenants
    builds = []

    def build(user_id, tenant_id):
        builds.append(1)
        return member_query(user_id, tenant_id)

    prepared = PreparedSelect(build)
    for user, tenant in ((alice, acme), (bob, globex), (alice, acme)):
        expected = member_query(user.id, tenant.id).tuples().first()
        got = prepared.first(user.id, tenant.id)
        assert got == expected
        assert got[1] == "owner" and got[2] == {"grant": [], "revoke": []}
        assert (got[4], got[5]) == (user.username, tenant.subdomain)
    assert prepared.first(alice.id, globex.id) is None  # alice is not a member of Globex
    assert len(builds) == 1


def test_a_placeholder_used_twice_or_not_at_all_is_refused(tenants):
    twice = PreparedSelect(lambda user_id: TenantUser.select(TenantUser.id).where(
        (TenantUser.user == user_id) | (TenantUser.tenant == user_id)))
    unused = PreparedSelect(lambda user_id: TenantUser.select(TenantUser.id).limit(1))

    for prepared in (twice, unused):
        with pytest.raises(ValueError, match="each placeholder must be one compared value"):
            prepared.first("someone")


def test_an_expression_in_the_select_list_is_refused(tenants):
    # A row's values are converted by their fields; an expression has none.
    counted = PreparedSelect(lambda user_id: TenantUser.select(fn.COUNT(TenantUser.id))
                             .where(TenantUser.user == user_id))
    with pytest.raises(ValueError, match="must list fields, not expressions"):
        counted.first("someone")
