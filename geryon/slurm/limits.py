"""Site limits: what the cluster lets one user queue, read before submitting.

Sources: ``scontrol show config`` (``MaxArraySize``, ``MaxJobCount``, ``MinJobAge``),
``sacctmgr show assoc`` (the user's ``MaxSubmitJobs`` / ``MaxJobs``, when
accounting runs), ``scontrol show partition`` (``MaxTime``). Every query is
bounded by a timeout and a missing tool or a failed call simply leaves the
limit unknown: limits only produce warnings and cap ``--jobs``.

geryon submits one Slurm job per batch (or per ``batches_per_task`` batches),
never job arrays: a Snakemake rule per batch makes every array one element long,
so ``MaxArraySize`` is reported but does not constrain a run.
"""

from __future__ import annotations

import getpass
import logging
import math
import re
from dataclasses import dataclass
from typing import Any

from geryon.slurm.query import run_query

log = logging.getLogger("geryon.slurm.limits")


@dataclass(frozen=True)
class SiteLimits:
    """Known limits; ``None`` = unknown or unlimited."""

    max_array_size: int | None = None
    max_job_count: int | None = None
    min_job_age_sec: int | None = None
    max_submit_jobs: int | None = None
    max_running_jobs: int | None = None
    partition_max_time_min: int | None = None

    def queue_cap(self) -> int | None:
        """How many jobs geryon may keep queued at once (the tightest limit)."""
        caps = [c for c in (self.max_submit_jobs, self.max_job_count) if c]
        return min(caps) if caps else None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _config_int(text: str, name: str) -> int | None:
    match = re.search(rf"^{name}\s*=\s*(\d+)", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def _assoc_limits(user: str) -> tuple[int | None, int | None]:
    """The smallest ``MaxSubmitJobs`` / ``MaxJobs`` over the user's associations."""
    out = run_query(
        [
            "sacctmgr",
            "-n",
            "-P",
            "show",
            "assoc",
            f"user={user}",
            "format=MaxSubmitJobs,MaxJobs",
        ]
    )
    submit: list[int] = []
    running: list[int] = []
    for line in (out or "").splitlines():
        parts = line.split("|")
        if len(parts) >= 2:
            submit += [int(parts[0])] if parts[0].isdigit() else []
            running += [int(parts[1])] if parts[1].isdigit() else []
    return (min(submit) if submit else None, min(running) if running else None)


def parse_time_limit_min(text: str) -> int | None:
    """Slurm's ``[days-]hours:minutes:seconds`` (or minutes) -> minutes; None if
    unlimited or unparseable."""
    text = text.strip()
    if not text or text.upper() in ("UNLIMITED", "INFINITE", "NONE"):
        return None
    days = 0
    if "-" in text:
        head, text = text.split("-", 1)
        days = int(head) if head.isdigit() else 0
    parts = [int(p) for p in text.split(":") if p.isdigit()]
    if not parts:
        return None
    if len(parts) == 1:
        minutes = parts[0] if days == 0 else parts[0] * 60
        return days * 1440 + minutes
    while len(parts) < 3:
        parts.insert(0, 0)
    hours, minutes, seconds = parts[-3:]
    return days * 1440 + hours * 60 + minutes + math.ceil(seconds / 60)


def _partition_max_time(partition: str | None) -> int | None:
    if not partition:
        return None
    out = run_query(["scontrol", "show", "partition", partition, "-o"])
    match = re.search(r"\bMaxTime=(\S+)", out or "")
    return parse_time_limit_min(match.group(1)) if match else None


def read_site_limits(partition: str | None = None) -> SiteLimits:
    """Query the cluster (a few short calls); unknown values stay ``None``."""
    config = run_query(["scontrol", "show", "config"]) or ""
    submit, running = _assoc_limits(getpass.getuser())
    return SiteLimits(
        max_array_size=_config_int(config, "MaxArraySize"),
        max_job_count=_config_int(config, "MaxJobCount"),
        min_job_age_sec=_config_int(config, "MinJobAge"),
        max_submit_jobs=submit,
        max_running_jobs=running,
        partition_max_time_min=_partition_max_time(partition),
    )


def limit_warnings(
    limits: SiteLimits,
    *,
    num_batches: int,
    batches_per_task: int,
    max_jobs: int | None,
    job_time_min: int,
) -> list[str]:
    """Warnings for a run of ``num_batches`` batches before it is submitted."""
    warnings: list[str] = []
    jobs = math.ceil(num_batches / max(1, batches_per_task))
    cap = limits.queue_cap()
    if cap is not None and jobs > cap:
        per_task = math.ceil(num_batches / cap)
        warnings.append(
            f"the run needs {jobs} Slurm job(s) but the site lets you queue at most "
            f"{cap} at once (MaxSubmitJobs/MaxJobCount); geryon keeps at most {cap} "
            f"in flight, so the run is slower. To fit in one wave use "
            f"batches_per_task >= {per_task} or a larger --batch-size when planning"
        )
    if max_jobs is not None and cap is not None and max_jobs > cap:
        warnings.append(
            f"--max-jobs {max_jobs} exceeds the site's queue limit {cap}; "
            "submissions beyond it would be rejected, so geryon uses "
            f"{cap} instead"
        )
    limit = limits.partition_max_time_min
    if limit is not None and job_time_min > limit:
        warnings.append(
            f"each Slurm job asks for {job_time_min} min but the partition allows "
            f"{limit} min (MaxTime); such jobs stay pending. Lower time_min or "
            "batches_per_task"
        )
    return warnings


def effective_max_jobs(limits: SiteLimits, requested: int | None) -> int | None:
    """``--jobs`` for Snakemake: the request capped by the site's queue limit."""
    cap = limits.queue_cap()
    if requested is None:
        return cap
    return min(requested, cap) if cap is not None else requested
