"""Fixtures of the observe tests: synthetic planned runs and a JSON CLI runner."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from observe_synth import SyntheticRun, make_run

from geryon.cli.main import main

OPTIONS = [{"model": m, "seed": s} for m in ("mlp", "cnn") for s in ("s1", "s2")]


@pytest.fixture
def run4(tmp_path: Path) -> SyntheticRun:
    """Four planned configs (mlp/cnn x s1/s2) in two batches of two; no records."""
    return make_run(tmp_path, options=OPTIONS, batch_size=2)


@pytest.fixture
def cli_json(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, Any]]:
    """Run ``geryon <argv> --format json``; return the exit code and parsed stdout."""

    def run(*argv: str) -> tuple[int, Any]:
        code = main([*argv, "--format", "json"])
        out = capsys.readouterr().out
        return code, (json.loads(out) if out.strip() else None)

    return run
