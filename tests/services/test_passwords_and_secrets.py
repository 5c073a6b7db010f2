"""services/auth/passwords.py (argon2id) and crypto_box.py (secrets at rest, the key file rules)."""

import os

import pytest
from cryptography.fernet import Fernet

from anthias_edge.errors import SecretKeyUnusable
from anthias_edge.services.auth.crypto_box import CryptoBox, load_crypto_box
from anthias_edge.services.auth.passwords import Passwords


def test_a_password_hash_is_argon2id_and_verifies_only_the_right_password(cheap_passwords):
    hashed = cheap_passwords.hash("s3cret-password")
    assert hashed.startswith("$argon2id$")
    assert cheap_passwords.verify(hashed, "s3cret-password") is True
    assert cheap_passwords.verify(hashed, "wrong") is False


def test_default_parameters_are_argon2id_and_flag_weaker_hashes_for_rehash(cheap_passwords):
    strong = Passwords()
    weak_hash = cheap_passwords.hash("pw-123456")
    assert strong.hash("pw-123456").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert strong.needs_rehash(weak_hash) is True
    assert cheap_passwords.needs_rehash(weak_hash) is False


def test_a_malformed_hash_is_a_mismatch_not_a_crash(cheap_passwords):
    assert cheap_passwords.verify("not-a-hash", "x") is False
    assert cheap_passwords.needs_rehash("not-a-hash") is True


def test_dummy_verify_always_fails(cheap_passwords):
    assert cheap_passwords.dummy_verify("anything") is False


def test_the_box_round_trips_and_its_ciphertext_hides_the_secret():
    box = CryptoBox([Fernet.generate_key()])
    sealed = box.encrypt("top secret value")
    assert "top secret" not in sealed
    assert box.decrypt(sealed) == "top secret value"


def test_a_box_with_another_key_cannot_decrypt():
    sealed = CryptoBox([Fernet.generate_key()]).encrypt("x")
    with pytest.raises(SecretKeyUnusable):
        CryptoBox([Fernet.generate_key()]).decrypt(sealed)


def test_a_second_key_keeps_old_secrets_readable_after_key_rotation():
    old, new = Fernet.generate_key(), Fernet.generate_key()
    sealed = CryptoBox([old]).encrypt("kept")
    assert CryptoBox([new, old]).decrypt(sealed) == "kept"


def test_a_key_file_with_mode_0644_is_refused(tmp_path):
    key_file = tmp_path / "secret.key"
    key_file.write_bytes(Fernet.generate_key())
    key_file.chmod(0o644)
    with pytest.raises(SecretKeyUnusable, match=r"0644.*0600"):
        load_crypto_box({"ANTHIAS_SECRET_KEY_FILE": str(key_file)}, tmp_path)


def test_a_key_file_with_mode_0600_is_used(tmp_path):
    key = Fernet.generate_key()
    key_file = tmp_path / "secret.key"
    key_file.write_bytes(key + b"\n")
    key_file.chmod(0o600)
    box = load_crypto_box({"ANTHIAS_SECRET_KEY_FILE": str(key_file)}, tmp_path)
    assert CryptoBox([key]).decrypt(box.encrypt("v")) == "v"


def test_the_environment_key_is_used_when_no_file_is_named(tmp_path):
    key = Fernet.generate_key()
    box = load_crypto_box({"ANTHIAS_SECRET_KEY": key.decode()}, tmp_path)
    assert CryptoBox([key]).decrypt(box.encrypt("v")) == "v"
    assert not (tmp_path / ".screenly" / "secret.key").exists()


def test_a_malformed_environment_key_is_refused_with_a_hint(tmp_path):
    with pytest.raises(SecretKeyUnusable, match=r"Fernet\.generate_key"):
        load_crypto_box({"ANTHIAS_SECRET_KEY": "hunter2"}, tmp_path)


def test_a_device_generates_a_private_key_file_once_and_reuses_it(tmp_path):
    first = load_crypto_box({}, tmp_path)
    key_file = tmp_path / ".screenly" / "secret.key"
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    assert load_crypto_box({}, tmp_path).decrypt(first.encrypt("v")) == "v"
    assert [p.name for p in key_file.parent.iterdir()] == ["secret.key"]


def test_cloud_mode_without_a_configured_key_is_refused(tmp_path):
    with pytest.raises(SecretKeyUnusable, match="Cloud mode"):
        load_crypto_box({}, tmp_path, cloud=True)
    assert not (tmp_path / ".screenly").exists()
