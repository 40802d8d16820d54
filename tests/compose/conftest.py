"""Helpers for composition tests: write YAML files under tmp_path and compose them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from geryon.compose import Composition, compose
from geryon.errors import ConfigError

Write = Callable[[str, str], Path]

COMMAND = "command: {program: python, args: [train.py]}\n"


@pytest.fixture
def write(tmp_path: Path) -> Write:
    """``write("defs/a.yaml", text)`` writes dedented text and returns the path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write


def compose_error(path: Path, *, run_set: str | None = None) -> ConfigError:
    """Compose and return the ConfigError it must raise."""
    with pytest.raises(ConfigError) as caught:
        compose(path, run_set=run_set)
    return caught.value


def pack_summary(composition: Composition) -> list[tuple[str, list[str]]]:
    """``[(pack name, [option ids])]`` of a composed document."""
    return [
        (pack["name"], [option["id"] for option in pack["options"]])
        for pack in composition.document["packs"]
    ]
