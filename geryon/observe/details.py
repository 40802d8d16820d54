"""Details shown next to the counts: durations, slowest configs, failures with their logs.

All of them look only at each config's *latest* attempt, the one that decides its
status. Full records are re-read from the result files only for the few configs
shown, so these stay cheap on huge runs.
"""

from __future__ import annotations

import heapq
import itertools
import operator
import shlex
import statistics
from pathlib import Path
from typing import Any

from geryon.observe.index import StatusIndex

FAILED_WORDS = ("failed", "terminated")
TAIL_BYTES = 8192


def duration_stats(values: list[float]) -> dict[str, Any]:
    """``{count, min_sec, median_sec, max_sec}``; the times are null without values."""
    if not values:
        return {"count": 0, "min_sec": None, "median_sec": None, "max_sec": None}
    return {
        "count": len(values),
        "min_sec": min(values),
        "median_sec": round(statistics.median(values), 6),
        "max_sec": max(values),
    }


def _durations(index: StatusIndex, positions: list[int] | None) -> list[float]:
    """Durations of the configs at ``positions`` (None: every planned config)."""
    keys = index.planned.id_bytes()
    if positions is not None:
        keys = [keys[position] for position in positions]
    return index.scan.latest.durations_of(keys)


def durations_json(index: StatusIndex) -> dict[str, Any]:
    """Durations of the latest attempts, overall and per ``--by-pack`` group."""
    groups = [
        {
            "key": dict(zip(index.by_packs, key, strict=True)),
            **duration_stats(_durations(index, members)),
        }
        for key, members in index.groups()
    ]
    return {
        "overall": duration_stats(_durations(index, None)),
        "groups": groups,
    }


def slowest(index: StatusIndex, count: int) -> list[dict[str, Any]]:
    """The ``count`` planned configs whose latest attempt took longest (ties: the
    larger config id first)."""
    seconds = index.scan.latest.duration_column(index.planned.id_bytes())
    timed = zip(seconds, index.planned.config_ids, strict=True)
    # NaN (no duration) is the one value not equal to itself.
    known = itertools.compress(timed, map(operator.eq, seconds, seconds))
    return [
        {
            "config_id": config_id,
            "duration_sec": value,
            "status": index.status_of(config_id),
        }
        for value, config_id in heapq.nlargest(count, known)
    ]


def recent_failures(index: StatusIndex, count: int) -> tuple[int, list[str]]:
    """How many configs are failed or terminated, and the ``count`` of them
    that ended most recently, latest first; equal end and start times keep plan
    order, and a config Slurm killed without any record comes last."""
    by_status = index.positions_by_status
    positions = [p for word in FAILED_WORDS for p in by_status.get(word, ())]
    keys = index.scan.latest.time_keys_of(index.planned.id_bytes(), positions)
    # (time key, -place, position): the largest is the latest, the earliest
    # place first.
    ranked = zip(keys, map(operator.neg, range(len(positions))), positions, strict=True)
    chosen = heapq.nlargest(count, ranked)
    ids = index.planned.config_ids
    return len(positions), [ids[position] for _key, _place, position in chosen]


def slurm_logs(index: StatusIndex) -> dict[str, str]:
    """Slurm job id -> its job log under ``exec/.snakemake/slurm_logs/`` (kept on
    failure by the executor plugin: ``rule_<rule>/<wildcards>/<jobid>.log``)."""
    root = index.layout.exec_dir / ".snakemake" / "slurm_logs"
    if not root.is_dir():
        return {}
    return {path.stem: str(path) for path in sorted(root.rglob("*.log"))}


def failure_details(
    index: StatusIndex, config_ids: list[str], *, tail_lines: int
) -> list[dict[str, Any]]:
    """Status, reason, exit code, log paths and the last stderr lines of each config.

    ``slurm_log`` is the Slurm job log of the attempt's job when one was kept.
    """
    items = []
    job_logs = slurm_logs(index) if config_ids else {}
    for config_id in config_ids:
        record = index.scan.read_record(config_id) or {}
        stderr_path = record.get("stderr_path")
        items.append(
            {
                "config_id": config_id,
                "status": index.status_of(config_id),
                "status_reason": record.get("status_reason"),
                "exit_code": record.get("exit_code"),
                "batch_index": record.get("batch_index"),
                "line_index": record.get("line_index"),
                "attempt_id": record.get("attempt_id"),
                "end_time": record.get("end_time"),
                "stderr_path": stderr_path,
                "stdout_path": record.get("stdout_path"),
                "slurm_log": job_logs.get(str(record.get("job_id"))),
                "stderr_tail": last_lines(stderr_path, tail_lines),
            }
        )
    return items


def last_lines(path: Any, count: int) -> list[str]:
    """The last ``count`` non-empty lines of a log file (empty list if unreadable)."""
    if not isinstance(path, str) or not path or count <= 0:
        return []
    try:
        with Path(path).open("rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    lines = [line for line in data.decode("utf-8", errors="replace").splitlines()]
    lines = [line.rstrip() for line in lines if line.strip()]
    return lines[-count:]


def next_command(index: StatusIndex) -> str:
    """The command a user most likely wants to run next."""
    root = shlex.quote(str(index.layout.root))
    words = set(index.statuses)
    if "running" in words:
        return f"geryon status --run {root}"
    broken = [word for word in (*FAILED_WORDS, "missing") if word in words]
    if broken:
        return f"geryon recover --run {root} --status {','.join(broken)}"
    return f"geryon collect --run {root}"
