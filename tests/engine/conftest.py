"""Fixtures of the engine tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from engine_plans import write_plan


@pytest.fixture
def make_plan(tmp_path: Path) -> Callable[..., Path]:
    def make(commands: list[str], *, batch_size: int = 2, name: str = "run1") -> Path:
        return write_plan(
            tmp_path / "out" / "runs" / name, commands, batch_size=batch_size
        )

    return make
