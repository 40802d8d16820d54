"""Fixtures of the Slurm tests: a reachable cluster, planned runs, profiles.

Tests marked ``slurm`` need the local cluster of ``scripts/local-slurm.sh start``.
Without a reachable cluster they are skipped with the reason, except under CI
(``CI`` set), where a missing cluster is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from slurm_plans import write_plan


def _cluster_problem() -> str | None:
    for tool in ("sinfo", "sbatch", "squeue", "scancel"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (run scripts/local-slurm.sh start as root)"
    try:
        done = subprocess.run(
            ["sinfo", "-h", "-o", "%t"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as err:
        return f"sinfo failed: {err}"
    states = done.stdout.split()
    if done.returncode != 0 or not any(
        s.rstrip("*~#") in ("idle", "mix", "alloc") for s in states
    ):
        return f"no usable Slurm node (sinfo: {done.stdout.strip() or done.stderr.strip()})"
    return None


@pytest.fixture(scope="session")
def slurm_cluster() -> None:
    problem = _cluster_problem()
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the local Slurm cluster: {problem}")
    pytest.skip(f"no Slurm cluster reachable: {problem}")


@pytest.fixture
def slurm_plan(tmp_path: Path):
    def make(commands: list[str], *, batch_size: int, name: str = "run1") -> Path:
        return write_plan(
            tmp_path / "out" / "runs" / name, commands, batch_size=batch_size
        )

    return make


@pytest.fixture
def profiles_file(tmp_path: Path):
    """A profiles file with one profile ``p`` made of the given YAML lines."""

    def make(body: str) -> Path:
        path = tmp_path / "profiles.yaml"
        indented = "".join(f"    {line}\n" for line in body.strip().splitlines())
        path.write_text(f"profiles:\n  p:\n{indented}")
        return path

    return make
