"""Decoding request JSON safely, for every API version.

Python's decoder accepts what no client needs and the rest of the server cannot hold:
nesting deep enough to exhaust the stack, ``NaN`` and numbers beyond a float, and lone
UTF-16 surrogates (``"\\ud800"``) that no UTF-8 database, file or response can encode.
Each version turns these exceptions into its own error body.
"""

from __future__ import annotations

import json
import math
from typing import Any

# No request body of any version needs more: an asset with custom_headers is 2 levels deep.
MAX_DEPTH = 32


class TooDeep(Exception):
    """The JSON nests arrays and objects more than ``MAX_DEPTH`` levels."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested more than {MAX_DEPTH} levels deep.")


class NotCompliant(ValueError):
    """``NaN``, ``Infinity`` or a number too large for a float: not valid JSON."""


def _refuse_constant(text: str) -> Any:
    # DRF's wording for the same refusal (rest_framework.utils.json.strict_constant).
    raise NotCompliant(f"Out of range float values are not JSON compliant: {text!r}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        _refuse_constant(text)
    return value


def loads(raw: bytes | str) -> Any:
    """Decode ``raw``; raise TooDeep, NotCompliant or ValueError (malformed)."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except RecursionError:
        raise TooDeep() from None
    if depth(value) > MAX_DEPTH:
        raise TooDeep()
    return value


def depth(value: Any) -> int:
    """How many arrays and objects nest in ``value`` (0 for a scalar), without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate, which UTF-8 cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def first_surrogate(value: Any) -> str | None:
    """The first string (key or value) anywhere in ``value`` that holds a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if has_surrogate(item):
                return item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


def surrogate_code(text: str) -> str:
    """``U+D800``: how DRF names the first lone surrogate of ``text``."""
    for char in text:
        if 0xD800 <= ord(char) <= 0xDFFF:
            return f"U+{ord(char):X}"
    return ""


def dumps(data: Any) -> str:
    """Compact JSON text, UTF-8 characters as they are.

    A lone surrogate that reached an answer (an echoed value) is escaped as ``\\udXXX`` rather
    than failing the whole response when it is encoded.
    """
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    if has_surrogate(text):
        return json.dumps(data, separators=(",", ":"))
    return text
