"""Encryption of secrets kept in the database (signing keys, ...), with Fernet.

The key comes from ``ANTHIAS_SECRET_KEY_FILE`` (a file of mode 0600 or stricter),
else ``ANTHIAS_SECRET_KEY``; on a device, without either, ``$HOME/.screenly/secret.key``
is generated on first use. Several keys (one per line, or comma-separated) allow
rotation: the first encrypts, all decrypt. The key itself is never logged.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from anthias_edge.errors import SecretKeyUnusable

logger = logging.getLogger(__name__)

KEY_FILE_ENV = "ANTHIAS_SECRET_KEY_FILE"
KEY_ENV = "ANTHIAS_SECRET_KEY"
GENERATE_HINT = ('generate one with: python -c "from cryptography.fernet import Fernet; '
                 'print(Fernet.generate_key().decode())"')


class CryptoBox:
    """Encrypts and decrypts short text secrets; give it one or more Fernet keys."""

    def __init__(self, keys: list[bytes]) -> None:
        """The first key encrypts; every key decrypts."""
        if not keys:
            raise SecretKeyUnusable("No secret key was given; " + GENERATE_HINT)
        try:
            self._fernet = MultiFernet([Fernet(key) for key in keys])
        except ValueError as exc:
            raise SecretKeyUnusable(
                "The secret key is not a Fernet key (32 url-safe base64 bytes); "
                + GENERATE_HINT) from exc

    def encrypt(self, plaintext: str) -> str:
        """Authenticated ciphertext of ``plaintext`` as ASCII text."""
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext; raise SecretKeyUnusable if no key opens it (the key was changed)."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except InvalidToken as exc:
            raise SecretKeyUnusable(
                "A stored secret could not be decrypted: the secret key is not the one "
                "it was encrypted with.") from exc


def _parse_keys(text: str) -> list[bytes]:
    return [part.strip().encode() for part in text.replace(",", "\n").splitlines()
            if part.strip()]


def read_key_file(path: Path) -> list[bytes]:
    """The keys in ``path``, refusing a file that group or others can read or write."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise SecretKeyUnusable(f"Secret key file {path} is not a regular file.")
        if info.st_mode & 0o077:
            raise SecretKeyUnusable(
                f"Secret key file {path} has mode {stat.S_IMODE(info.st_mode):04o}; "
                f"it must be 0600 (run: chmod 600 {path}).")
        keys = _parse_keys(path.read_text(encoding="ascii"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretKeyUnusable(f"Secret key file {path} cannot be read: {exc}") from exc
    if not keys:
        raise SecretKeyUnusable(f"Secret key file {path} is empty; " + GENERATE_HINT)
    return keys


def _generate_key_file(path: Path) -> None:
    # Write a complete temporary file, then link it into place: readers never see a
    # half-written key, and of two processes racing on first start one key wins.
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".secret-key-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp_name, path)
            logger.info("generated a new secret key in %s", path)
        except FileExistsError:
            pass
    finally:
        os.unlink(temp_name)


def load_crypto_box(environ: Mapping[str, str], home: Path, *, cloud: bool = False) -> CryptoBox:
    """Find the key as the module docstring says; in the cloud a key must be configured."""
    if environ.get(KEY_FILE_ENV):
        return CryptoBox(read_key_file(Path(environ[KEY_FILE_ENV])))
    if environ.get(KEY_ENV):
        return CryptoBox(_parse_keys(environ[KEY_ENV]))
    if cloud:
        # Each worker would generate its own key and none could read the others' secrets.
        raise SecretKeyUnusable(
            f"Cloud mode needs {KEY_FILE_ENV} or {KEY_ENV}; " + GENERATE_HINT)
    path = Path(home) / ".screenly" / "secret.key"
    if not path.exists():
        _generate_key_file(path)
    return CryptoBox(read_key_file(path))
