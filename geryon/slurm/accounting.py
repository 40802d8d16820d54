"""What Slurm knows about a run: job ids per batch, final job states, and the
configs a Slurm-side end (TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL, PREEMPTED
...) cut short.

The wrapper runs inside each job and names its task directory after the job
(``exec/batch_logs/task_<SLURM_JOB_ID>_<array id>/``), so the run itself records
which job ran which batch and which command: ``batch_start``, ``command_start``
and ``command_complete`` events. Slurm adds the job's final state (``sacct``, or
``squeue`` / ``scontrol`` while the job is still in the controller's memory).

Final states are cached in ``exec/state/slurm_jobs.json`` so ``status`` asks
Slurm only about jobs it has not seen end, and keeps the answer after
``squeue`` forgot the job (``MinJobAge``).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from geryon.layout import RunLayout
from geryon.slurm.query import run_query
from geryon.storage import read_jsonl, write_json_atomic

log = logging.getLogger("geryon.slurm.accounting")

SQUEUE_MIN_JOB_AGE_SEC = 240
CACHE_NAME = "slurm_jobs.json"
TASK_DIR = re.compile(r"^task_(\d+)_(\w+)$")
# Job states that end a job before its commands could finish.
ENDING_STATES = (
    "TIMEOUT",
    "OUT_OF_MEMORY",
    "CANCELLED",
    "NODE_FAIL",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
)
FINAL_STATES = (*ENDING_STATES, "COMPLETED", "FAILED", "REVOKED", "SPECIAL_EXIT")
# Reasons the wrapper gives a command it killed because it was itself stopped.
WRAPPER_STOP_REASONS = (None, "", "interrupted", "signal")
# Exit codes of a shell whose child Slurm signalled (128 + SIGHUP, SIGINT,
# SIGKILL, SIGTERM): Slurm signals every process of the job, so a command run
# through `sh -c` may be recorded as failed with one of these (measured).
SIGNAL_EXIT_CODES = (129, 130, 137, 143)


def sacct_works() -> bool:
    """True when ``sacct`` answers (accounting runs); a quick, bounded call."""
    return run_query(["sacct", "-n", "-X", "-S", "now", "-o", "JobID"]) is not None


def choose_status_command(
    forced: str | None = None, min_job_age_sec: int | None = None
) -> str:
    """The plugin's ``--slurm-status-command``.

    ``squeue`` when the controller keeps ended jobs long enough
    (``MinJobAge`` >= :data:`SQUEUE_MIN_JOB_AGE_SEC`, longer than the plugin's
    longest pause between checks, 180 s); else ``sacct`` when accounting
    answers; else ``squeue``. ``sacct`` is not the first choice because the
    plugin (2.8) compares its raw State text with ``CANCELLED``: an ``scancel``
    shows as ``CANCELLED by <uid>`` there and Snakemake then waits for that job
    forever (measured here; ``squeue`` prints plain ``CANCELLED``). Without
    accounting the plugin's own default, ``sacct``, hangs as well
    (shared/notes/slurm-local.md).
    """
    if forced:
        return forced
    if min_job_age_sec is not None and min_job_age_sec >= SQUEUE_MIN_JOB_AGE_SEC:
        return "squeue"
    return "sacct" if sacct_works() else "squeue"


# ------------------------------------------------------------- what the run knows


class Attempt(NamedTuple):
    """One command attempt as the job's event stream tells it."""

    config_id: str
    batch_index: int
    # command_start time while open; the attempt's end time once it ended
    time: str
    status: str | None = None
    status_reason: str | None = None
    exit_code: int | None = None


@dataclass
class JobActivity:
    """What one Slurm job did, from its task event streams."""

    job_id: str
    batches: set[int]
    # attempt id -> attempt, for commands started and not (yet) ended
    open_attempts: dict[str, Attempt]
    ended_attempts: dict[str, Attempt]

    def failed_exit_codes(self) -> dict[str, int | None]:
        """Config id -> the real exit code of its failed attempt in this job."""
        return {
            a.config_id: a.exit_code
            for a in self.ended_attempts.values()
            if a.status == "failed"
        }


def slurm_task_dirs(layout: RunLayout) -> dict[str, list[Path]]:
    """Task directories of Slurm jobs (numeric job ids), by job id."""
    root = layout.exec_dir / "batch_logs"
    found: dict[str, list[Path]] = {}
    if not root.is_dir():
        return found
    for path in sorted(root.iterdir()):
        match = TASK_DIR.match(path.name)
        if match and path.is_dir():
            found.setdefault(match.group(1), []).append(path)
    return found


def job_activity(job_id: str, task_dirs: list[Path]) -> JobActivity:
    activity = JobActivity(job_id, set(), {}, {})
    for task_dir in task_dirs:
        events = task_dir / "task.events.jsonl"
        if events.is_file():
            for event in read_jsonl(events):
                _note_event(activity, event)
    return activity


