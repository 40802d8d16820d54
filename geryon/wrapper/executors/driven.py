"""Helpers shared by the executors that run commands through :mod:`driver`."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from geryon.storage import write_json_atomic
from geryon.wrapper.cores import thread_environment
from geryon.wrapper.executors import ExecContext
from geryon.wrapper.launch import Launch, Outcome


def write_driver_spec(
    context: ExecContext,
    launch: Launch,
    cores: list[int],
    *,
    timeout: bool,
    threads: int | None = None,
) -> Path:
    """Write the driver's spec next to the command logs; return its path."""
    launch.stdout_path.parent.mkdir(parents=True, exist_ok=True)
    remove_driver_files(launch)
    spec_path = launch.side_file(".driver.json")
    env = {
        **context.base_env,
        **thread_environment(cores, context.base_env, threads=threads),
    }
    settings = context.settings
    write_json_atomic(
        spec_path,
        {
            "command": launch.command,
            "cwd": str(context.cwd),
            "env": env,
            "cores": cores,
            "stdout": str(launch.stdout_path),
            "stderr": str(launch.stderr_path),
            "start": str(launch.side_file(".start.json")),
            "result": str(launch.side_file(".result.json")),
            "timeout_sec": settings.command_timeout_sec if timeout else None,
            "kill_grace_sec": settings.kill_grace_sec,
            "stop_marker": str(context.stop_marker) if context.stop_marker else None,
        },
    )
    return spec_path


def remove_driver_files(launch: Launch) -> None:
    """Delete the driver's spec, start and result files once the outcome is read:
    the spec holds the whole environment, which may include secrets."""
    for suffix in (".driver.json", ".start.json", ".result.json"):
        launch.side_file(suffix).unlink(missing_ok=True)


def driver_argv(spec_path: Path) -> list[str]:
    return [sys.executable, "-m", "geryon.wrapper.driver", str(spec_path)]


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def outcome_from_result(
    launch: Launch,
    result: dict[str, Any] | None,
    cores: list[int],
    fallback_start: datetime,
) -> Outcome:
    """An outcome from the driver's result file; no file → exit status unknown."""
    if result is None:
        now = datetime.now(UTC)
        return Outcome(launch, fallback_start, now, None, assigned_cores=cores)
    return Outcome(
        launch=launch,
        start_time=datetime.fromtimestamp(float(result["start_epoch"]), UTC),
        end_time=datetime.fromtimestamp(float(result["end_epoch"]), UTC),
        exit_code=result.get("exit_code"),
        pid=result.get("pid"),
        assigned_cores=cores,
        timed_out=bool(result.get("timed_out")),
    )
