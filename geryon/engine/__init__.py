"""The Snakemake bridge: selections, Snakefile rendering, running Snakemake.

Every run command (``run-local``, ``run-slurm``, ``launch``, ``recover``) ends
in one call::

    report = execute(ExecutionRequest(run_dir=..., backend="local", ...))
    report.exit_code   # 0 iff every selected config succeeded
    report.to_json()   # the command's --format json payload
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geryon.engine.request import (
        ConfigOutcome,
        ExecutionReport,
        ExecutionRequest,
    )
    from geryon.engine.runner import execute, prepare

__all__ = [
    "ConfigOutcome",
    "ExecutionReport",
    "ExecutionRequest",
    "execute",
    "prepare",
]

_HOMES = {
    "ConfigOutcome": "geryon.engine.request",
    "ExecutionReport": "geryon.engine.request",
    "ExecutionRequest": "geryon.engine.request",
    "execute": "geryon.engine.runner",
    "prepare": "geryon.engine.runner",
}


def __getattr__(name: str) -> Any:
    """Names load on first use, so ``python -m geryon.engine.local_snakemake``
    starts without geryon's runner (rich, psutil, the profiles loader)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'geryon.engine' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(home), name)