def _note_event(activity: JobActivity, event: dict[str, Any]) -> None:
    kind = event.get("event")
    batch = event.get("batch_index")
    if kind == "batch_start" and isinstance(batch, int):
        activity.batches.add(batch)
    attempt = event.get("attempt_id")
    if not isinstance(attempt, str) or not isinstance(batch, int):
        return
    config_id = str(event.get("config_id"))
    if kind == "command_start":
        activity.open_attempts[attempt] = Attempt(
            config_id, batch, str(event.get("time"))
        )
    elif kind == "command_complete":
        activity.open_attempts.pop(attempt, None)
        code = event.get("exit_code")
        activity.ended_attempts[attempt] = Attempt(
            config_id,
            batch,
            str(event.get("time")),
            str(event.get("status")),
            event.get("status_reason"),
            code if isinstance(code, int) else None,
        )


def run_jobs(layout: RunLayout) -> dict[str, JobActivity]:
    """Every Slurm job of the run with the batches and commands it ran."""
    return {
        job_id: job_activity(job_id, dirs)
        for job_id, dirs in slurm_task_dirs(layout).items()
    }


def batch_job_ids(layout: RunLayout) -> dict[int, list[str]]:
    """Batch index -> the Slurm job ids that ran it, oldest first.

    Read from file names only (each task directory holds one ``batch_<B>.jsonl``
    per batch it ran), so it stays cheap on runs with millions of records.
    """
    found: dict[int, list[str]] = {}
    for job_id, dirs in sorted(slurm_task_dirs(layout).items(), key=_numeric_id):
        batches = {
            int(path.stem.split("_", 1)[1])
            for task_dir in dirs
            for path in task_dir.glob("batch_*.jsonl")
            if path.stem.split("_", 1)[1].isdigit()
        }
        for batch in sorted(batches):
            found.setdefault(batch, []).append(job_id)
    return found


SUBMITTED = re.compile(rb"submitted with SLURM jobid (\d+)|SLURM job ID (\d+)")


def submitted_job_ids(layout: RunLayout) -> set[str]:
    """Every Slurm job id the plugin reported submitting for this run, read from
    the run's Snakemake logs (``exec/snakemake_logs/``), plus the jobs that ran
    a task (their task directories)."""
    found = set(slurm_task_dirs(layout))
    logs = layout.exec_dir / "snakemake_logs"
    for path in sorted(logs.glob("*.log")) if logs.is_dir() else []:
        try:
            text = path.read_bytes()
        except OSError:
            continue
        for match in SUBMITTED.finditer(text):
            found.add((match.group(1) or match.group(2)).decode())
    return found


def _numeric_id(item: tuple[str, Any]) -> int:
    return int(item[0])


# ------------------------------------------------------------------ Slurm states


def job_states(job_ids: Iterable[str], cache_dir: Path | None = None) -> dict[str, str]:
    """Job id -> Slurm state (first word: ``CANCELLED by 0`` -> ``CANCELLED``).

    Final states come from the cache when known; others from ``sacct``, else from
    ``squeue``/``scontrol`` (jobs the controller still remembers). Unknown jobs
    are left out.
    """
    wanted = sorted(set(job_ids), key=int)
    cache = _load_cache(cache_dir)
    states = {j: cache[j]["state"] for j in wanted if j in cache}
    missing = [j for j in wanted if j not in states]
    if missing:
        fresh = _sacct_states(missing)
        fresh.update(
            {j: s for j, s in _squeue_states(missing).items() if j not in fresh}
        )
        states.update(fresh)
        _save_cache(cache_dir, cache, fresh)
    return states


def _sacct_states(job_ids: list[str]) -> dict[str, str]:
    out = run_query(
        [
            "sacct",
            "-n",
            "-X",
            "-P",
            "-j",
            ",".join(job_ids),
            "-o",
            "JobIDRaw,State,ExitCode",
        ]
    )
    states: dict[str, str] = {}
    for line in (out or "").splitlines():
        parts = line.split("|")
        if len(parts) >= 2 and parts[0].isdigit():
            states[parts[0]] = _first_word(parts[1])
    return states


def _squeue_states(job_ids: list[str]) -> dict[str, str]:
    """``squeue --states=all`` also lists jobs that ended less than MinJobAge ago."""
    out = run_query(
        ["squeue", "-h", "--states=all", "-j", ",".join(job_ids), "-o", "%i|%T"]
    )
    states: dict[str, str] = {}
    for line in (out or "").splitlines():
        parts = line.strip().split("|")
        if len(parts) == 2 and parts[0].isdigit():
            states[parts[0]] = _first_word(parts[1])
    return states


def _first_word(state: str) -> str:
    words = state.strip().split()
    return words[0].rstrip("+") if words else ""


