"""Helpers of the workflow-module tests: the module's files and a real Snakemake."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]
WORKFLOW_DIR = REPO / "workflow"
MODULE_SNAKEFILE = WORKFLOW_DIR / "Snakefile"
EXAMPLE_DIR = REPO / "examples" / "pipeline"
SNAKEMAKE_TIMEOUT_SEC = 300


def load_sweep_helpers() -> ModuleType:
    """``workflow/scripts/geryon_sweep.py``, imported the way the Snakefile does."""
    name = "geryon_workflow_sweep"
    if name not in sys.modules:
        path = WORKFLOW_DIR / "scripts" / "geryon_sweep.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def venv_env() -> dict[str, str]:
    """The environment ``uv run`` gives: the venv's bin first on PATH, so that
    ``python`` in planned commands is the Python that has Hydra."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def snakemake(
    workdir: Path, *args: str, cores: int = 2
) -> subprocess.CompletedProcess[str]:
    """Plain ``python -m snakemake`` in ``workdir`` (output merged into stdout)."""
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", str(cores), *args],
        cwd=workdir,
        env=venv_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=SNAKEMAKE_TIMEOUT_SEC,
        check=False,
    )


NOTHING_TO_DO = "Nothing to be done (all requested files are present and up to date)."
