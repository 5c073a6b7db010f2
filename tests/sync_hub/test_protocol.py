"""cloud_sync.protocol: keys, request signing and verification, message shapes (no server)."""

from __future__ import annotations

import base64
import json
import stat
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from anthias_edge.errors import ValidationError
from cloud_sync.protocol import (
    DeviceAuthExpired,
    DeviceAuthInvalid,
    DeviceAuthMissing,
    body_hash,
    load_private_key,
    load_public_key,
    new_key_pair,
    public_key_b64,
    read_token,
    save_private_key,
    sign_request,
    validate_push,
    validate_state,
    verify_request,
)

DEVICE = "0b6f3c52-6a44-4d6e-9a39-5a0f2f4b8c11"
NOW = 1_800_000_000.0


@pytest.fixture
def pair() -> tuple[Ed25519PrivateKey, str]:
    return new_key_pair()


def _verify(header: str, public: str, method: str = "POST", path: str = "/api/v3/sync/push",
            body: bytes = b'{"a":1}', now: float = NOW):
    return verify_request(header, load_public_key(public), method, path, body, now=now)


def _forge(private: Ed25519PrivateKey, **changes) -> str:
    """A token signed with ``private`` whose claims differ from a good one by ``changes``."""
    claims = {"iss": DEVICE, "aud": "anthias-sync", "iat": int(NOW), "exp": int(NOW) + 60,
              "jti": "j" * 22, "htm": "POST", "htu": "/api/v3/sync/push",
              "bh": body_hash(b'{"a":1}')}
    headers = {"kid": changes.pop("kid", DEVICE)}
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return "Device " + jwt.encode(claims, private, algorithm="EdDSA", headers=headers)


def test_a_signed_request_verifies_and_carries_its_claims(pair):
    private, public = pair
    header = sign_request(private, DEVICE, "post", "/api/v3/sync/push", b'{"a":1}', now=NOW)
    assert header.startswith("Device ")
    claims = _verify(header, public)
    assert claims.device_id == DEVICE
    assert claims.method == "POST"
    assert claims.exp - claims.iat == 60
    assert len(claims.jti) >= 22
    jwt_header = jwt.get_unverified_header(header.split(" ", 1)[1])
    assert jwt_header["alg"] == "EdDSA" and jwt_header["kid"] == DEVICE


def test_each_signature_has_a_fresh_jti(pair):
    private, _ = pair
    jtis = {read_token(sign_request(private, DEVICE, "GET", "/x", b"", now=NOW)).jti
            for _ in range(50)}
    assert len(jtis) == 50


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/api/v3/sync/push", b'{"a":2}'),        # tampered body
    ("PUT", "/api/v3/sync/push", b'{"a":1}'),         # another method
    ("POST", "/api/v3/sync/state", b'{"a":1}'),       # another path
    ("POST", "/api/v3/sync/push?x=1", b'{"a":1}'),    # a query added
])
def test_a_request_other_than_the_signed_one_is_refused(pair, method, path, body):
    private, public = pair
    header = sign_request(private, DEVICE, "POST", "/api/v3/sync/push", b'{"a":1}', now=NOW)
    with pytest.raises(DeviceAuthInvalid):
        _verify(header, public, method, path, body)


def test_the_query_is_part_of_what_is_signed(pair):
    private, public = pair
    header = sign_request(private, DEVICE, "GET", "/api/v3/sync/state?x=1", b"", now=NOW)
    assert _verify(header, public, "GET", "/api/v3/sync/state?x=1", b"").path.endswith("?x=1")
    with pytest.raises(DeviceAuthInvalid):
        _verify(header, public, "GET", "/api/v3/sync/state?x=2", b"")


def test_a_tampered_token_is_refused(pair):
    private, public = pair
    header = sign_request(private, DEVICE, "POST", "/api/v3/sync/push", b'{"a":1}', now=NOW)
    head, payload, sig = header.split(" ", 1)[1].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["htu"] = "/api/v3/sync/unlink"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(DeviceAuthInvalid):
        _verify(f"Device {head}.{forged}.{sig}", public, path="/api/v3/sync/unlink")


def test_another_devices_key_is_refused(pair):
    private, _ = pair
    _, other_public = new_key_pair()
    header = sign_request(private, DEVICE, "POST", "/api/v3/sync/push", b'{"a":1}', now=NOW)
    with pytest.raises(DeviceAuthInvalid):
        _verify(header, other_public)