def _load_cache(cache_dir: Path | None) -> dict[str, dict[str, str]]:
    if cache_dir is None:
        return {}
    path = cache_dir / CACHE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_cache(
    cache_dir: Path | None, cache: dict[str, dict[str, str]], fresh: dict[str, str]
) -> None:
    final = {j: s for j, s in fresh.items() if s in FINAL_STATES}
    if cache_dir is None or not final:
        return
    cache.update({j: {"state": s} for j, s in final.items()})
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        write_json_atomic(cache_dir / CACHE_NAME, cache)
    except OSError as err:
        log.debug("could not cache Slurm job states: %s", err)


# ------------------------------------------------------------------- terminations


@dataclass(frozen=True)
class SlurmEnd:
    """A config attempt that Slurm ended: the job's state is the reason."""

    config_id: str
    reason: str
    job_id: str
    attempt_id: str
    batch_index: int
    # Unrecorded: when the command started; else: its recorded end time.
    event_time: str
    # True when the wrapper never wrote an end for the attempt (killed with it).
    unrecorded: bool

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def slurm_terminations(layout: RunLayout) -> dict[str, SlurmEnd]:
    """Config id -> how Slurm ended its latest attempt in a Slurm job.

    A job that ended TIMEOUT, OUT_OF_MEMORY, CANCELLED, NODE_FAIL, PREEMPTED,
    BOOT_FAIL or DEADLINE marks (a) every command it started without an end
    (``unrecorded``), (b) every command the wrapper recorded as ``terminated``
    because it was itself stopped (reason ``interrupted`` / ``signal``) and (c)
    every command recorded ``failed`` with a signal exit code
    (:data:`SIGNAL_EXIT_CODES`). Only the event streams of such jobs are read,
    so the cost does not grow with the run's successful jobs.
    :func:`slurm_overrides` applies the result to the latest attempts.
    """
    dirs = slurm_task_dirs(layout)
    if not dirs:
        return {}
    states = job_states(dirs, cache_dir=layout.state_dir)
    ends: dict[str, SlurmEnd] = {}
    for job_id in sorted(dirs, key=int):
        state = states.get(job_id, "")
        if state in ENDING_STATES:
            for end in _ends_of_job(job_activity(job_id, dirs[job_id]), state):
                ends[end.config_id] = end
    return ends


def slurm_overrides(layout: RunLayout, latest: Mapping[str, Any]) -> dict[str, str]:
    """Config id -> Slurm state, for configs whose *current* latest attempt Slurm
    ended; ``latest`` maps config ids to their latest record (anything with
    ``end_time`` and ``status``; absent = never recorded).

    An attempt the wrapper recorded applies when that record is still the
    latest (same end time, status ``terminated``); an unrecorded one applies
    when no record of the config ends after the attempt started. Times are the
    fixed-width UTC text of :func:`geryon.timefmt.iso_micro`, so text order is
    time order.
    """
    found: dict[str, str] = {}
    for config_id, end in slurm_terminations(layout).items():
        record = latest.get(config_id)
        if end.unrecorded:
            # command_start times have whole seconds (spec E36): compare those.
            ended = str(getattr(record, "end_time", ""))[:19]
            if record is None or ended <= end.event_time[:19]:
                found[config_id] = end.reason
        elif record is not None and (
            getattr(record, "status", None) in ("terminated", "failed")
            and str(getattr(record, "end_time", "")) == end.event_time
        ):
            found[config_id] = end.reason
    return found


def _ends_of_job(activity: JobActivity, state: str) -> list[SlurmEnd]:
    job = activity.job_id
    found = [
        SlurmEnd(a.config_id, state, job, attempt_id, a.batch_index, a.time, True)
        for attempt_id, a in activity.open_attempts.items()
    ]
    ended = sorted(activity.ended_attempts.items(), key=lambda item: item[1].time)
    for attempt_id, a in ended:
        if _cut_short(a):
            found.append(
                SlurmEnd(
                    a.config_id, state, job, attempt_id, a.batch_index, a.time, False
                )
            )
    return found


def _cut_short(attempt: Attempt) -> bool:
    """An ended attempt of a Slurm-ended job that Slurm's signals ended."""
    if attempt.status == "terminated":
        return attempt.status_reason in WRAPPER_STOP_REASONS
    return attempt.status == "failed" and attempt.exit_code in SIGNAL_EXIT_CODES


def run_job_summary(layout: RunLayout) -> list[dict[str, Any]]:
    """One row per Slurm job of the run: id, state, batches, commands started and
    the real exit codes of failed commands (Slurm itself only sees exit 1)."""
    jobs = run_jobs(layout)
    ids = submitted_job_ids(layout) | set(jobs)
    states = job_states(ids, cache_dir=layout.state_dir) if ids else {}
    rows = []
    for job_id in sorted(ids, key=int):
        activity = jobs.get(job_id) or JobActivity(job_id, set(), {}, {})
        rows.append(
            {
                "job_id": job_id,
                "state": states.get(job_id),
                "batch_indices": sorted(activity.batches),
                "commands_ended": len(activity.ended_attempts),
                "commands_unfinished": len(activity.open_attempts),
                "failed_exit_codes": activity.failed_exit_codes(),
            }
        )
    return rows
