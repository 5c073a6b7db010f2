"""services/auth/tokens.py: logins, throttling, refresh rotation, logout and API tokens."""

import datetime as dt

import pytest
from playhouse.test_utils import count_queries

from anthias_edge.errors import (
    ApiTokenNotFound,
    AuthenticationFailed,
    PermissionDenied,
    TenantInactive,
    TokenInvalid,
    TooManyAttempts,
    UserNotFound,
)
from anthias_edge.models import ApiToken, AuditLog, RefreshToken, TenantUser, User
from anthias_edge.services.auth.passwords import Passwords
from anthias_edge.services.auth.tokens import LAST_USED_GRANULARITY, last_use_interval
from tests.services.conftest import PASSWORD


def test_login_by_subdomain_returns_a_pair_for_the_member(tenancy):
    pair = tenancy.auth.authenticate("alice", PASSWORD, "alpha", "10.0.0.1")
    principal = tenancy.auth.principal_for_access_token(pair.access_token)
    assert (pair.tenant_id, pair.role, pair.expires_in) == (tenancy.a, "owner", 900)
    assert principal.user_id == tenancy.owner_a and principal.tenant_id == tenancy.a
    assert "tenant.delete" in principal.permissions
    assert AuditLog.get(AuditLog.action == "auth.login").ip == "10.0.0.1"


def test_login_by_tenant_id_and_any_username_case_works(tenancy):
    pair = tenancy.auth.authenticate("ALICE", PASSWORD, tenancy.a)
    assert pair.user_id == tenancy.owner_a


@pytest.mark.parametrize(("username", "password", "tenant"), [
    ("alice", "wrong password", "alpha"),   # wrong password
    ("nobody", PASSWORD, "alpha"),          # unknown user
    ("alice", PASSWORD, "beta"),            # not a member of that tenant
    ("alice", PASSWORD, "no-such-tenant"),  # unknown tenant
])
def test_every_kind_of_wrong_login_gets_the_same_401(tenancy, username, password, tenant):
    with pytest.raises(AuthenticationFailed) as caught:
        tenancy.auth.authenticate(username, password, tenant)
    assert (caught.value.status, caught.value.message) == (
        401, AuthenticationFailed.default_message)


def test_refresh_tokens_are_stored_only_as_hashes(tenancy):
    pair = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    row = RefreshToken.get()
    assert pair.refresh_token not in (row.token_hash, row.id)
    assert len(row.token_hash) == 64


def test_a_login_with_weaker_hash_parameters_rehashes_the_password(tenancy):
    tenancy.auth.passwords = Passwords(time_cost=2, memory_cost=16, parallelism=1)
    tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    assert "$m=16,t=2,p=1$" in User.get_by_id(tenancy.owner_a).password_hash


ATTACKER = "203.0.113.5"
OWNER_AT_HOME = "198.51.100.7"


def _fail(tenancy, ip, username="alice", times=1):
    for _ in range(times):
        with pytest.raises(AuthenticationFailed):
            tenancy.auth.authenticate(username, "wrong", "alpha", ip)


def _retry_after(tenancy, ip, username="alice", password=PASSWORD):
    with pytest.raises(TooManyAttempts) as caught:
        tenancy.auth.authenticate(username, password, "alpha", ip)
    assert caught.value.status == 429
    return caught.value.retry_after


def test_five_bad_passwords_do_not_lock_the_user_out_of_a_clean_address(tenancy):
    _fail(tenancy, ATTACKER, times=5)
    assert tenancy.auth.authenticate("alice", PASSWORD, "alpha", OWNER_AT_HOME).role == "owner"


