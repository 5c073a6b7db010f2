"""Ed25519 key pairs: the device keeps the private key (0600, never sent), the hub the public one.

Public keys travel as base64url without padding of the raw 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def b64url(data: bytes) -> str:
    """base64url without padding (JWT style)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Inverse of ``b64url``; raises ValueError on anything that is not base64url."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


def new_key_pair() -> tuple[Ed25519PrivateKey, str]:
    """A fresh private key and its public key as base64url."""
    private = Ed25519PrivateKey.generate()
    return private, public_key_b64(private)


def public_key_b64(private: Ed25519PrivateKey) -> str:
    """The raw 32-byte public key of ``private``, base64url without padding."""
    raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    return b64url(raw)


def load_public_key(text: str) -> Ed25519PublicKey:
    """Parse a base64url raw public key; ValueError if it is not 32 valid bytes."""
    raw = b64url_decode(text.strip() if isinstance(text, str) else text)
    if len(raw) != 32 or b64url(raw) != text.strip():
        raise ValueError("a public key is 32 bytes, base64url without padding")
    return Ed25519PublicKey.from_public_bytes(raw)


def save_private_key(key: Ed25519PrivateKey, path: Path | str) -> None:
    """Write ``key`` as PKCS#8 PEM, mode 0600, atomically (temp file in the folder, then rename).

    The file is created 0600 from the start, so the key is never readable by others, even
    for a moment; a crash leaves the old file or the new one, never half a key.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd, tmp = tempfile.mkstemp(prefix=".key-", dir=path.parent)  # mkstemp makes it 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def load_private_key(path: Path | str) -> Ed25519PrivateKey:
    """Read a key written by ``save_private_key``; ValueError if it is not an Ed25519 key."""
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
