"""One attempt of one config: its ids, paths, the command it runs, and its outcome.

The command is the planned command with ``hydra.run.dir=<work dir>`` appended as
the last word (spec E15), behind the environment bootstrap (spec E16). It runs with
``bash -c``, deliberately **not** ``bash -lc`` as upstream did (E17): a login shell
sources ``/etc/profile`` and ``~/.bash_profile``, which on clusters often print
banners, change directory or reset ``PATH``/modules, so the same command would
behave differently per user and per node. Site setup belongs in ``env_script`` /
``env_setup_cmds``, which are part of the recorded command.
"""

from __future__ import annotations

import shlex
import signal
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from geryon.errors import ConfigError
from geryon.layout import RunLayout
from geryon.plan.overrides import hydra_run_dir_word
from geryon.settings import RunSettings
from geryon.wrapper.selection import TaskIdentity


@dataclass
class Launch:
    """A prepared attempt. ``retry_count`` = retries already used for the config."""

    config: dict[str, Any]
    attempt_id: str
    log_base: Path
    workdir: Path
    command: str
    wave_index: int
    retry_count: int = 0

    @property
    def config_id(self) -> str:
        return str(self.config["config_id"])

    @property
    def batch_index(self) -> int:
        return int(self.config["batch_index"])

    @property
    def line_index(self) -> int:
        return int(self.config["line_index"])

    @property
    def stdout_path(self) -> Path:
        return self.log_base.with_name(self.log_base.name + ".stdout.log")

    @property
    def stderr_path(self) -> Path:
        return self.log_base.with_name(self.log_base.name + ".stderr.log")

    def side_file(self, suffix: str) -> Path:
        """A helper file next to the logs (driver spec, result, tmux script)."""
        return self.log_base.with_name(self.log_base.name + suffix)


@dataclass
class Outcome:
    """How an attempt ended, as the executor observed it."""

    launch: Launch
    start_time: datetime
    end_time: datetime
    exit_code: int | None
    pid: int | None = None
    tmux_session: str | None = None
    assigned_cores: list[int] = field(default_factory=list)
    timed_out: bool = False
    interrupted: bool = False

    @property
    def signal_name(self) -> str | None:
        if self.exit_code is None or self.exit_code >= 0:
            return None
        try:
            return signal.Signals(-self.exit_code).name
        except ValueError:
            return f"SIG{-self.exit_code}"

    def status(self) -> tuple[str, str | None]:
        """``(status, status_reason)`` by one rule for every executor (fixes Q29, Q30):
        killed for time → ``terminated``/``timeout_kill`` even if the program then
        exited 0; stopped because the wrapper was interrupted → ``interrupted``; death
        by a signal → ``signal``; no exit status known → ``terminated``; else the
        exit code decides ``success`` or ``failed``."""
        if self.timed_out:
            return "terminated", "timeout_kill"
        if self.interrupted:
            return "terminated", "interrupted"
        if self.signal_name is not None:
            return "terminated", "signal"
        if self.exit_code is None:
            return "terminated", None
        return ("success" if self.exit_code == 0 else "failed"), None


def environment_prefix(settings: RunSettings, env_script: Path | None) -> list[str]:
    """Spec E16: sorted exports, ``source <env_script>``, the setup commands."""
    parts = [
        f"export {name}={shlex.quote(str(settings.env[name]))}"
        for name in sorted(settings.env)
    ]
    if env_script is not None:
        parts.append(f"source {shlex.quote(str(env_script))}")
    parts.extend(cmd.strip() for cmd in settings.env_setup_cmds if cmd.strip())
    return parts


def resolve_env_script(settings: RunSettings, selection_path: Path) -> Path | None:
    """The absolute ``env_script``; it must exist (spec E2.3, re-checked here)."""
    if not settings.env_script:
        return None
    script = Path(settings.env_script).expanduser().resolve()
    if not script.is_file():
        raise ConfigError(
            f"env_script {str(script)!r} does not exist or is not a file",
            file=selection_path,
            key_path="settings.env_script",
            hint="Fix env_script in the profile (paths are resolved when the run starts)",
        )
    return script


def new_launch(
    layout: RunLayout,
    task: TaskIdentity,
    config: dict[str, Any],
    prefix: list[str],
    *,
    wave_index: int,
    retry_count: int = 0,
) -> Launch:
    """Prepare one attempt: fresh attempt id, log stem, work dir and wrapped command."""
    attempt_id = uuid.uuid4().hex
    ids = (
        task.job_id,
        task.array_task_id,
        int(config["batch_index"]),
        int(config["line_index"]),
        str(config["config_id"]),
        attempt_id,
    )
    workdir = layout.workdir(*ids)
    command = f"{config['command']} {hydra_run_dir_word(str(workdir))}"
    if prefix:
        command = " && ".join([*prefix, command])
    return Launch(
        config=config,
        attempt_id=attempt_id,
        log_base=layout.cmd_log_base(*ids),
        workdir=workdir,
        command=command,
        wave_index=wave_index,
        retry_count=retry_count,
    )