def test_the_failing_address_waits_even_with_the_right_password_and_its_waits_double(tenancy):
    _fail(tenancy, ATTACKER, times=5)
    assert _retry_after(tenancy, ATTACKER) == 1  # the right password is not even checked
    waits = []
    for _ in range(4):
        tenancy.clock.advance(seconds=waits[-1] if waits else 1)
        _fail(tenancy, ATTACKER)
        waits.append(_retry_after(tenancy, ATTACKER, password="wrong"))
    assert waits == [2, 4, 8, 16]
    tenancy.clock.advance(seconds=16)
    assert tenancy.auth.authenticate("alice", PASSWORD, "alpha", ATTACKER).role == "owner"


def test_the_delay_stops_growing_at_fifteen_minutes(tenancy):
    _fail(tenancy, ATTACKER, times=5)
    for _ in range(15):
        tenancy.clock.advance(seconds=_retry_after(tenancy, ATTACKER, password="wrong"))
        _fail(tenancy, ATTACKER)
    assert _retry_after(tenancy, ATTACKER) == 15 * 60


def test_an_attack_from_many_addresses_slows_those_addresses_but_not_a_clean_one(tenancy):
    for n in range(12):  # one guess each: no address reaches its own limit
        _fail(tenancy, f"203.0.113.{n}")
    assert _retry_after(tenancy, "203.0.113.0", password="wrong") == 4  # 2 ** (12 - 10)
    assert tenancy.auth.authenticate("alice", PASSWORD, "alpha", OWNER_AT_HOME).role == "owner"


def test_failures_from_one_address_for_many_users_do_not_block_another_user_there(tenancy):
    for n in range(20):
        _fail(tenancy, "192.0.2.7", username=f"guess{n}")
    assert tenancy.auth.authenticate("bob", PASSWORD, "beta", "192.0.2.7").role == "owner"


def test_unknown_usernames_are_throttled_like_real_ones(tenancy):
    _fail(tenancy, ATTACKER, username="ghost", times=5)
    assert _retry_after(tenancy, ATTACKER, username="ghost", password="wrong") == 1


def test_one_ipv6_network_counts_as_one_address(tenancy):
    for n in range(5):
        _fail(tenancy, f"2001:db8:1:2::{n + 1}")
    assert _retry_after(tenancy, "2001:db8:1:2:ffff::9") == 1
    assert tenancy.auth.authenticate("alice", PASSWORD, "alpha", "2001:db8:1:3::1").role == "owner"


def test_a_successful_login_clears_that_addresses_failures(tenancy):
    _fail(tenancy, ATTACKER, times=4)
    tenancy.auth.authenticate("alice", PASSWORD, "alpha", ATTACKER)
    _fail(tenancy, ATTACKER, times=4)
    assert tenancy.auth.authenticate("alice", PASSWORD, "alpha", ATTACKER).role == "owner"


def test_failures_are_forgotten_after_a_quiet_day(tenancy):
    _fail(tenancy, ATTACKER, times=5)
    tenancy.clock.advance(hours=24, seconds=1)
    _fail(tenancy, ATTACKER, times=4)  # counted afresh: no wait before the fifth
    assert tenancy.auth.authenticate("alice", PASSWORD, "alpha", ATTACKER).role == "owner"


def test_a_huge_username_is_counted_without_a_database_error(tenancy):
    huge = "x" * 50_000
    _fail(tenancy, ATTACKER, username=huge, times=5)
    assert _retry_after(tenancy, ATTACKER, username=huge, password="wrong") == 1


def test_an_inactive_tenant_is_refused_after_the_password_checks(tenancy):
    tenancy.tenant(tenancy.a).set_plan(is_active=False)
    with pytest.raises(TenantInactive):
        tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    with pytest.raises(AuthenticationFailed):
        tenancy.auth.authenticate("alice", "wrong", "alpha")


def test_refresh_rotates_the_pair(tenancy):
    first = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    second = tenancy.auth.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert tenancy.auth.principal_for_access_token(second.access_token).role == "owner"
    assert tenancy.auth.refresh(second.refresh_token).tenant_id == tenancy.a


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(tenancy):
    first = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    second = tenancy.auth.refresh(first.refresh_token)
    other_session = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    with pytest.raises(TokenInvalid):
        tenancy.auth.refresh(first.refresh_token)
    with pytest.raises(TokenInvalid):
        tenancy.auth.refresh(second.refresh_token)
    assert tenancy.auth.refresh(other_session.refresh_token).role == "owner"
    assert AuditLog.select().where(AuditLog.action == "auth.refresh_reuse").count() == 1


