"""geryon: plan and run giant Hydra experiment sweeps on Snakemake.

The Python API lives in :mod:`geryon.api`; its names are available here too
(``geryon.plan_experiment``, ``geryon.status``…). They are imported on first
use, so ``import geryon`` stays cheap for the batch wrapper, which starts once
per batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from geryon.errors import ConfigError, GeryonError

__version__ = "0.1.0"

if TYPE_CHECKING:
    from geryon.api import (
        Composition,
        ConfigOutcome,
        ExecutionReport,
        ExecutionRequest,
        PlanResult,
        Profile,
        ProfilesFile,
        RecoverResult,
        ResolvedSettings,
        RunLayout,
        RunSettings,
        clean,
        collect,
        compose_experiment,
        execute,
        iter_attempts,
        iter_configs,
        list_profiles,
        load_batches,
        load_profiles,
        main,
        open_run,
        plan_all_run_sets,
        plan_experiment,
        read_jsonl,
        recover,
        report,
        report_markdown,
        rerun,
        resolve_profile,
        run_local,
        run_set_names,
        status,
        validate_experiment,
    )

__all__ = [
    "Composition",
    "ConfigError",
    "ConfigOutcome",
    "ExecutionReport",
    "ExecutionRequest",
    "GeryonError",
    "PlanResult",
    "Profile",
    "ProfilesFile",
    "RecoverResult",
    "ResolvedSettings",
    "RunLayout",
    "RunSettings",
    "__version__",
    "clean",
    "collect",
    "compose_experiment",
    "execute",
    "iter_attempts",
    "iter_configs",
    "list_profiles",
    "load_batches",
    "load_profiles",
    "main",
    "open_run",
    "plan_all_run_sets",
    "plan_experiment",
    "read_jsonl",
    "recover",
    "report",
    "report_markdown",
    "rerun",
    "resolve_profile",
    "run_local",
    "run_set_names",
    "status",
    "validate_experiment",
]

_API_NAMES = frozenset(__all__) - {"ConfigError", "GeryonError", "__version__"}


def __getattr__(name: str) -> Any:
    if name in _API_NAMES:
        from geryon import api

        return getattr(api, name)
    raise AttributeError(f"module 'geryon' has no attribute {name!r}")
