"""Checks and helpers for parameter values: JSON-only data, no dotted keys (S10, Q17).

Parameter trees are treated as immutable once validated: the merge engine shares
sub-trees between configs instead of copying them, so nothing may mutate them.
"""

from __future__ import annotations

import math
from typing import Any

from geryon import canonical
from geryon.errors import ConfigError

_SCALARS = (str, int, float, bool, type(None))


def check_params(value: Any, *, file: str, path: str) -> dict[str, Any]:
    """Validate a ``params`` mapping and return it with every key as text.

    Rejects dotted keys at any depth, including inside lists (S10), and values
    that have no JSON form such as YAML dates (Q17: upstream crashed while
    hashing; geryon names the offending key instead).
    """
    if not isinstance(value, dict):
        raise ConfigError(
            f"expected a mapping, got {type_name(value)}",
            file=file,
            key_path=path,
            hint="Write params as nested keys, e.g. params: {model: {width: 64}}",
        )
    checked: dict[str, Any] = _check_value(value, file, path)
    return checked


def _check_value(value: Any, file: str, path: str) -> Any:
    if isinstance(value, dict):
        return {
            _check_key(key, file, path): _check_value(item, file, f"{path}.{key}")
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _check_value(item, file, f"{path}[{i}]") for i, item in enumerate(value)
        ]
    if isinstance(value, _SCALARS):
        return value
    raise ConfigError(
        f"value of type {type_name(value)} has no JSON form",
        file=file,
        key_path=path,
        hint="Quote it to make it a string (for a date: '2024-01-01'), "
        "or use a number, boolean, list or mapping",
    )


def _check_key(key: Any, file: str, path: str) -> str:
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise ConfigError(
            f"mapping key {key!r} must be text",
            file=file,
            key_path=path,
            hint="Quote the key in YAML",
        )
    text = str(key)
    if "." in text:
        raise ConfigError(
            f"dotted keys are not allowed ({text!r})",
            file=file,
            key_path=f"{path}.{text}",
            hint="Nest mappings instead: write a: {b: 1} rather than a.b: 1",
        )
    return text


def type_name(value: Any) -> str:
    """A user-facing name of a YAML value's type."""
    names = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def same_value(left: Any, right: Any) -> bool:
    """Equal as JSON values. Unlike Python ``==``, ``1``, ``1.0`` and ``true`` differ,
    since they produce different command lines and config ids."""
    return left == right and canonical.dumps(left) == canonical.dumps(right)


def contains_text(value: Any, text: str) -> bool:
    """True when ``text`` occurs as a value anywhere inside nested mappings."""
    if isinstance(value, dict):
        return any(item == text or contains_text(item, text) for item in value.values())
    return False


_TYPE_RANK = {type(None): 0, bool: 1, int: 2, float: 2, str: 3, list: 4, dict: 5}


def typed_sort_key(value: Any) -> tuple[int, Any]:
    """A total order over JSON values (Q11): by type, then numerically for numbers,
    by code point for text, by canonical JSON for the rest. NaN sorts last among
    numbers."""
    rank = _TYPE_RANK.get(type(value), 6)
    if rank == 2:
        return (rank, (1, 0.0) if math.isnan(value) else (0, value))
    if rank in (1, 3):
        return (rank, value)
    return (rank, canonical.dumps(value))
