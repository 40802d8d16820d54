"""The ``pylauncher`` executor: one PyLauncher run per wave.

PyLauncher 4.0 (``pylauncher.pylauncher``) runs the lines of a command file on a
pool of slots: ``LocalLauncher`` on this machine, ``ClassicLauncher`` on the nodes
of a Slurm allocation (chosen when ``SLURM_NODELIST`` and ``SLURM_CPUS_ON_NODE`` are
set). It runs in a child process because it changes directory, prints and sleeps.

Its quirks shape the command file: a line is ``<cores>,<command>`` (we pass
``cores="file"`` so a comma inside a path is not taken for a core count), and its
scratch and stamp directories are pasted unquoted into shell lines and matched as
regular expressions, so the launcher runs in a fresh ``/tmp/geryon-pyl-*``
directory. Each line runs :mod:`geryon.wrapper.driver`, which enforces the timeout,
records exit status and epoch times, and skips the command once fail-fast stopped
the selection.

The wave's CPUs are claimed together and the launcher is pinned to them; its
commands share those CPUs (PyLauncher has no per-slot binding locally), which is
why every record of the wave lists the whole set.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from geryon.errors import GeryonError
from geryon.timefmt import utc_now
from geryon.wrapper.cores import pin_current_process
from geryon.wrapper.executors import ExecContext
from geryon.wrapper.executors.driven import (
    driver_argv,
    outcome_from_result,
    read_json,
    remove_driver_files,
    write_driver_spec,
)
from geryon.wrapper.launch import Launch, Outcome
from geryon.wrapper.proc import die_with_parent, process_running, signal_group

log = logging.getLogger("geryon.wrapper.pylauncher")

# PyLauncher sleeps this long between scheduling ticks (its default is 0.5 s).
TICK_SEC = 0.05

# ClassicLauncher finds the allocation's hosts through PyLauncher's table of TACC
# and PACE clusters; elsewhere ClusterName() is None and HostListByName() fails
# with a TypeError (PyLauncher 4.0, checked here). On such clusters the wave runs
# with LocalLauncher on the batch job's node, which is where Snakemake put the job.
_SCRIPT = """\
import sys
from pylauncher import pylauncher
mode = sys.argv[1]
if mode == "classic" and pylauncher.ClusterName() is None:
    print("geryon: PyLauncher does not know this cluster; using LocalLauncher", flush=True)
    mode = "local"
if mode == "classic":
    pylauncher.ClassicLauncher("commands.txt", cores="file", workdir="stamps", delay={tick})
else:
    pylauncher.LocalLauncher(
        "commands.txt", int(sys.argv[2]), cores="file", workdir="stamps", delay={tick}
    )
"""


def child_setup(cpus: list[int]) -> Callable[[], None]:
    """The launcher's ``preexec_fn``: pin it (its commands inherit the CPUs) and have
    it killed when the wrapper dies. It runs once per wave, so the slower spawn
    path a ``preexec_fn`` forces does not matter here."""

    def setup() -> None:
        pin_current_process(cpus)
        die_with_parent()

    return setup


def in_slurm_allocation() -> bool:
    return bool(
        os.environ.get("SLURM_NODELIST") and os.environ.get("SLURM_CPUS_ON_NODE")
    )


class PylauncherUnit:
    own_timeout = True

    def __init__(
        self, context: ExecContext, launches: list[Launch], cores: list[int], slots: int
    ) -> None:
        self.launches = launches
        self.cores = cores
        self._context = context
        self.pid: int | None = None
        self.session: str | None = None
        self._scratch = Path(tempfile.mkdtemp(prefix="geryon-pyl-"))
        self._write_commands(launches, cores, slots)
        self.start_time = utc_now()
        self.started = time.monotonic()
        self._log = context.task_dir / f"pylauncher_{os.getpid()}.log"
        self._log.parent.mkdir(parents=True, exist_ok=True)
        mode = "classic" if in_slurm_allocation() else "local"
        with self._log.open("ab") as log:
            self.popen = subprocess.Popen(
                [sys.executable, "launch.py", mode, str(slots)],
                cwd=self._scratch,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
                preexec_fn=child_setup(cores),
            )
        context.watchdog.watch_group(self.popen.pid)
        self._pending = {launch.attempt_id: launch for launch in launches}
        self._dropped: list[Launch] = []
        self._terminated = False

    def _write_commands(
        self, launches: list[Launch], cores: list[int], slots: int
    ) -> None:
        lines = []
        for launch in launches:
            spec = write_driver_spec(
                self._context,
                launch,
                cores,
                timeout=True,
                threads=self._context.settings.cores_per_task,
            )
            lines.append("1," + shlex.join(driver_argv(spec)))
        (self._scratch / "commands.txt").write_text("\n".join(lines) + "\n")
        (self._scratch / "launch.py").write_text(_SCRIPT.format(tick=TICK_SEC))

    def poll(self) -> list[Outcome]:
        done = self.popen.poll() is not None
        outcomes = []
        for attempt_id, launch in list(self._pending.items()):
            result = read_json(launch.side_file(".result.json"))
            if result is None and (not done or self._driver_running(launch)):
                continue
            del self._pending[attempt_id]
            never_ran = self._never_ran(launch, result)
            remove_driver_files(launch)
            if never_ran:
                self._dropped.append(launch)
                continue
            outcomes.append(
                outcome_from_result(launch, result, self.cores, self.start_time)
            )
        if done and not self._pending:
            self._finish()
        return outcomes

    @staticmethod
    def _driver_running(launch: Launch) -> bool:
        """A driver can outlive the launcher for a moment (it was signalled with it
        and is still stopping its command); wait for its result."""
        start = read_json(launch.side_file(".start.json")) or {}
        pid = start.get("driver_pid")
        return isinstance(pid, int) and process_running(pid)

    def _never_ran(self, launch: Launch, result: dict[str, object] | None) -> bool:
        """Skipped by its driver (fail-fast), or never started before we stopped the
        launcher: such launches get no attempt record."""
        if result is not None:
            return bool(result.get("skipped"))
        return self._terminated and not launch.side_file(".start.json").exists()

    def _finish(self) -> None:
        if self.popen.returncode and not self._terminated:
            log.warning(
                "PyLauncher exited with status %s; its output is in %s",
                self.popen.returncode,
                self._log,
            )
        if self._scratch.exists():
            self._context.watchdog.forget_group(self.popen.pid)
            signal_group(self.popen.pid, signal.SIGKILL)
            shutil.rmtree(self._scratch, ignore_errors=True)

    def finished(self) -> bool:
        return not self._pending and self.popen.poll() is not None

    def dropped(self) -> list[Launch]:
        dropped, self._dropped = self._dropped, []
        return dropped

    def terminate(self) -> None:
        self._terminated = True
        signal_group(self.popen.pid, signal.SIGTERM)

    def kill(self) -> None:
        signal_group(self.popen.pid, signal.SIGKILL)


class PylauncherExecutor:
    name = "pylauncher"
    whole_wave = True
    poll_interval_sec = 0.05

    def __init__(self, context: ExecContext) -> None:
        if importlib.util.find_spec("pylauncher") is None:
            raise GeryonError(
                "executor 'pylauncher' needs the pylauncher package (pip install "
                "'geryon[pylauncher]'); or use executor: process"
            )
        self.context = context

    def start(self, launches: list[Launch], cores: list[int]) -> PylauncherUnit:
        slots = max(1, len(cores) // self.context.settings.cores_per_task)
        return PylauncherUnit(self.context, launches, cores, slots)
