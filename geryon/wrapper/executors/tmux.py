"""The ``tmux`` executor: one detached tmux session per command attempt.

The session runs :mod:`geryon.wrapper.driver`, which pins the command, redirects
its output and writes the exit status. The session gets the wrapper's full
environment through the driver spec, because a tmux server started earlier would
otherwise hand out its own. Every session is registered in
``exec/state/tmux_sessions/<name>.json`` while it runs, so sessions left by a
wrapper that was killed can be found and killed later (:func:`kill_stale_sessions`).
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from datetime import datetime
from pathlib import Path

from geryon.errors import GeryonError
from geryon.layout import RunLayout
from geryon.sanitize import path_component
from geryon.storage import write_json_atomic
from geryon.timefmt import utc_now
from geryon.wrapper.executors import ExecContext
from geryon.wrapper.executors.driven import (
    driver_argv,
    outcome_from_result,
    read_json,
    remove_driver_files,
    write_driver_spec,
)
from geryon.wrapper.launch import Launch, Outcome
from geryon.wrapper.proc import process_running, signal_group
from geryon.wrapper.watchdog import kill_tmux_session

log = logging.getLogger("geryon.wrapper.tmux")

# A session that vanished may still be writing its result; re-check this often.
_SESSION_CHECK_SEC = 0.5


def session_name(prefix: str, launch: Launch) -> str:
    """``<prefix>_b<B>_l<L>_<a6>``, sanitised; tmux forbids ``.`` and ``:``."""
    raw = f"{prefix}_b{launch.batch_index}_l{launch.line_index}_{launch.attempt_id[:6]}"
    return path_component(raw).replace(".", "_")[:180]


def sessions_dir(layout: RunLayout) -> Path:
    return layout.state_dir / "tmux_sessions"


def session_alive(name: str) -> bool:
    result = subprocess.run(
        ["tmux", "has-session", "-t", f"={name}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return result.returncode == 0


def kill_stale_sessions(layout: RunLayout) -> list[str]:
    """Kill registered sessions whose wrapper process is gone; return their names.

    Only sessions registered on this host are considered (a pid means nothing on
    another machine). ``geryon clean`` can call this before deleting ``exec/``.
    """
    killed = []
    directory = sessions_dir(layout)
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        entry = read_json(path) or {}
        pid = entry.get("pid")
        if entry.get("hostname") != socket.gethostname():
            continue
        if isinstance(pid, int) and process_running(pid):
            continue
        if kill_tmux_session(str(entry.get("session"))):
            killed.append(str(entry.get("session")))
        path.unlink(missing_ok=True)
    return killed


class TmuxUnit:
    own_timeout = False

    def __init__(self, context: ExecContext, launch: Launch, cores: list[int]) -> None:
        self.launches = [launch]
        self.cores = cores
        self._context = context
        self.name = self.session = session_name(context.settings.tmux_prefix, launch)
        self.pid: int | None = None
        self._registry = sessions_dir(context.layout) / f"{self.name}.json"
        spec = write_driver_spec(context, launch, cores, timeout=False)
        write_json_atomic(
            self._registry,
            {
                "session": self.name,
                "pid": os.getpid(),
                "hostname": socket.gethostname(),
            },
        )
        self.start_time: datetime = utc_now()
        self.started = time.monotonic()
        context.watchdog.watch_session(self.name)
        self._spawn(spec)
        self._next_check = self.started + _SESSION_CHECK_SEC
        self._outcome: Outcome | None = None

    def _spawn(self, spec: Path) -> None:
        argv = [
            "tmux",
            "new-session",
            "-d",
            "-s",
            self.name,
            "-c",
            str(self._context.cwd),
        ]
        result = subprocess.run(
            [*argv, *driver_argv(spec)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            self._forget()
            raise GeryonError(
                f"tmux could not start session {self.name}: {result.stderr.strip()}"
            )

    def _start_info(self) -> dict[str, object] | None:
        return read_json(self.launches[0].side_file(".start.json"))

    def poll(self) -> list[Outcome]:
        if self._outcome is not None:
            return []
        launch = self.launches[0]
        result = read_json(launch.side_file(".result.json"))
        if result is None:
            now = time.monotonic()
            if now < self._next_check:
                return []
            self._next_check = now + _SESSION_CHECK_SEC
            if session_alive(self.name):
                return []
            result = read_json(launch.side_file(".result.json"))
        outcome = outcome_from_result(launch, result, self.cores, self.start_time)
        start = self._start_info() or {}
        driver_pid = start.get("driver_pid")
        outcome.pid = driver_pid if isinstance(driver_pid, int) else None
        outcome.tmux_session = self.name
        self._outcome = outcome
        self._forget()
        remove_driver_files(launch)
        return [outcome]

    def _forget(self) -> None:
        kill_tmux_session(self.name)
        self._context.watchdog.forget_session(self.name)
        self._registry.unlink(missing_ok=True)

    def finished(self) -> bool:
        return self._outcome is not None

    def dropped(self) -> list[Launch]:
        return []

    def _signal(self, sig: int) -> None:
        start = self._start_info()
        pgid = start.get("pgid") if start else None
        if not isinstance(pgid, int) or not signal_group(pgid, sig):
            kill_tmux_session(self.name)

    def terminate(self) -> None:
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal(signal.SIGKILL)


class TmuxExecutor:
    name = "tmux"
    whole_wave = False
    poll_interval_sec = 0.02

    def __init__(self, context: ExecContext) -> None:
        if shutil.which("tmux") is None:
            raise GeryonError(
                "executor 'tmux' needs the tmux program, which is not on PATH; "
                "install tmux or use executor: process"
            )
        self.context = context
        for name in kill_stale_sessions(context.layout):
            log.warning("killed tmux session %s left by a wrapper that died", name)

    def start(self, launches: list[Launch], cores: list[int]) -> TmuxUnit:
        return TmuxUnit(self.context, launches[0], cores)
