"""Resolved execution settings, shared by the runner (writer) and the batch wrapper.

The runner resolves built-in defaults, the profile and CLI flags into one
:class:`RunSettings` (spec E1, F12) and writes it into the selection file of an
execution; the wrapper reads it back. Nothing downstream re-resolves profiles.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

EXECUTORS = ("process", "tmux", "pylauncher")
RETRYABLE_STATUSES = ("failed", "terminated")


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """How the commands of a run execute. Validated where it is built (the runner)."""

    executor: str = "process"
    max_concurrent_tasks: int = 1
    cores_per_task: int = 1
    max_total_cores: int | None = None
    cores: str | None = None
    batches_per_task: int = 1
    command_timeout_sec: float | None = None
    max_retries: int = 0
    retry_on_status: tuple[str, ...] = RETRYABLE_STATUSES
    max_failures: int | None = None
    fail_fast_threshold: float | None = None
    fail_fast_min_finished: int = 5
    resume: bool = False
    progress: bool = False
    env_script: str | None = None
    env_setup_cmds: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    kill_grace_sec: float = 5.0
    tmux_prefix: str = "geryon"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["retry_on_status"] = list(self.retry_on_status)
        data["env_setup_cmds"] = list(self.env_setup_cmds)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSettings:
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for key in ("retry_on_status", "env_setup_cmds"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)