def test_an_expired_refresh_token_is_invalid(tenancy):
    pair = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    tenancy.clock.advance(days=31)
    with pytest.raises(TokenInvalid):
        tenancy.auth.refresh(pair.refresh_token)


def test_logout_revokes_the_session_and_is_repeatable(tenancy):
    pair = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    tenancy.auth.logout(pair.refresh_token)
    tenancy.auth.logout(pair.refresh_token)
    with pytest.raises(TokenInvalid):
        tenancy.auth.refresh(pair.refresh_token)
    with pytest.raises(TokenInvalid):
        tenancy.auth.logout("never-issued")
    assert AuditLog.select().where(AuditLog.action == "auth.logout").count() == 1


def test_a_deactivated_member_cannot_use_a_still_unexpired_access_token(tenancy):
    editor = tenancy.tenant(tenancy.a).create_user("erin", PASSWORD, "editor")
    pair = tenancy.auth.authenticate("erin", PASSWORD, "alpha")
    tenancy.tenant(tenancy.a).update_user(editor.user_id, is_active=False)
    with pytest.raises(TokenInvalid):
        tenancy.auth.principal_for_access_token(pair.access_token)
    with pytest.raises(TokenInvalid):
        tenancy.auth.refresh(pair.refresh_token)


def test_an_api_token_secret_is_shown_once_and_stored_hashed(tenancy):
    token, secret = tenancy.auth.create_api_token(tenancy.a, tenancy.owner_a, "deploy",
                                                  ["assets.view", "assets.create"])
    row = ApiToken.get_by_id(token.id)
    assert secret.startswith("ae_") and secret not in (row.secret_hash, row.prefix)
    principal = tenancy.auth.authenticate_api_token(secret)
    assert principal.permissions == {"assets.view", "assets.create"}
    assert principal.token_id == token.id and principal.actor == token.id
    assert ApiToken.get_by_id(token.id).last_used_at == tenancy.clock.now


def test_an_api_tokens_last_use_is_noted_once_per_its_own_one_to_two_minutes(tenancy):
    token, secret = tenancy.auth.create_api_token(tenancy.a, tenancy.owner_a, "deploy",
                                                  ["assets.view"])
    interval = last_use_interval(token.prefix)
    first = tenancy.clock.now
    tenancy.auth.authenticate_api_token(secret)

    tenancy.clock.advance(seconds=interval.total_seconds() - 1)
    tenancy.auth.authenticate_api_token(secret)
    assert ApiToken.get_by_id(token.id).last_used_at == first  # still within its interval

    tenancy.clock.advance(seconds=1)
    tenancy.auth.authenticate_api_token(secret)
    assert ApiToken.get_by_id(token.id).last_used_at == tenancy.clock.now
    # Each token keeps its own interval, so tokens first used together write apart.
    intervals = {last_use_interval(f"{n:012x}") for n in range(200)}
    assert min(intervals) >= LAST_USED_GRANULARITY and len(intervals) > 30
    assert max(intervals) < 2 * LAST_USED_GRANULARITY


def test_an_api_token_cannot_exceed_its_creators_permissions(tenancy):
    editor = tenancy.tenant(tenancy.a).create_user("erin", PASSWORD, "editor")
    with pytest.raises(PermissionDenied) as caught:
        tenancy.auth.create_api_token(tenancy.a, editor.user_id, "x",
                                      ["assets.view", "users.manage"])
    assert caught.value.details == {"permissions": ["users.manage"]}
    assert ApiToken.select().count() == 0


