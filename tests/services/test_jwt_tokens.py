"""services/auth/jwt_tokens.py: access tokens are short, pinned to HS256, survive key rotation."""

import base64
import datetime as dt
import json

import jwt
import pytest
from playhouse.test_utils import count_queries

from anthias_edge.errors import TokenInvalid
from anthias_edge.models import SigningKey
from anthias_edge.services.auth.jwt_tokens import AccessTokens


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _payload(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_an_issued_token_verifies_and_carries_every_claim(tenancy):
    token, claims = tenancy.access.issue("user-1", tenancy.a, "editor")
    verified = tenancy.access.verify(token)
    payload = _payload(token)
    assert (verified.user_id, verified.tenant_id, verified.role) == ("user-1", tenancy.a, "editor")
    assert set(payload) == {"sub", "tenant_id", "role", "iat", "nbf", "exp", "iss", "aud", "jti"}
    assert payload["exp"] - payload["iat"] <= 15 * 60
    assert jwt.get_unverified_header(token)["kid"] == claims.kid
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_a_lifetime_over_fifteen_minutes_is_refused(tenancy):
    with pytest.raises(ValueError):
        AccessTokens(tenancy.box, ttl=dt.timedelta(minutes=16))


def test_an_expired_token_is_invalid(tenancy):
    token, _ = tenancy.access.issue("u", tenancy.a, "viewer")
    tenancy.clock.advance(minutes=16)
    with pytest.raises(TokenInvalid) as caught:
        tenancy.access.verify(token)
    assert caught.value.status == 401


def test_a_token_that_is_not_yet_valid_is_invalid(tenancy):
    token, _ = tenancy.access.issue("u", tenancy.a, "viewer")
    tenancy.clock.advance(minutes=-5)
    with pytest.raises(TokenInvalid):
        tenancy.access.verify(token)


def test_a_token_for_another_audience_is_invalid(tenancy):
    other = AccessTokens(tenancy.box, audience="someone-else", clock=tenancy.clock)
    token, _ = other.issue("u", tenancy.a, "viewer")
    with pytest.raises(TokenInvalid):
        tenancy.access.verify(token)


def test_a_token_from_another_issuer_is_invalid(tenancy):
    other = AccessTokens(tenancy.box, issuer="evil", clock=tenancy.clock)
    token, _ = other.issue("u", tenancy.a, "viewer")
    with pytest.raises(TokenInvalid):
        tenancy.access.verify(token)


def test_a_tampered_payload_fails_the_signature(tenancy):
    token, _ = tenancy.access.issue("u", tenancy.a, "viewer")
    header, _, signature = token.split(".")
    forged = {**_payload(token), "role": "owner"}
    with pytest.raises(TokenInvalid):
        tenancy.access.verify(f"{header}.{_b64(forged)}.{signature}")


def test_an_unsigned_alg_none_token_is_refused(tenancy):
    token, claims = tenancy.access.issue("u", tenancy.a, "viewer")
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': claims.kid})}." \
               f"{_b64(_payload(token))}."
    with pytest.raises(TokenInvalid):
        tenancy.access.verify(unsigned)


def test_a_token_with_an_unknown_kid_is_refused(tenancy):
    token, _ = tenancy.access.issue("u", tenancy.a, "viewer")
    forged = jwt.encode(_payload(token), "guessed-" * 8, algorithm="HS256",
                        headers={"kid": "no-such-key"})
    with pytest.raises(TokenInvalid):
        tenancy.access.verify(forged)


def test_garbage_is_refused_with_the_same_error(tenancy):
    with pytest.raises(TokenInvalid):
        tenancy.access.verify("not.a.jwt")


def test_rotation_signs_with_the_new_key_and_old_tokens_keep_verifying(tenancy):
    old_token, old_claims = tenancy.access.issue("u", tenancy.a, "viewer")
    new_kid = tenancy.access.rotate_signing_key()
    new_token, new_claims = tenancy.access.issue("u", tenancy.a, "viewer")
    assert new_claims.kid == new_kid != old_claims.kid
    assert tenancy.access.verify(old_token).kid == old_claims.kid
    assert tenancy.access.verify(new_token).kid == new_kid


def test_a_retired_key_no_longer_verifies(tenancy):
    token, claims = tenancy.access.issue("u", tenancy.a, "viewer")
    tenancy.access.rotate_signing_key()
    assert tenancy.access.retire_signing_key(claims.kid) is True
    with pytest.raises(TokenInvalid):
        tenancy.access.verify(token)


def test_superseded_keys_retire_only_after_their_tokens_could_have_expired(tenancy):
    _, claims = tenancy.access.issue("u", tenancy.a, "viewer")
    tenancy.clock.advance(seconds=1)
    tenancy.access.rotate_signing_key()
    assert tenancy.access.retire_superseded_keys() == []
    tenancy.clock.advance(minutes=16)
    assert tenancy.access.retire_superseded_keys() == [claims.kid]


def test_the_signing_key_is_stored_encrypted_not_in_the_clear(tenancy):
    _, claims = tenancy.access.issue("u", tenancy.a, "viewer")
    row = SigningKey.get_by_id(claims.kid)
    raw = tenancy.box.decrypt(row.secret_encrypted)
    assert raw not in row.secret_encrypted
    assert base64.urlsafe_b64decode(raw) not in row.secret_encrypted.encode()
    assert len(base64.urlsafe_b64decode(raw)) == 32


def test_a_worker_decrypts_a_key_once_then_verifies_without_a_query(tenancy, monkeypatch):
    token, _ = tenancy.access.issue("u", tenancy.a, "viewer")
    worker = AccessTokens(tenancy.box, clock=tenancy.clock)
    decrypted = []
    decrypt = tenancy.box.decrypt

    def counting_decrypt(text: str) -> str:
        decrypted.append(text)
        return decrypt(text)

    monkeypatch.setattr(tenancy.box, "decrypt", counting_decrypt)
    worker.verify(token)
    with count_queries() as counter:
        verified = [worker.verify(token) for _ in range(3)]
    assert len(decrypted) == 1 and counter.count == 0
    assert {claims.user_id for claims in verified} == {"u"}


def test_a_key_retired_by_another_worker_stops_verifying_when_its_cache_expires(tenancy):
    token, claims = tenancy.access.issue("u", tenancy.a, "viewer")
    tenancy.access.rotate_signing_key()
    cached = AccessTokens(tenancy.box, clock=tenancy.clock)
    expired = AccessTokens(tenancy.box, clock=tenancy.clock, key_cache_ttl=dt.timedelta(0))
    assert cached.verify(token).kid == expired.verify(token).kid == claims.kid
    tenancy.access.retire_signing_key(claims.kid)
    assert cached.verify(token).kid == claims.kid  # trusted for up to KEY_CACHE_TTL
    with pytest.raises(TokenInvalid):
        expired.verify(token)


def _resigned(tenancy, token: str, **changes) -> str:
    """``token``'s claims with ``changes``, signed with the real key that signed it."""
    kid = jwt.get_unverified_header(token)["kid"]
    secret = base64.urlsafe_b64decode(tenancy.box.decrypt(SigningKey.get_by_id(kid)
                                                          .secret_encrypted))
    return jwt.encode({**_payload(token), **changes}, secret, algorithm="HS256",
                      headers={"kid": kid})


def test_a_validly_signed_token_living_longer_than_the_configured_lifetime_is_refused(tenancy):
    """A leaked signing key must not mint year-long tokens; nor may a config slip."""
    token, _ = tenancy.access.issue("u", tenancy.a, "owner")
    iat = _payload(token)["iat"]
    year = _resigned(tenancy, token, exp=iat + 365 * 24 * 3600)
    with pytest.raises(TokenInvalid):
        tenancy.access.verify(year)
    one_second_over = _resigned(tenancy, token, exp=iat + 15 * 60 + 1)
    with pytest.raises(TokenInvalid):
        tenancy.access.verify(one_second_over)
    shorter = AccessTokens(tenancy.box, ttl=dt.timedelta(minutes=5), clock=tenancy.clock)
    with pytest.raises(TokenInvalid):  # 15 minutes is over this service's 5
        shorter.verify(token)
    assert tenancy.access.verify(_resigned(tenancy, token, exp=iat + 60)).user_id == "u"


def test_a_token_issued_in_the_future_is_refused(tenancy):
    """Else iat/nbf/exp far ahead, with a short exp - iat, would pass the lifetime cap."""
    token, _ = tenancy.access.issue("u", tenancy.a, "owner")
    now = _payload(token)["iat"]
    ahead = _resigned(tenancy, token, iat=now + 86400, exp=now + 86400 + 600)
    with pytest.raises(TokenInvalid):
        tenancy.access.verify(ahead)
