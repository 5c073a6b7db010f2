"""The fleet enrolment token file an image carries (``/boot/firmware/anthias-fleet.token``).

It holds either just the token, or ``key=value`` lines: ``token=`` (required), ``cloud=`` (the
cloud's address, else the ``cloud_url`` setting) and ``name=`` (the screen's name). Blank lines
and ``#`` comments are ignored; a byte-order mark and Windows line ends (a boot partition edited
on a PC) are accepted. Once the token is exchanged the file is deleted, or blanked where the
agent may write it but not delete it.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path

from anthias_edge.errors import ValidationError
from anthias_edge.settings import absolute_http_url_problem

logger = logging.getLogger(__name__)

TOKEN = re.compile(r"^aft_[A-Za-z0-9_-]{16,200}$")
KEYS = ("token", "cloud", "name")
NAME_MAX = 100
MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class FleetTokenFile:
    """What a token file says; ``cloud_url`` and ``name`` are None when it does not say."""

    path: Path
    token: str
    cloud_url: str | None = None
    name: str | None = None


def _invalid(path: Path, problem: str) -> ValidationError:
    return ValidationError({"fleet_token_file": [f"{path} {problem}."]},
                           "The fleet token file cannot be used:")


def read_token_file(path: Path) -> FleetTokenFile | None:
    """Parse ``path``; None when it is missing or holds nothing (nothing to do).

    Raises ValidationError naming the file and the line when it cannot be used.
    """
    try:
        raw = path.read_bytes()[:MAX_FILE_BYTES + 1]
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise _invalid(path, "is a folder, not a file") from None
    except PermissionError:
        raise _invalid(path, "cannot be read (permission denied)") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _invalid(path, "is too large to be a token file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _invalid(path, "is not text (UTF-8)") from None
    return parse_token_text(text, path)


def parse_token_text(text: str, path: Path) -> FleetTokenFile | None:
    """Parse the file's text; see the module docstring for the format."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep:
            key, value = "token", line
        elif key not in KEYS:
            raise _invalid(path, f"line {number}: unknown key {key!r} (use token=, cloud=, name=)")
        if key in values:
            raise _invalid(path, f"line {number}: {key} is given twice")
        values[key] = value
    if not values:
        return None
    token = values.get("token", "")
    if not token:
        raise _invalid(path, "has no token (a line token=aft_...)")
    if not TOKEN.match(token):
        raise _invalid(path, "holds something that is not a fleet token (they start with aft_)")
    cloud = values.get("cloud") or None
    if cloud is not None:
        cloud = cloud.rstrip("/")
        problem = absolute_http_url_problem(cloud)
        if problem:
            raise _invalid(path, f"has a cloud address that {problem}")
    name = values.get("name") or None
    if name is not None and len(name) > NAME_MAX:
        raise _invalid(path, f"has a name longer than {NAME_MAX} characters")
    return FleetTokenFile(path=path, token=token, cloud_url=cloud, name=name)


def consume_token_file(path: Path) -> str:
    """Remove the used token: delete the file, or blank it where deleting is not allowed.

    Returns what was done, in words (``deleted``, ``blanked``), for the log and the CLI.
    Raises OSError only when the token could be neither deleted nor blanked.
    """
    try:
        path.unlink()
        return "deleted"
    except FileNotFoundError:
        return "deleted"
    except OSError as exc:
        # The folder may not be ours (a root-owned boot partition) while the file is.
        logger.info("Could not delete %s (%s); blanking it instead", path, exc.strerror)
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return "blanked"
