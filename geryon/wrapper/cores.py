"""Core pinning across every wrapper process of a run on one machine.

Snakemake limits how *many* cores its jobs use but never says *which* ones
(/work/shared/notes/snakemake.md, "Cores"). Each wrapper therefore claims CPUs for
each command with one lock file per CPU,
``exec/state/cores/<hostname>/cpu_<n>.lock``, locked with ``fcntl.flock``
(non-blocking). The kernel drops a lock when its holder dies, even by ``kill -9``, so
a crashed wrapper never leaks cores. A command starts only when all its CPUs are
locked by its wrapper; no two running commands of the run share a CPU.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from geryon.errors import ConfigError, GeryonError
from geryon.layout import RunLayout

log = logging.getLogger("geryon.wrapper.cores")

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OMP_THREAD_LIMIT",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "BLIS_NUM_THREADS",
)


def parse_cpu_list(text: str, *, source: str) -> list[int]:
    """CPU-list syntax (spec E18): ``0-3,8,10-11``; duplicates keep the first place."""
    cpus: list[int] = []
    for token in (part.strip() for part in text.split(",")):
        if not token:
            continue
        first, _, last = token.partition("-")
        try:
            low = int(first)
            high = int(last) if last else low
        except ValueError as err:
            raise _bad_list(text, source, f"'{token}' is not N or N-M") from err
        if low < 0 or high < low:
            raise _bad_list(text, source, f"'{token}' is not an ascending range")
        cpus.extend(range(low, high + 1))
    if not cpus:
        raise _bad_list(text, source, "it names no CPU")
    return list(dict.fromkeys(cpus))


def _bad_list(text: str, source: str, why: str) -> ConfigError:
    return ConfigError(
        f"invalid CPU list {text!r}: {why}",
        key_path=source,
        hint="Use comma-separated CPU ids or inclusive ranges, e.g. '0-3,8'",
    )


def core_pool(cores_setting: str | None, max_total_cores: int | None) -> list[int]:
    """The CPUs the run may use here: the ``cores`` setting, else ``$CORES``, else the
    CPUs this process may run on (inside a Slurm allocation: the job's CPUs).

    ``max_total_cores`` keeps only the first N CPUs of that pool. Every wrapper of the
    run computes the same pool, so the cap holds for the whole run on this machine.
    """
    if cores_setting:
        pool = parse_cpu_list(cores_setting, source="settings.cores")
    elif os.environ.get("CORES", "").strip():
        pool = parse_cpu_list(os.environ["CORES"], source="$CORES")
    else:
        pool = _allowed_cpus()
    if max_total_cores is not None:
        pool = pool[:max_total_cores]
    return pool


def _allowed_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


class CoreClaims:
    """This wrapper's view of the run-wide CPU locks on this machine."""

    def __init__(self, layout: RunLayout, pool: list[int], cores_per_task: int) -> None:
        if len(pool) < cores_per_task:
            raise GeryonError(
                f"cores_per_task is {cores_per_task} but only {len(pool)} CPU(s) are "
                f"available ({pool}); lower cores_per_task or widen 'cores'"
            )
        self.cores_per_task = cores_per_task
        self.lock_dir = layout.state_dir / "cores" / socket.gethostname()
        self.lock_dir.mkdir(parents=True, exist_ok=True)
        self._fds = {cpu: self._open(cpu) for cpu in pool}
        self._held: set[int] = set()

    def _open(self, cpu: int) -> int:
        path: Path = self.lock_dir / f"cpu_{cpu}.lock"
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)

    @property
    def pool(self) -> list[int]:
        return list(self._fds)

    def try_claim(self, count: int | None = None) -> list[int] | None:
        """Lock ``count`` free CPUs (default ``cores_per_task``), or none at all."""
        wanted = count or self.cores_per_task
        taken: list[int] = []
        for cpu, fd in self._fds.items():
            if len(taken) == wanted:
                break
            if cpu in self._held:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            taken.append(cpu)
            self._held.add(cpu)
        if len(taken) < wanted:
            self.release(taken)
            return None
        return taken

    def release(self, cpus: list[int]) -> None:
        for cpu in cpus:
            if cpu in self._held:
                fcntl.flock(self._fds[cpu], fcntl.LOCK_UN)
                self._held.discard(cpu)

    def close(self) -> None:
        self.release(list(self._held))
        for fd in self._fds.values():
            os.close(fd)
        self._fds = {}


def thread_environment(
    cpus: list[int], base: dict[str, str], *, threads: int | None = None
) -> dict[str, str]:
    """Spec E20: thread-count defaults the caller's environment does not set, plus
    ``GERYON_ASSIGNED_CORES`` / ``GERYON_ASSIGNED_CORE_COUNT`` always. ``threads``
    overrides the thread count where commands share ``cpus`` (PyLauncher waves)."""
    count = str(threads or len(cpus))
    extra = {name: count for name in THREAD_VARIABLES if name not in base}
    if "OMP_PROC_BIND" not in base:
        extra["OMP_PROC_BIND"] = "true"
    extra["GERYON_ASSIGNED_CORES"] = ",".join(str(cpu) for cpu in cpus)
    extra["GERYON_ASSIGNED_CORE_COUNT"] = str(len(cpus))
    return extra


_affinity_warned = False


def pin_current_process(cpus: list[int]) -> None:
    """Set this process's affinity (called in a child before exec). Where the
    platform has no affinity API, nothing happens: cores are still handed out
    disjointly and the thread variables still limit oversubscription."""
    if cpus and hasattr(os, "sched_setaffinity"):
        # A CPU outside this process's cgroup: keep running unpinned rather than
        # lose the command.
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, cpus)


@contextlib.contextmanager
def affinity_for_children(cpus: list[int]) -> Iterator[None]:
    """Pin the calling thread to ``cpus`` while children are spawned inside the
    block, then restore its affinity. A child inherits the affinity at fork, so it
    is pinned before it runs any code (race-free), and ``subprocess`` keeps its fast
    ``vfork`` path, which a ``preexec_fn`` would disable: 100 spawns measured about
    twice as fast this way on this machine."""
    if not cpus or not hasattr(os, "sched_setaffinity"):
        yield
        return
    previous = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, cpus)
    except OSError:
        # A CPU outside this process's cgroup: run the command unpinned rather
        # than lose it.
        yield
        return
    try:
        yield
    finally:
        os.sched_setaffinity(0, previous)


def affinity_supported() -> bool:
    """Log once when commands cannot be pinned on this platform."""
    global _affinity_warned
    supported = hasattr(os, "sched_setaffinity")
    if not supported and not _affinity_warned:
        _affinity_warned = True
        log.warning("CPU affinity is not available here; commands are not pinned")
    return supported
