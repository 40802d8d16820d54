"""The selection file a wrapper executes, and the identity of its task.

The engine writes ``exec/selections/<selection_id>.json`` before Snakemake starts
(docs/architecture.md). The wrapper re-checks the policy values (spec E3) so a bad
value stops the task before any command runs, with exit code 2.
"""

from __future__ import annotations

import json
import math
import os
import re
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
        data = json.loads(path.read_text(encoding="utf-8"))
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
    )


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


def _setting_problems(s: RunSettings) -> list[tuple[str, str, Any]]:
    checks: list[tuple[str, bool, str, Any]] = [
        (
            "executor",
            s.executor in EXECUTORS,
            f"one of {', '.join(EXECUTORS)}",
            s.executor,
        ),
        (
            "max_concurrent_tasks",
            _positive_int(s.max_concurrent_tasks),
            "an integer >= 1",
            s.max_concurrent_tasks,
        ),
        (
            "cores_per_task",
            _positive_int(s.cores_per_task),
            "an integer >= 1",
            s.cores_per_task,
        ),
        (
            "max_total_cores",
            s.max_total_cores is None
            or (
                _positive_int(s.max_total_cores)
                and s.max_total_cores >= s.cores_per_task
            ),
            "null or an integer >= cores_per_task",
            s.max_total_cores,
        ),
        (
            "max_retries",
            _is_int(s.max_retries) and s.max_retries >= 0,
            "an integer >= 0",
            s.max_retries,
        ),
        (
            "command_timeout_sec",
            s.command_timeout_sec is None
            or (_is_number(s.command_timeout_sec) and s.command_timeout_sec > 0),
            "null or a number > 0",
            s.command_timeout_sec,
        ),
        (
            "max_failures",
            s.max_failures is None or _positive_int(s.max_failures),
            "null or an integer >= 1",
            s.max_failures,
        ),
        (
            "fail_fast_threshold",
            s.fail_fast_threshold is None
            or (_is_number(s.fail_fast_threshold) and 0 < s.fail_fast_threshold <= 1),
            "null or a fraction in (0, 1]",
            s.fail_fast_threshold,
        ),
        (
            "fail_fast_min_finished",
            _positive_int(s.fail_fast_min_finished),
            "an integer >= 1",
            s.fail_fast_min_finished,
        ),
        (
            "retry_on_status",
            set(s.retry_on_status) <= set(RETRYABLE_STATUSES),
            "a subset of failed, terminated",
            list(s.retry_on_status),
        ),
        (
            "kill_grace_sec",
            _is_number(s.kill_grace_sec) and s.kill_grace_sec >= 0,
            "a number >= 0",
            s.kill_grace_sec,
        ),
        (
            "env",
            all(_ENV_NAME.match(str(k)) for k in s.env),
            "variable names matching [A-Za-z_][A-Za-z0-9_]*",
            sorted(s.env),
        ),
    ]
    return [(key, expected, value) for key, ok, expected, value in checks if not ok]


def _positive_int(value: Any) -> bool:
    return _is_int(value) and value >= 1
