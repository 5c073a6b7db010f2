"""Signing out ends a session's access tokens at once, not when they expire."""

import pytest
from playhouse.test_utils import count_queries

from anthias_edge.errors import TokenInvalid
from anthias_edge.models import RefreshToken, RevokedToken
from tests.services.conftest import PASSWORD


def _refused(tenancy, access_token: str) -> bool:
    try:
        tenancy.auth.access_token_caller(access_token)
    except TokenInvalid:
        return True
    return False


def test_signing_out_refuses_every_access_token_of_the_session_at_once(tenancy):
    first = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    second = tenancy.auth.refresh(first.refresh_token)  # first.access_token is still unexpired
    other_session = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    tenancy.auth.logout(second.refresh_token)
    assert _refused(tenancy, first.access_token)
    assert _refused(tenancy, second.access_token)
    assert tenancy.auth.access_token_caller(other_session.access_token).principal.role == "owner"


def test_a_reused_refresh_token_also_ends_the_sessions_access_tokens(tenancy):
    first = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    stolen = tenancy.auth.refresh(first.refresh_token)
    with pytest.raises(TokenInvalid):
        tenancy.auth.refresh(first.refresh_token)  # replayed: the whole session ends
    assert _refused(tenancy, stolen.access_token)


def test_the_revocation_check_costs_no_extra_query(tenancy):
    signed_out = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    live = tenancy.auth.authenticate("bob", PASSWORD, "beta")
    tenancy.auth.logout(signed_out.refresh_token)
    with count_queries() as counter:
        caller = tenancy.auth.access_token_caller(live.access_token)
    assert counter.count == 1
    assert caller.principal.tenant_id == tenancy.b
    with count_queries() as counter, pytest.raises(TokenInvalid):
        tenancy.auth.access_token_caller(signed_out.access_token)
    assert counter.count == 1


def test_revoked_ids_stay_until_their_tokens_expire_and_are_then_pruned(tenancy):
    early = tenancy.auth.authenticate("alice", PASSWORD, "alpha")
    tenancy.auth.logout(early.refresh_token)
    tenancy.clock.advance(minutes=14)  # a minute before the token's own expiry
    assert _refused(tenancy, early.access_token)
    assert RevokedToken.select().count() == 1
    tenancy.clock.advance(minutes=2)  # expired now: refused as expired, the id is not needed
    late = tenancy.auth.authenticate("bob", PASSWORD, "beta")
    tenancy.auth.logout(late.refresh_token)
    assert _refused(tenancy, early.access_token)
    kept = [row.jti for row in RevokedToken.select()]
    assert len(kept) == 1 and tenancy.access.verify(late.access_token).jti == kept[0]


def test_the_migrated_tables_have_exactly_the_models_columns(tenancy, app):
    database = app.extensions["anthias"].database
    for model in (RevokedToken, RefreshToken):
        columns = {column.name for column in database.get_columns(model._meta.table_name)}
        assert columns == {field.column_name for field in model._meta.sorted_fields}
    indexed = {tuple(index.columns) for index in database.get_indexes("revoked_tokens")}
    assert ("expires_at",) in indexed  # pruning reads it
