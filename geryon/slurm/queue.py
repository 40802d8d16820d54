"""``query_status``: the run's rows of ``squeue`` while run-slurm waits (spec E46).

A background thread asks ``squeue`` every :data:`POLL_SEC` seconds (and once at
the end) for the run's jobs (the ids the plugin reported in the run's Snakemake
logs, see :func:`geryon.slurm.accounting.submitted_job_ids`), and persists the answer to
``exec/queue_status.json`` plus a timestamped copy under ``exec/queue_status/``.
A failed query is recorded as ``available: false`` with the error, never raised.
"""

from __future__ import annotations

import getpass
import logging
import subprocess
import threading
from types import TracebackType
from typing import Any

from geryon import timefmt
from geryon.layout import RunLayout
from geryon.slurm.accounting import submitted_job_ids
from geryon.storage import append_jsonl, write_json_atomic

log = logging.getLogger("geryon.slurm.queue")

POLL_SEC = 30.0
FIELDS = ("job_id", "state", "time", "nodes", "partition", "name", "user", "reason")
SQUEUE_FORMAT = "%i|%T|%M|%D|%P|%j|%u|%r"


def query_queue(
    layout: RunLayout, job_ids: tuple[str, ...] | None = None
) -> dict[str, Any]:
    """The run's jobs (or ``job_ids``) as squeue sees them now, also recently
    ended ones."""
    command = ["squeue", "-h", "--states=all", "-u", getpass.getuser()]
    command += ["-o", SQUEUE_FORMAT]
    stamp = timefmt.iso_seconds()
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=15, check=False
        )
    except (OSError, subprocess.SubprocessError) as err:
        return {"available": False, "error": str(err), "queried_at": stamp}
    if done.returncode != 0:
        error = done.stderr.strip() or f"exit {done.returncode}"
        return {"available": False, "error": error, "queried_at": stamp}
    ours = set(job_ids) if job_ids else submitted_job_ids(layout)
    jobs = []
    for line in done.stdout.splitlines():
        parts = line.split("|")
        if len(parts) == len(FIELDS) and parts[0] in ours:
            jobs.append(dict(zip(FIELDS, parts, strict=True)))
    return {
        "available": True,
        "queried_at": stamp,
        "job_ids": sorted(ours, key=_numeric),
        "jobs": jobs,
    }


def _numeric(job_id: str) -> tuple[int, str]:
    return (int(job_id), "") if job_id.isdigit() else (0, job_id)


def persist(layout: RunLayout, status: dict[str, Any]) -> None:
    stamp = timefmt.compact_stamp()
    write_json_atomic(layout.exec_dir / "queue_status.json", status)
    snapshot = layout.exec_dir / "queue_status" / f"queue_status_{stamp}.json"
    write_json_atomic(snapshot, status)
    append_jsonl(
        layout.exec_dir / "launcher.log",
        {
            "event": "queue_refresh",
            "time": status["queried_at"],
            "available": status["available"],
            "num_jobs": len(status.get("jobs", [])),
        },
    )


class QueueWatch:
    """Polls and persists the run's queue rows while a ``with`` block runs."""

    def __init__(self, layout: RunLayout, *, enabled: bool, poll_sec: float = POLL_SEC):
        self.layout = layout
        self.enabled = enabled
        self.poll_sec = poll_sec
        self.last: dict[str, Any] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> QueueWatch:
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self.refresh()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_sec):
            self.refresh()

    def refresh(self) -> None:
        status = query_queue(self.layout)
        try:
            persist(self.layout, status)
        except OSError as err:
            log.warning("could not write the queue status: %s", err)
        self.last = status
