"""The selection file a wrapper executes, and the identity of its task.

The engine writes ``exec/selections/<selection_id>.json`` before Snakemake starts
(docs/architecture.md). The wrapper re-checks the policy values (spec E3) so a bad
value stops the task before any command runs, with exit code 2.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon.errors import ConfigError
from geryon.settings import EXECUTORS, RETRYABLE_STATUSES, RunSettings

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Selection:
    """One execution's choice of batches, configs and settings."""

    path: Path
    selection_id: str
    backend: str
    batch_indices: tuple[int, ...]
    include_config_ids: tuple[str, ...]
    explicit_config_ids: frozenset[str]
    resume: bool
    dry_run: bool
    settings: RunSettings
    execution_key: str

    @property
    def submission_id(self) -> str | None:
        """Events carry a submission id under Slurm only (spec E36)."""
        return self.selection_id if self.backend == "slurm" else None


@dataclass(frozen=True)
class TaskIdentity:
    job_id: str
    array_task_id: str


def task_identity(batch_indices: list[int]) -> TaskIdentity:
    """``$SLURM_JOB_ID`` or ``local``; ``$SLURM_ARRAY_TASK_ID``, else ``0`` under Slurm
    and the first batch index locally (so a repeated local run appends to the same
    task files)."""
    job_id = os.environ.get("SLURM_JOB_ID") or "local"
    array_task_id = os.environ.get("SLURM_ARRAY_TASK_ID")
    if not array_task_id:
        in_slurm = job_id != "local"
        array_task_id = "0" if in_slurm or not batch_indices else str(batch_indices[0])
    return TaskIdentity(job_id, array_task_id)


def load_selection(path: Path) -> Selection:
    """Read and check a selection file; any problem is a :class:`ConfigError`."""
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
        mtime_ns = path.stat().st_mtime_ns
    except FileNotFoundError as err:
        raise ConfigError(
            "selection file not found",
            file=path,
            hint="The engine writes it before Snakemake starts; rerun the run command",
        ) from err
    except ValueError as err:
        raise ConfigError(
            f"selection file is not valid JSON ({err})", file=path
        ) from err
    if not isinstance(data, dict):
        raise ConfigError("selection file must hold a JSON object", file=path)
    settings = _settings(path, data.get("settings", {}))
    check_settings(settings, file=path)
    return Selection(
        path=path,
        selection_id=_text(path, data, "selection_id"),
        backend=str(data.get("backend") or "local"),
        batch_indices=tuple(_int_list(path, data, "batch_indices")),
        include_config_ids=tuple(
            dict.fromkeys(_str_list(path, data, "include_config_ids"))
        ),
        explicit_config_ids=frozenset(_str_list(path, data, "explicit_config_ids")),
        resume=_bool(path, data, "resume"),
        dry_run=_bool(path, data, "dry_run"),
        settings=settings,
        execution_key=_execution_key(raw, mtime_ns),
    )


def _execution_key(raw: bytes, mtime_ns: int) -> str:
    """Identifies one execution of a selection. Selection ids are stable across
    executions of the same batches, but the engine rewrites the file (with a new
    ``created_at``) for each one; run-wide state such as fail-fast counters must
    not leak from one execution into the next."""
    return hashlib.sha1(raw + str(mtime_ns).encode()).hexdigest()[:12]


def _settings(path: Path, raw: Any) -> RunSettings:
    if not isinstance(raw, dict):
        raise ConfigError("expected an object", file=path, key_path="settings")
    try:
        return RunSettings.from_json(raw)
    except TypeError as err:
        raise ConfigError(
            f"invalid settings ({err})", file=path, key_path="settings"
        ) from err


def _text(path: Path, data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError("expected a non-empty string", file=path, key_path=key)
    return value


def _bool(path: Path, data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ConfigError(
            f"expected true or false, got {value!r}", file=path, key_path=key
        )
    return value


def _int_list(path: Path, data: dict[str, Any], key: str) -> list[int]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(_is_int(item) for item in value):
        raise ConfigError("expected a list of integers", file=path, key_path=key)
    return list(value)


def _str_list(path: Path, data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(i, str) for i in value):
        raise ConfigError(
            "expected a list of config id strings", file=path, key_path=key
        )
    return [item for item in value if item]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or (isinstance(value, float) and math.isfinite(value))


def check_settings(settings: RunSettings, *, file: Path) -> None:
    """Spec E2.7 and E3, re-checked where the commands run (Q24)."""
    problems = list(_setting_problems(settings))
    if problems:
        key, expected, value = problems[0]
        raise ConfigError(
            f"expected {expected}, got {value!r}",
            file=file,
            key_path=f"settings.{key}",
            hint="Fix the profile value (profiles.yaml defaults) and run again",
        )


def _positive_int(value: Any) -> bool:
    return _is_int(value) and value >= 1


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


def _fraction(value: Any) -> bool:
    return _is_number(value) and 0 < value <= 1


# (setting, test of its value, what is expected); spec E2.7 and E3.
_CHECKS: tuple[tuple[str, Callable[[Any], bool], str], ...] = (
    ("executor", lambda v: v in EXECUTORS, f"one of {', '.join(EXECUTORS)}"),
    ("max_concurrent_tasks", _positive_int, "an integer >= 1"),
    ("cores_per_task", _positive_int, "an integer >= 1"),
    (
        "max_total_cores",
        _optional(_positive_int),
        "null or an integer >= 1",
    ),
    ("max_retries", lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    (
        "command_timeout_sec",
        _optional(lambda v: _is_number(v) and v > 0),
        "null or a number > 0",
    ),
    ("max_failures", _optional(_positive_int), "null or an integer >= 1"),
    ("fail_fast_threshold", _optional(_fraction), "null or a fraction in (0, 1]"),
    ("fail_fast_min_finished", _positive_int, "an integer >= 1"),
    (
        "retry_on_status",
        lambda v: set(v) <= set(RETRYABLE_STATUSES),
        "a subset of failed, terminated",
    ),
    ("kill_grace_sec", lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    (
        "env",
        lambda v: all(_ENV_NAME.match(str(k)) for k in v),
        "variable names matching [A-Za-z_][A-Za-z0-9_]*",
    ),
)


def _setting_problems(settings: RunSettings) -> list[tuple[str, str, Any]]:
    problems = [
        (key, expected, getattr(settings, key))
        for key, ok, expected in _CHECKS
        if not ok(getattr(settings, key))
    ]
    total = settings.max_total_cores
    if not problems and total is not None and total < settings.cores_per_task:
        problems.append(("max_total_cores", "null or at least cores_per_task", total))
    return problems
