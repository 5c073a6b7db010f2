"""tenants.py and audit.py: tenants, their users, isolation, and the audit log."""

import pytest

from anthias_edge.errors import (
    Conflict,
    PermissionDenied,
    TenantNotFound,
    UserNotFound,
    ValidationError,
)
from anthias_edge.models import Asset, AuditLog, TenantUser, User
from anthias_edge.permissions import Principal, effective_permissions
from anthias_edge.services import audit
from anthias_edge.services.tenants import (
    create_tenant,
    get_tenant,
    get_tenant_by_domain,
    get_tenant_by_subdomain,
    local_tenant_id,
)
from tests.services.conftest import PASSWORD


def _principal(member):
    return Principal(member.user_id, member.tenant_id, member.role,
                     effective_permissions(member.role, member.grants, member.revokes))


def test_create_tenant_makes_the_tenant_and_its_owner_with_an_argon2id_hash(tenancy):
    tenant = get_tenant_by_subdomain("ALPHA")
    owner = tenancy.tenant(tenancy.a).get_user(tenancy.owner_a)
    assert (tenant.id, tenant.name, tenant.plan_type) == (tenancy.a, "Alpha", "free")
    assert owner.role == "owner" and owner.user.username == "alice"
    assert owner.user.password_hash.startswith("$argon2id$")
    assert get_tenant(tenancy.a).subdomain == get_tenant("alpha").subdomain == "alpha"


def test_a_taken_subdomain_or_username_is_a_409_conflict(tenancy):
    with pytest.raises(Conflict) as caught:
        create_tenant("Again", "alpha", "carol", PASSWORD, passwords=tenancy.passwords)
    assert caught.value.status == 409
    with pytest.raises(Conflict):
        create_tenant("Gamma", "gamma", "alice", PASSWORD, passwords=tenancy.passwords)
    with pytest.raises(TenantNotFound):
        get_tenant_by_subdomain("gamma")


def test_bad_subdomains_and_short_passwords_are_validation_errors(tenancy):
    with pytest.raises(ValidationError) as caught:
        create_tenant("X", "-bad-", "carol", "short", passwords=tenancy.passwords)
    assert set(caught.value.field_errors) == {"subdomain", "password"}


def test_the_local_tenant_exists_and_is_found_by_its_subdomain(tenancy):
    local = get_tenant_by_subdomain("local")
    assert local_tenant_id() == local.id
    assert (local.plan_type, local.is_active) == ("device", True)


def test_a_custom_domain_names_its_tenant_and_must_be_unique(tenancy):
    tenancy.tenant(tenancy.a).update(custom_domain="Signs.Example.com")
    assert get_tenant_by_domain("signs.example.com").id == tenancy.a
    with pytest.raises(Conflict):
        tenancy.tenant(tenancy.b).update(custom_domain="signs.example.com")
    assert get_tenant(tenancy.b).custom_domain is None


def test_usage_counts_only_this_tenants_rows(tenancy):
    Asset.create(asset_id="a1", name="x", tenant=tenancy.a)
    Asset.create(asset_id="b1", name="y", tenant=tenancy.b)
    tenancy.tenant(tenancy.a).create_user("erin", PASSWORD, "editor")
    usage = tenancy.tenant(tenancy.a).usage()
    assert (usage.assets, usage.users, usage.api_tokens) == (1, 2, 0)


def test_set_plan_changes_limits_and_update_leaves_them(tenancy):
    service = tenancy.tenant(tenancy.a)
    service.set_plan(plan_type="pro", max_assets=500)
    tenant = service.update(name="Alpha Inc")
    assert (tenant.name, tenant.plan_type, tenant.max_assets) == ("Alpha Inc", "pro", 500)


def test_a_user_is_created_with_role_grants_and_revokes_then_updated(tenancy):
    service = tenancy.tenant(tenancy.a)
    member = service.create_user("Erin", PASSWORD, "editor", email="erin@example.org")
    member = service.update_user(member.user_id, role="viewer", grants=["assets.create"],
                                 revokes=["qr.view"])
    assert member.user.username == "erin" and member.user.email == "erin@example.org"
    assert (member.role, member.grants, member.revokes) == ("viewer", ["assets.create"],
                                                            ["qr.view"])
    assert [m.user.username for m in service.list_users()] == ["alice", "erin"]


def test_tenant_a_cannot_read_update_or_remove_tenant_bs_user(tenancy):
    service = tenancy.tenant(tenancy.a)
    for call in (lambda: service.get_user(tenancy.owner_b),
                 lambda: service.update_user(tenancy.owner_b, role="viewer"),
                 lambda: service.remove_user(tenancy.owner_b)):
        with pytest.raises(UserNotFound) as caught:
            call()
        assert caught.value.status == 404
    assert tenancy.tenant(tenancy.b).get_user(tenancy.owner_b).role == "owner"


def test_the_last_active_owner_cannot_be_demoted_deactivated_or_removed(tenancy):
    service = tenancy.tenant(tenancy.a)
    for call in (lambda: service.update_user(tenancy.owner_a, role="admin"),
                 lambda: service.update_user(tenancy.owner_a, is_active=False),
                 lambda: service.remove_user(tenancy.owner_a)):
        with pytest.raises(Conflict):
            call()
    second = service.create_user("olga", PASSWORD, "owner")
    assert service.update_user(tenancy.owner_a, role="admin").role == "admin"
    assert service.get_user(second.user_id).role == "owner"


def test_an_admin_cannot_make_an_owner_or_edit_one(tenancy):
    admin = tenancy.tenant(tenancy.a).create_user("ada", PASSWORD, "admin")
    as_admin = tenancy.tenant(tenancy.a, principal=_principal(admin))
    with pytest.raises(PermissionDenied):
        as_admin.create_user("mallory", PASSWORD, "owner")
    with pytest.raises(PermissionDenied):
        as_admin.update_user(admin.user_id, grants=["billing.manage"])
    with pytest.raises(PermissionDenied):
        as_admin.update_user(tenancy.owner_a, role="viewer")
    editor = as_admin.create_user("erin", PASSWORD, "editor")
    assert editor.role == "editor"
    assert AuditLog.get(AuditLog.action == "user.create", AuditLog.actor == admin.user_id)


def test_removing_a_user_ends_their_membership_and_their_orphaned_account(tenancy):
    service = tenancy.tenant(tenancy.a)
    member = service.create_user("erin", PASSWORD, "editor")
    service.remove_user(member.user_id)
    with pytest.raises(UserNotFound):
        service.get_user(member.user_id)
    assert User.get_or_none(User.id == member.user_id) is None
    assert TenantUser.select().where(TenantUser.tenant == tenancy.a).count() == 1


def test_audit_entries_page_newest_first_per_tenant(tenancy):
    for n in range(5):
        audit.record(tenancy.a, "tester", "thing.do", "thing", str(n), f"n={n}", "127.0.0.1")
    audit.record(tenancy.b, "tester", "thing.do", "thing", "b", "other tenant")
    first = audit.list_entries(tenancy.a, limit=3)
    second = audit.list_entries(tenancy.a, limit=3, cursor=first.next_cursor)
    ids = [e.object_id for e in first.items + second.items if e.action == "thing.do"]
    assert ids == ["4", "3", "2", "1", "0"]
    assert second.next_cursor is None
    assert all(e.tenant == tenancy.a for e in first.items + second.items)


def test_a_malformed_audit_cursor_or_limit_is_a_validation_error(tenancy):
    with pytest.raises(ValidationError):
        audit.list_entries(tenancy.a, cursor="abc")
    with pytest.raises(ValidationError):
        audit.list_entries(tenancy.a, limit=0)
