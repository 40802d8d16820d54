"""Attempt records (spec E34) and the task summary (spec E37)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from geryon.settings import RunSettings
from geryon.timefmt import iso_micro
from geryon.wrapper.launch import Outcome
from geryon.wrapper.selection import TaskIdentity

HOSTNAME = socket.gethostname()


def attempt_record(
    outcome: Outcome,
    *,
    run_id: str,
    task: TaskIdentity,
    executor: str,
    attempt_index: int,
    parent_attempt_id: str | None,
) -> dict[str, Any]:
    """One line of ``exec/results/task_<J>_<T>.jsonl``.

    Besides the spec's fields it carries ``signal`` (the signal name when the
    command died of one) and ``assigned_cores``; ``status_reason`` is one of
    ``timeout_kill``, ``signal``, ``interrupted`` or null.
    """
    launch = outcome.launch
    status, reason = outcome.status()
    duration = (outcome.end_time - outcome.start_time).total_seconds()
    return {
        "run_id": run_id,
        "config_id": launch.config_id,
        "batch_index": launch.batch_index,
        "line_index": launch.line_index,
        "attempt_id": launch.attempt_id,
        "attempt_index": attempt_index,
        "parent_attempt_id": parent_attempt_id,
        "hostname": HOSTNAME,
        "pid": outcome.pid,
        "tmux_session": outcome.tmux_session,
        "job_id": task.job_id,
        "array_task_id": task.array_task_id,
        "start_time": iso_micro(outcome.start_time),
        "end_time": iso_micro(outcome.end_time),
        "duration_sec": round(max(duration, 0.0), 6),
        "exit_code": outcome.exit_code,
        "status": status,
        "status_reason": reason,
        "signal": outcome.signal_name,
        "stdout_path": str(launch.stdout_path),
        "stderr_path": str(launch.stderr_path),
        "command": launch.command,
        "executor": executor,
        "assigned_cores": list(outcome.assigned_cores),
        "selected_options": launch.config.get("selected_options", {}),
    }


def policy(settings: RunSettings) -> dict[str, Any]:
    return {
        "command_timeout_sec": settings.command_timeout_sec,
        "max_retries": settings.max_retries,
        "retry_on_status": list(settings.retry_on_status),
        "max_failures": settings.max_failures,
        "max_failure_rate": settings.fail_fast_threshold,
        "fail_fast_min_finished": settings.fail_fast_min_finished,
        "scope": "selection",
    }


@dataclass
class Counters:
    """Attempt and config counts of one task."""

    total: int = 0
    success: int = 0
    failed: int = 0
    terminated: int = 0
    skipped_resume: int = 0
    skipped_not_selected: int = 0
    skipped_fail_fast: int = 0
    retry_scheduled: int = 0
    fail_fast_triggered: bool = False
    fail_fast_reason: str | None = None

    def count_status(self, status: str) -> None:
        if status == "success":
            self.success += 1
        elif status == "terminated":
            self.terminated += 1
        else:
            self.failed += 1

    def as_dict(self) -> dict[str, Any]:
        """The counters of the task summary (spec E37)."""
        keys = (
            "total",
            "success",
            "failed",
            "terminated",
            "skipped_resume",
            "skipped_not_selected",
            "skipped_fail_fast",
            "retry_scheduled",
            "fail_fast_triggered",
            "fail_fast_reason",
        )
        return {key: getattr(self, key) for key in keys}
