"""Name sanitisers shared by every module (spec I7, I22)."""

from __future__ import annotations

import re

_TAG_RUN = re.compile(r"[^A-Za-z0-9_.-]+")


def path_component(text: str) -> str:
    """Spec I22: keep Unicode letters/digits, ``-``, ``_``, ``.``; others become ``-``."""
    chars = [c if (c.isalnum() or c in "-_.") else "-" for c in str(text)]
    cleaned = "".join(chars).strip("-")
    return cleaned or "x"


def tag_for_name(tag: str) -> str:
    """Spec I7: runs of characters outside ``[A-Za-z0-9_.-]`` become one ``-``."""
    cleaned = _TAG_RUN.sub("-", tag.strip()).strip("-")
    return cleaned or "tag"


_SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


def is_safe_run_id(run_id: str) -> bool:
    """Run ids become directory names: letters, digits, ``_ . -``; no leading dot (Q21)."""
    return bool(_SAFE_RUN_ID.match(run_id)) and ".." not in run_id