def test_expiry_allows_thirty_seconds_of_skew_and_no_more(pair):
    private, public = pair
    header = sign_request(private, DEVICE, "POST", "/api/v3/sync/push", b'{"a":1}', now=NOW)
    assert _verify(header, public, now=NOW + 60 + 30)
    with pytest.raises(DeviceAuthExpired):
        _verify(header, public, now=NOW + 60 + 31)


def test_a_token_from_the_future_is_refused(pair):
    private, public = pair
    header = sign_request(private, DEVICE, "POST", "/api/v3/sync/push", b'{"a":1}', now=NOW)
    assert _verify(header, public, now=NOW - 30)
    with pytest.raises(DeviceAuthExpired):
        _verify(header, public, now=NOW - 31)


def test_a_lifetime_over_300_seconds_is_refused(pair):
    private, public = pair
    assert _verify(_forge(private, exp=int(NOW) + 300), public)
    with pytest.raises(DeviceAuthInvalid, match="300"):
        _verify(_forge(private, exp=int(NOW) + 301), public)


@pytest.mark.parametrize("changes", [
    {"aud": "someone-else"}, {"bh": None}, {"htm": None}, {"iss": "other-device"},
    {"kid": "other-device"}, {"jti": "short"}, {"jti": None}, {"exp": int(NOW) - 10 + 0 * 1},
    {"iat": "yesterday"},
])
def test_bad_claims_are_refused(pair, changes):
    private, public = pair
    if "exp" in changes:
        changes = {"exp": int(NOW) - 10}  # exp before iat
    with pytest.raises((DeviceAuthInvalid, DeviceAuthExpired)):
        _verify(_forge(private, **changes), public)


def test_another_algorithm_is_refused(pair):
    _, public = pair
    token = jwt.encode({"iss": DEVICE, "jti": "j" * 22, "exp": int(NOW) + 60}, "secret-key-" * 4,
                       algorithm="HS256", headers={"kid": DEVICE})
    with pytest.raises(DeviceAuthInvalid):
        _verify(f"Device {token}", public)


@pytest.mark.parametrize("header", [None, "", "Bearer abc", "Device", "Device "])
def test_a_missing_header_is_refused_as_missing(header):
    with pytest.raises(DeviceAuthMissing):
        read_token(header)


@pytest.mark.parametrize("header", ["Device abc", "Device a.b.c", "Device " + "a." * 3000])
def test_garbage_is_refused_as_invalid(header):
    with pytest.raises(DeviceAuthInvalid):
        read_token(header)


