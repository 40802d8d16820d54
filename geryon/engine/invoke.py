"""Starting Snakemake: the command line, backend flags, unlocking, the process.

Every Snakemake call is a subprocess (``python -m snakemake``), never the Python
API, so a Snakemake crash cannot take geryon down and a user can repeat the
exact saved command line.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from geryon.engine.snakefile import RuleSpec
from geryon.errors import ConfigError
from geryon.profiles import Profile
from geryon.settings import RunSettings

log = logging.getLogger("geryon.engine.invoke")

# Fixed flags of every run, and why:
BASE_FLAGS = (
    # The default ILP scheduler took 79-88 s for 2,000 trivial jobs, greedy 24 s.
    "--scheduler",
    "greedy",
    # One failed batch must not stop the others; the run reports all failures.
    "--keep-going",
    # geryon regenerates the Snakefile on every execution; with the default
    # triggers a changed comment or parameter would rerun finished batches.
    "--rerun-triggers",
    "mtime",
    # A batch interrupted by a crash is simply run again: the wrapper resumes it
    # and skips configs that already succeeded. Safe because geryon's run lock
    # and Snakemake's own lock keep a second instance out.
    "--rerun-incomplete",
)


@dataclass(frozen=True)
class BackendSpec:
    """Backend-specific parts: Snakemake flags and the per-rule values."""

    flags: tuple[str, ...]
    rule: RuleSpec
    cores: int
    # Backend facts for the command's output (Slurm: resolved resources).
    details: dict[str, Any] = field(default_factory=dict)
    # The module ``python -m`` starts: Snakemake itself, or for local runs
    # geryon's entry point that skips loading the executor plugins.
    entry_module: str = "snakemake"


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


AVAILABLE_BACKENDS = {"local", "slurm"}
LOCAL_ENTRY_MODULE = "geryon.engine.local_snakemake"


def check_backend(backend: str) -> None:
    """Refuse a backend this installation cannot run yet, before anything happens."""
    if backend not in AVAILABLE_BACKENDS:
        raise ConfigError(
            f"backend {backend!r} is not available yet in this geryon version",
            hint="Use --backend local (run-local)",
        )


def backend_spec(
    backend: str,
    settings: RunSettings,
    *,
    profile: Profile | None = None,
    options: dict[str, Any] | None = None,
) -> BackendSpec:
    """The single dispatch point per backend (the Slurm backend plugs in here)."""
    check_backend(backend)
    if backend == "slurm":
        from geryon.slurm.backend import slurm_backend_spec

        return slurm_backend_spec(settings, profile=profile, options=options or {})
    return _local_spec(settings)


def _local_spec(settings: RunSettings) -> BackendSpec:
    """``--cores`` from ``max_total_cores`` or the machine; a batch job's threads
    are the cores its concurrent commands use, capped by ``--cores``."""
    cores = settings.max_total_cores or available_cores()
    threads = min(cores, settings.cores_per_task * settings.max_concurrent_tasks)
    rule = RuleSpec(threads=max(1, threads), resources={}, log_job_id="local")
    return BackendSpec(
        flags=("--cores", str(cores)),
        rule=rule,
        cores=cores,
        entry_module=LOCAL_ENTRY_MODULE,
    )


def snakemake_command(
    snakefile: Path, spec: BackendSpec, extra_args: tuple[str, ...] = ()
) -> list[str]:
    """``python -m snakemake -s <Snakefile> <backend flags> <fixed flags> <user's>``.

    Local runs start :mod:`geryon.engine.local_snakemake` instead (0.4 s faster),
    unless the user passed Snakemake flags, which might belong to a plugin.
    """
    module = spec.entry_module if not extra_args else "snakemake"
    return [
        sys.executable,
        "-m",
        module,
        "-s",
        str(snakefile),
        *spec.flags,
        *BASE_FLAGS,
        *extra_args,
    ]


def unlock_if_stale(snakefile: Path, exec_dir: Path) -> bool:
    """Remove a dead Snakemake's lock (after ``kill -9``), never a live one's.

    Snakemake refuses to start while ``.snakemake/locks`` holds files; after a
    crash only ``--unlock`` clears them. It is run only when no Snakemake process
    works in ``exec_dir`` (geryon's run lock already excludes other geryons).
    """
    locks = exec_dir / ".snakemake" / "locks"
    if not locks.is_dir() or not any(locks.iterdir()):
        return False
    alive = snakemake_processes(exec_dir)
    if alive:
        log.warning("Snakemake pid %s is working on %s; not unlocking", alive, exec_dir)
        return False
    command = [sys.executable, "-m", "snakemake", "-s", str(snakefile), "--unlock"]
    log.info("removing a stale Snakemake lock: %s", shlex.join(command))
    subprocess.run(command, cwd=exec_dir, capture_output=True, check=False)
    return True


def snakemake_processes(exec_dir: Path) -> list[int]:
    """Pids of live Snakemake processes whose working directory is ``exec_dir``."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if not any("snakemake" in word for word in cmdline[:3]):
            continue
        try:
            if Path(process.cwd()) == exec_dir:
                found.append(int(process.info["pid"]))
        except (psutil.Error, OSError):
            continue
    return found


@dataclass
class SnakemakeRun:
    """One Snakemake process whose output goes to ``log_file`` (and maybe stderr)."""

    command: list[str]
    log_file: Path
    cwd: Path
    echo: bool = False
    exit_code: int | None = None
    tail: list[str] = field(default_factory=list)

    def run(
        self, on_tick: Callable[[], None] | None = None, tick_sec: float = 0.25
    ) -> int:
        log.info("running Snakemake: %s", shlex.join(self.command))
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as sink:
            # Started in the run's exec folder so that even Snakemake's own
            # log (written before `workdir:` applies) lands in exec/.snakemake/.
            process = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            assert process.stdout is not None
            pump = threading.Thread(
                target=self._pump, args=(process.stdout, sink), daemon=True
            )
            pump.start()
            try:
                while on_tick is not None and process.poll() is None:
                    on_tick()
                    time.sleep(tick_sec)
                process.wait()
            except KeyboardInterrupt:
                # Let Snakemake stop its jobs cleanly before geryon exits (130).
                log.warning("interrupted: waiting for Snakemake to stop its jobs")
                process.send_signal(signal.SIGINT)
                process.wait()
                raise
            pump.join()
        self.exit_code = process.returncode
        return process.returncode

    def _pump(self, source: IO[bytes], sink: IO[bytes]) -> None:
        for line in iter(source.readline, b""):
            sink.write(line)
            sink.flush()
            text = line.decode("utf-8", "replace")
            self.tail = [*self.tail[-39:], text.rstrip("\n")]
            if self.echo:
                sys.stderr.write(text)
                sys.stderr.flush()

    def saw(self, needle: str) -> bool:
        return any(needle in line for line in self.tail)
