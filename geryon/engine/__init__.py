"""The Snakemake bridge: selections, Snakefile rendering, running Snakemake.

Every run command (``run-local``, ``run-slurm``, ``launch``, ``recover``) ends
in one call::

    report = execute(ExecutionRequest(run_dir=..., backend="local", ...))
    report.exit_code   # 0 iff every selected config succeeded
    report.to_json()   # the command's --format json payload
"""

from __future__ import annotations

from geryon.engine.request import ConfigOutcome, ExecutionReport, ExecutionRequest
from geryon.engine.runner import execute, prepare

__all__ = [
    "ConfigOutcome",
    "ExecutionReport",
    "ExecutionRequest",
    "execute",
    "prepare",
]