def test_keys_round_trip_through_a_0600_file(tmp_path, pair):
    private, public = pair
    path = tmp_path / "sync" / "device_key.pem"
    save_private_key(private, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_b64(load_private_key(path)) == public
    replacement, replacement_public = new_key_pair()
    save_private_key(replacement, path)  # replaces atomically, no temp file left behind
    assert public_key_b64(load_private_key(path)) == replacement_public
    assert [p.name for p in path.parent.iterdir()] == ["device_key.pem"]


@pytest.mark.parametrize("text", ["", "abc", "A" * 43 + "=", "!" * 43, "A" * 44])
def test_a_bad_public_key_is_a_value_error(text):
    with pytest.raises(ValueError):
        load_public_key(text)


def test_a_public_key_is_43_base64url_characters(pair):
    _, public = pair
    assert len(public) == 43
    assert load_public_key(public)


def _entry(seq: int, kind: str = "asset.delete", **payload) -> dict:
    return {"seq": seq, "key": f"key-{seq}", "kind": kind, "at": "2026-12-05T10:00:00Z",
            "payload": payload or {"asset_id": "a1"}}


def test_a_valid_push_batch_is_parsed():
    batch = validate_push({"entries": [
        _entry(1), _entry(2, "play", asset_id="a1", started_at="2026-12-05T10:00:00+01:00",
                          duration_s=10.5),
        _entry(5, "command.result", command_id="c1", ok=False, error="no player"),
    ], "health": {"software_version": "1.0", "free_disk_bytes": 10, "on_screen": None}})
    assert [entry.seq for entry in batch.entries] == [1, 2, 5]
    assert batch.entries[1].payload["duration_s"] == 10.5
    assert batch.health["free_disk_bytes"] == 10


def test_health_alone_is_a_valid_push():
    assert validate_push({"entries": [], "health": {"uptime_s": 3}}).entries == []


@pytest.mark.parametrize("body, field", [
    ({"entries": []}, "entries"),
    ({"entries": [_entry(1, "asset.rename")]}, "entries[0].kind"),
    ({"entries": [_entry(2), _entry(1)]}, "entries[1].seq"),
    ({"entries": [_entry(1), _entry(1)]}, "entries[1].seq"),
    ({"entries": [_entry(0)]}, "entries[0].seq"),
    ({"entries": [_entry(1, "play", asset_id="a1")]}, "entries[0].payload.started_at"),
    ({"entries": [_entry(1, "asset.delete", asset_id="")]}, "entries[0].payload.asset_id"),
    ({"entries": [{**_entry(1), "at": "yesterday"}]}, "entries[0].at"),
    ({"entries": [{**_entry(1), "key": ""}]}, "entries[0].key"),
    ({"entries": [_entry(1) for _ in range(1)] * 501}, "entries"),
    ({"entries": [], "health": {"free_disk_bytes": "lots"}}, "health.free_disk_bytes"),
    ([], "body"),
])
def test_a_bad_push_batch_names_the_fault(body, field):
    with pytest.raises(ValidationError) as caught:
        validate_push(body)
    assert field in caught.value.field_errors


def test_one_unknown_kind_refuses_the_whole_batch():
    with pytest.raises(ValidationError):
        validate_push({"entries": [_entry(1), _entry(2, "qr.teleport")]})


def _state(**changes) -> dict:
    state = {"qr_contents": [], "limits": {"plan": "free", "valid_until": "2026-12-06T10:00:00Z"},
             "settings": {}, "commands": [{"command_id": "c1", "command": "next", "args": {},
                                           "created_at": "2026-12-05T10:00:00Z"}],
             "interval_s": 30}
    state.update(changes)
    return state


def test_a_valid_state_passes():
    assert validate_state(_state())["interval_s"] == 30


@pytest.mark.parametrize("changes", [
    {"limits": {}}, {"interval_s": 1}, {"commands": [{"command_id": "c", "command": "format"}]},
    {"qr_contents": [{"qr_id": "q"}]}, {"settings": []},
])
def test_a_bad_state_is_refused(changes):
    with pytest.raises(ValidationError):
        validate_state(_state(**changes))


def test_signing_is_cheap_enough_to_run_per_request(pair):
    # Not a timing assertion: checks the signature stays valid when made back to back.
    private, public = pair
    for _ in range(20):
        header = sign_request(private, DEVICE, "GET", "/api/v3/sync/state", b"")
        verify_request(header, load_public_key(public), "GET", "/api/v3/sync/state", b"",
                       now=time.time())


@pytest.mark.parametrize("mutate", ["none", "signature", "payload", "header"])
def test_the_hub_and_pyjwt_accept_and_refuse_the_same_tokens(pair, mutate):
    # The hub verifies the JWS signature itself (signing.py says why): it must agree with
    # pyjwt's EdDSA verification on good and altered tokens.
    private, public = pair
    token = sign_request(private, DEVICE, "GET", "/x", b"", now=NOW).split(" ", 1)[1]
    head, payload, sig = token.split(".")
    if mutate == "signature":
        sig = ("A" if sig[0] != "A" else "B") + sig[1:]
    elif mutate == "payload":
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["htu"] = "/y"
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    elif mutate == "header":
        header = json.loads(base64.urlsafe_b64decode(head + "=="))
        header["typ"] = "JOSE"
        head = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    token = f"{head}.{payload}.{sig}"
    try:
        jwt.decode(token, load_public_key(public), algorithms=["EdDSA"],
                   options={"verify_exp": False, "verify_aud": False, "verify_iat": False})
        pyjwt_ok = True
    except jwt.InvalidTokenError:
        pyjwt_ok = False
    try:
        verify_request(f"Device {token}", load_public_key(public), "GET",
                       json.loads(base64.urlsafe_b64decode(payload + "=="))["htu"], b"",
                       now=NOW)
        hub_ok = True
    except DeviceAuthInvalid:
        hub_ok = False
    assert hub_ok == pyjwt_ok == (mutate == "none")