def test_an_api_token_shrinks_when_its_creator_is_demoted(tenancy):
    admin = tenancy.tenant(tenancy.a).create_user("ada", PASSWORD, "admin")
    _, secret = tenancy.auth.create_api_token(tenancy.a, admin.user_id, "ops",
                                              ["users.view", "assets.view"])
    tenancy.tenant(tenancy.a).update_user(admin.user_id, role="viewer")
    assert tenancy.auth.authenticate_api_token(secret).permissions == {"assets.view"}


def test_revoked_expired_and_forged_api_tokens_are_refused(tenancy):
    later = tenancy.clock.now + dt.timedelta(hours=1)
    revoked, revoked_secret = tenancy.auth.create_api_token(tenancy.a, tenancy.owner_a, "r",
                                                            ["assets.view"])
    _, expiring_secret = tenancy.auth.create_api_token(tenancy.a, tenancy.owner_a, "e",
                                                       ["assets.view"], expires_at=later)
    tenancy.auth.revoke_api_token(tenancy.a, revoked.id)
    tenancy.clock.advance(hours=2)
    for secret in (revoked_secret, expiring_secret, expiring_secret[:-2] + "xx", "ae_x", ""):
        with pytest.raises(TokenInvalid):
            tenancy.auth.authenticate_api_token(secret)


def test_another_tenants_api_token_is_not_found(tenancy):
    token, _ = tenancy.auth.create_api_token(tenancy.b, tenancy.owner_b, "b", ["assets.view"])
    with pytest.raises(ApiTokenNotFound) as caught:
        tenancy.auth.revoke_api_token(tenancy.a, token.id)
    assert caught.value.status == 404
    assert ApiToken.get_by_id(token.id).revoked_at is None
    assert tenancy.auth.list_api_tokens(tenancy.a) == []
    assert [t.id for t in tenancy.auth.list_api_tokens(tenancy.b)] == [token.id]


def test_a_user_of_another_tenant_cannot_create_tokens_here(tenancy):
    with pytest.raises(UserNotFound) as caught:
        tenancy.auth.create_api_token(tenancy.a, tenancy.owner_b, "x", ["assets.view"])
    assert caught.value.status == 404


def test_an_api_token_answers_its_tenant_in_one_query_once_its_use_is_noted(tenancy):
    _, secret = tenancy.auth.create_api_token(tenancy.a, tenancy.owner_a, "s", ["assets.view"])
    tenancy.auth.api_token_caller(secret)
    with count_queries() as counter:
        caller = tenancy.auth.api_token_caller(secret)
    assert counter.count == 1
    assert (caller.tenant.id, caller.tenant.subdomain) == (tenancy.a, "alpha")
    assert caller.principal.tenant_id == tenancy.a


def test_an_access_token_answers_its_tenant_in_one_query(tenancy):
    pair = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    with count_queries() as counter:
        caller = tenancy.auth.access_token_caller(pair.access_token)
    assert counter.count == 1
    assert caller.tenant.subdomain == "alpha" and caller.principal.role == "owner"


def test_an_api_token_dies_with_its_creators_membership_or_account(tenancy):
    _, gone = tenancy.auth.create_api_token(tenancy.a, tenancy.owner_a, "g", ["assets.view"])
    _, b_secret = tenancy.auth.create_api_token(tenancy.b, tenancy.owner_b, "b", ["assets.view"])
    TenantUser.delete().where(TenantUser.user == tenancy.owner_a).execute()
    User.update(is_active=False).where(User.id == tenancy.owner_b).execute()
    for secret in (gone, b_secret):
        with pytest.raises(TokenInvalid):
            tenancy.auth.authenticate_api_token(secret)


def test_an_api_token_of_an_inactive_tenant_is_refused_as_inactive(tenancy):
    _, secret = tenancy.auth.create_api_token(tenancy.a, tenancy.owner_a, "s", ["assets.view"])
    tenancy.tenant(tenancy.a).set_plan(is_active=False)
    with pytest.raises(TenantInactive):
        tenancy.auth.authenticate_api_token(secret)
