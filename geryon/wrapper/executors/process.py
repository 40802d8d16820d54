"""The ``process`` executor: each command is a child ``bash -c`` in its own process
group, pinned to its claimed CPUs from the moment it exists. When the command ends,
whatever it left running in its group is killed; when the wrapper is killed, its
watchdog kills the groups (:mod:`geryon.wrapper.watchdog`)."""

from __future__ import annotations

import signal
import subprocess
import time

from geryon.timefmt import utc_now
from geryon.wrapper.cores import (
    affinity_for_children,
    affinity_supported,
    thread_environment,
)
from geryon.wrapper.executors import ExecContext
from geryon.wrapper.launch import Launch, Outcome
from geryon.wrapper.proc import signal_group


class ProcessUnit:
    own_timeout = False

    def __init__(self, context: ExecContext, launch: Launch, cores: list[int]) -> None:
        self.launches = [launch]
        self.cores = cores
        self._context = context
        env = {**context.base_env, **thread_environment(cores, context.base_env)}
        launch.stdout_path.parent.mkdir(parents=True, exist_ok=True)
        self.start_time = utc_now()
        self.started = time.monotonic()
        with (
            launch.stdout_path.open("wb") as out,
            launch.stderr_path.open("wb") as err,
            affinity_for_children(cores),
        ):
            self.popen = subprocess.Popen(
                ["bash", "-c", launch.command],
                cwd=context.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                process_group=0,
            )
        self.pgid = self.pid = self.popen.pid
        self.session: str | None = None
        context.watchdog.watch_group(self.pgid)
        self._outcome: Outcome | None = None

    def poll(self) -> list[Outcome]:
        if self._outcome is not None:
            return []
        code = self.popen.poll()
        if code is None:
            return []
        # Background programs the command left in its group must not outlive it.
        signal_group(self.pgid, signal.SIGKILL)
        self._context.watchdog.forget_group(self.pgid)
        self._outcome = Outcome(
            launch=self.launches[0],
            start_time=self.start_time,
            end_time=utc_now(),
            exit_code=code,
            pid=self.popen.pid,
            assigned_cores=self.cores,
        )
        return [self._outcome]

    def finished(self) -> bool:
        return self._outcome is not None

    def dropped(self) -> list[Launch]:
        return []

    def terminate(self) -> None:
        signal_group(self.pgid, signal.SIGTERM)

    def kill(self) -> None:
        signal_group(self.pgid, signal.SIGKILL)


class ProcessExecutor:
    name = "process"
    whole_wave = False
    # Completions wake the loop through SIGCHLD; this is only a safety net.
    poll_interval_sec = 0.25

    def __init__(self, context: ExecContext) -> None:
        self.context = context
        affinity_supported()

    def start(self, launches: list[Launch], cores: list[int]) -> ProcessUnit:
        return ProcessUnit(self.context, launches[0], cores)
