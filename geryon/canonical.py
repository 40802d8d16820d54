"""Canonical JSON (spec Appendix A) and the digests built on it.

Python's C-accelerated ``json`` encoder with sorted keys, no whitespace and ASCII
escaping produces exactly the canonical form: ``repr`` floats, lowercase ``\\uXXXX``
escapes with surrogate pairs, and ``NaN``/``Infinity`` for non-finite floats.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

_ENCODER = json.JSONEncoder(
    ensure_ascii=True,
    sort_keys=True,
    separators=(",", ":"),
    allow_nan=True,
    check_circular=False,
)


def dumps(value: Any) -> str:
    """Return the canonical JSON text of ``value`` (one line, no newline)."""
    return _ENCODER.encode(value)


def sha1_hex(value: Any) -> str:
    """Lowercase hex SHA-1 of the UTF-8 bytes of the canonical JSON of ``value``."""
    return hashlib.sha1(dumps(value).encode("utf-8")).hexdigest()


def pretty(value: Any) -> str:
    """Pretty JSON for artifacts read by people: sorted keys, 2 spaces, newline."""
    return json.dumps(value, sort_keys=True, indent=2, ensure_ascii=True) + "\n"
