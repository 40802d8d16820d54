"""Small helpers over loaded YAML trees (mappings, lists and scalars)."""

from __future__ import annotations

from typing import Any


def clone(value: Any) -> Any:
    """Deep copy of a JSON-like tree; several times faster than ``copy.deepcopy``.

    Scalars are immutable and shared; only mappings and lists are rebuilt.
    """
    if isinstance(value, dict):
        return {key: clone(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clone(item) for item in value]
    return value


def preview(names: list[str], limit: int = 8) -> str:
    """``a, b, c`` with ``...`` when more than ``limit`` names exist (spec C18)."""
    shown = ", ".join(names[:limit])
    return f"{shown}, ..." if len(names) > limit else shown


def cycle_chain(chain: list[str]) -> str:
    """Render ``[a, b, a]`` as numbered ``a -> b`` edges, one per line."""
    edges = [
        f"  {number}. {chain[number - 1]} -> {chain[number]}"
        for number in range(1, len(chain))
    ]
    return "\n".join(edges)
