"""The status index: planned configs joined with their latest attempts (spec O1–O7).

Statuses of a config: ``success``, ``failed``, ``terminated`` (its latest attempt
record says so, or Slurm ended the job running it: :mod:`geryon.slurm.accounting`),
``running`` (an attempt of a live run is in flight, see
:mod:`geryon.observe.live`) and ``missing`` (never attempted, or the latest record
has no status). "Latest" is the one shared ordering of
:func:`geryon.wrapper.history.latest_attempt_key`: parsed end time, then start
time, then attempt id (Q33; ``collect`` uses the same, Q35).

``status`` JSON adds to spec O6: ``configs.running_config_ids``,
``configs.terminated_reasons`` (config id -> reason: the record's ``status_reason``
such as ``timeout_kill``, ``signal``, ``interrupted``, or the Slurm job state such
as ``TIMEOUT``, ``OUT_OF_MEMORY``, ``CANCELLED``, ``NODE_FAIL``, ``PREEMPTED``;
``unspecified`` when nothing was recorded), ``configs.terminated_by_reason``,
``run_active``, ``snakemake`` (per-batch Snakemake state) and ``slurm_job_ids``
(batch index -> the Slurm jobs that ran it, from the run's task directories).
"""

from __future__ import annotations

import itertools
import operator
from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from geryon.errors import ConfigError
from geryon.layout import RunLayout
from geryon.observe.live import (
    RunningAttempt,
    SnakemakeState,
    run_lock_held,
    running_attempts,
    snakemake_state,
)
from geryon.observe.parallel import scan_records, start_plan_reader
from geryon.observe.planned import PlannedConfigs, load_planned
from geryon.observe.scan import Latest, RecordScan, paused_gc
from geryon.slurm.accounting import batch_job_ids, slurm_overrides
from geryon.timefmt import iso_seconds

STATUS_WORDS = ("success", "failed", "terminated", "running", "missing")
MISSING_PACK = "<missing>"
# Up to this many groups, each group's members are found by its own pass.
_FEW_GROUPS = 64
UNSPECIFIED_REASON = "unspecified"


def parse_by_pack(values: tuple[str, ...] | list[str]) -> list[str]:
    """``--by-pack a,b --by-pack c``: trimmed, blanks and repeats dropped, order kept."""
    packs: dict[str, None] = {}
    for value in values:
        for item in value.split(","):
            if item.strip():
                packs.setdefault(item.strip(), None)
    return list(packs)


@dataclass
class StatusIndex:
    """Everything ``status``, ``report`` and ``rerun`` derive their answers from."""

    layout: RunLayout
    planned: PlannedConfigs
    scan: RecordScan
    statuses: list[str]
    running: dict[str, RunningAttempt]
    snakemake: SnakemakeState
    run_active: bool
    by_packs: list[str]
    generated_at: str
    # Config id -> Slurm state for attempts Slurm ended (geryon.slurm.accounting).
    slurm_reasons: dict[str, str] = field(default_factory=dict)
    # How many planned configs have a record; -1 when unknown (then O4 scans).
    planned_with_records: int = -1

    def latest(self, config_id: str) -> Latest | None:
        return self.scan.latest.get(config_id)

    def status_of(self, config_id: str) -> str:
        """The status of a planned config (KeyError for an id not planned)."""
        word = self._unfinished.get(config_id)
        if word is not None:
            return word
        return self.statuses[self.planned.position[config_id]]

    @cached_property
    def _unfinished(self) -> dict[str, str]:
        """Status of each config that is not ``success``: what the failure views
        look up, without a position map of every planned id."""
        return {
            config_id: word
            for word in self.positions_by_status
            if word != "success"
            for config_id in self.ids_with_status(word)
        }

    @cached_property
    def positions_by_status(self) -> dict[str, list[int]]:
        """Status -> positions of the planned configs that have it, in plan order."""
        statuses = self.statuses
        # One C-level pass per status word (there are at most five).
        return {
            word: list(
                itertools.compress(itertools.count(), map(word.__eq__, statuses))
            )
            for word in dict.fromkeys(statuses)
        }

    def ids_with_status(self, status: str) -> list[str]:
        """Planned ids whose current status is ``status``, in plan order (O3)."""
        return list(
            map(
                self.planned.config_ids.__getitem__,
                self.positions_by_status.get(status, ()),
            )
        )

    def orphan_ids(self) -> list[str]:
        """Ids with records but no planned config (O4)."""
        latest = self.scan.latest
        if len(latest) == self.planned_with_records:
            return []
        position = self.planned.position
        return sorted(cid for cid in latest if cid not in position)

    def terminated_reasons(self) -> dict[str, str]:
        """Terminated config id -> why: its Slurm state, else the latest
        record's ``status_reason``, else ``UNSPECIFIED_REASON``."""
        positions = self.positions_by_status.get("terminated", [])
        ids = self.ids_with_status("terminated")
        recorded = self.scan.latest.reasons_of(self.planned.id_bytes(), positions)
        reasons = {
            config_id: reason or UNSPECIFIED_REASON
            for config_id, reason in zip(ids, recorded, strict=True)
        }
        for config_id in self.slurm_reasons.keys() & reasons.keys():
            reasons[config_id] = self.slurm_reasons[config_id]
        return reasons

    def to_json(self) -> dict[str, Any]:
        """The ``status --format json`` object (spec O6 plus the additions above)."""
        return {
            "run_id": self.layout.run_id,
            "run_root": str(self.layout.root),
            "generated_at": self.generated_at,
            "corrupt_result_lines": self.scan.corrupt_lines,
            "result_files": [str(path) for path in self.scan.files],
            "attempts": {
                "total": self.scan.total_attempts,
                "by_status": dict(sorted(self.scan.attempts_by_status.items())),
            },
            "configs": self._configs_json(),
            "batches": self._batches_json(),
            "orphan_attempt_config_ids": self.orphan_ids(),
            "grouped_by_packs": self.grouped_json(),
            "run_active": self.run_active,
            "snakemake": self.snakemake.to_json(),
            "slurm_job_ids": {
                str(batch): ids for batch, ids in batch_job_ids(self.layout).items()
            },
        }

    def config_counts(self, terminated: dict[str, str] | None = None) -> dict[str, Any]:
        """The counting part of ``configs`` in :meth:`to_json` (no id lists):
        ``total``, ``latest_by_status``, ``completion``, ``terminated_by_reason``
        (from ``terminated``, :meth:`terminated_reasons` when not given)."""
        if terminated is None:
            terminated = self.terminated_reasons()
        by_status = {
            word: len(positions)
            for word, positions in sorted(self.positions_by_status.items())
        }
        success = by_status.get("success", 0)
        total = len(self.planned)
        return {
            "total": total,
            "latest_by_status": by_status,
            "completion": _nonzero(complete=success, pending=total - success),
            "terminated_by_reason": _count(list(terminated.values())),
        }

    def _configs_json(self) -> dict[str, Any]:
        terminated = self.terminated_reasons()
        counts = self.config_counts(terminated)
        unfinished, words = self._unfinished_sorted()
        return {
            **counts,
            **{
                f"{word}_config_ids": list(
                    itertools.compress(unfinished, map(word.__eq__, words))
                )
                for word in ("failed", "terminated", "missing", "running")
            },
            "unfinished_config_ids": unfinished,
            "terminated_reasons": terminated,
        }

    def _unfinished_sorted(self) -> tuple[list[str], list[str]]:
        """The ids of every planned config not in ``success``, sorted, and the
        status of each: one sort serves every id list of the JSON."""
        positions = [
            position
            for word, members in self.positions_by_status.items()
            if word != "success"
            for position in members
        ]
        ids = self.planned.config_ids
        positions.sort(key=ids.__getitem__)
        return (
            list(map(ids.__getitem__, positions)),
            list(map(self.statuses.__getitem__, positions)),
        )

    def _batches_json(self) -> dict[str, Any]:
        counters: dict[int, dict[str, int]] = {}
        batch_of = self.planned.batch_of.__getitem__
        for word, positions in self.positions_by_status.items():
            # Counter over map() counts a million configs at C speed.
            per_batch = Counter(map(batch_of, positions))
            done = "complete" if word == "success" else "pending"
            key = f"latest_{word}"
            # _bump, inlined: this loop runs for every batch and status.
            for batch, count in per_batch.items():
                counts = counters.get(batch)
                if counts is None:
                    counters[batch] = {"planned": count, done: count, key: count}
                else:
                    counts["planned"] += count
                    counts[done] = counts.get(done, 0) + count
                    counts[key] = count
        for position, places in self.planned.extra_places.items():
            word = self.statuses[position]
            done = "complete" if word == "success" else "pending"
            seen = {batch_of(position)}
            for batch, _line in places:
                if batch not in seen:
                    seen.add(batch)
                    _bump(counters, batch, done, f"latest_{word}")
        return {
            "total": self.planned.num_batches,
            "unfinished_batch_indices": sorted(
                batch for batch, counts in counters.items() if counts.get("pending")
            ),
            # Keys are sorted when printed; sorting 60,000 small dicts here
            # again would cost a tenth of a second.
            "by_batch": {str(batch): counters[batch] for batch in sorted(counters)},
        }

    def groups(self) -> list[tuple[tuple[str, ...], list[int]]]:
        """Config positions grouped by their option ids for ``by_packs``, sorted (O7)."""
        if not self.by_packs or self.planned.options is None:
            return []
        options = self.planned.options
        columns = [
            list(map(operator.methodcaller("get", pack, MISSING_PACK), options))
            for pack in self.by_packs
        ]
        keys = list(zip(*columns, strict=True))
        distinct = dict.fromkeys(keys)
        if len(distinct) <= _FEW_GROUPS:
            # One C-level pass per group instead of a Python step per config.
            count = itertools.count
            return sorted(
                (key, list(itertools.compress(count(), map(key.__eq__, keys))))
                for key in distinct
            )
        groups: dict[tuple[str, ...], list[int]] = {}
        for index, key in enumerate(keys):
            groups.setdefault(key, []).append(index)
        return sorted(groups.items())

    def grouped_json(self) -> dict[str, Any]:
        items = []
        ids = self.planned.config_ids
        for key, members in self.groups():
            words = [self.statuses[i] for i in members]
            complete = words.count("success")
            items.append(
                {
                    "key": dict(zip(self.by_packs, key, strict=True)),
                    "total": len(members),
                    "complete": complete,
                    "pending": len(members) - complete,
                    "latest_by_status": _count(words),
                    "unfinished_config_ids": sorted(
                        ids[i] for i in members if self.statuses[i] != "success"
                    ),
                }
            )
        return {"packs": list(self.by_packs), "groups": items}


def _bump(
    counters: dict[int, dict[str, int]], batch: int, done: str, key: str, count: int = 1
) -> None:
    counts = counters.get(batch)
    if counts is None:
        counts = counters[batch] = {"planned": 0}
    counts["planned"] += count
    counts[done] = counts.get(done, 0) + count
    counts[key] = counts.get(key, 0) + count


def _count(words: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return dict(sorted(counts.items()))


def _nonzero(**counts: int) -> dict[str, int]:
    return {key: value for key, value in counts.items() if value}


def build_index(
    run_dir: str | Path,
    *,
    strict: bool = False,
    by_packs: list[str] | None = None,
    with_live: bool = True,
    parallel_min_bytes: int | None = None,
) -> StatusIndex:
    """Read the plan, every attempt record and (cheaply) the live state of a run.

    Never writes anything. ``strict`` turns a corrupt result line into a
    :class:`ConfigError`; ``by_packs`` must name packs of the plan (O7). A large
    run's plan and records are read by forked children on every core
    (:mod:`geryon.observe.parallel`; ``parallel_min_bytes`` overrides its size
    threshold); the result is the same either way.
    """
    layout = RunLayout.open(run_dir)
    packs = list(by_packs or [])
    with paused_gc():
        planned, scan = _read_inputs(layout, packs, strict, parallel_min_bytes)
    state = snakemake_state(layout) if with_live else SnakemakeState()
    running = running_attempts(layout, state) if with_live else {}
    slurm = slurm_overrides(layout, scan.latest)
    statuses, with_records = _statuses(planned, scan, running, slurm)
    return StatusIndex(
        layout=layout,
        planned=planned,
        scan=scan,
        statuses=statuses,
        running=running,
        snakemake=state,
        run_active=with_live and run_lock_held(layout),
        by_packs=packs,
        generated_at=iso_seconds(),
        slurm_reasons=slurm,
        planned_with_records=with_records,
    )


def _read_inputs(
    layout: RunLayout, packs: list[str], strict: bool, min_bytes: int | None
) -> tuple[PlannedConfigs, RecordScan]:
    """The plan and the record scan; the plan is checked before the scan is used,
    so a missing plan or unknown pack is reported exactly as when read serially."""
    files = layout.result_files()
    if not layout.configs_jsonl.is_file():
        load_planned(layout)  # raises the "plan first" error before any scan
    reader = start_plan_reader(
        layout, files, with_options=bool(packs), min_bytes=min_bytes
    )
    try:
        scan = scan_records(files, strict=strict, min_bytes=min_bytes)
    finally:
        planned = reader.result()
    _check_packs(layout, planned, packs)
    return planned, scan


def _statuses(
    planned: PlannedConfigs,
    scan: RecordScan,
    running: dict[str, RunningAttempt],
    slurm: dict[str, str],
) -> tuple[list[str], int]:
    """Each planned config's status, and how many planned configs have a record."""
    recorded = scan.latest.statuses_of(planned.id_bytes())
    with_records = len(recorded) - recorded.count(None)
    statuses = [word or "missing" for word in recorded]
    for position, config_id in _overridden(planned, running, slurm):
        statuses[position] = "terminated" if config_id in slurm else "running"
    return statuses, with_records


def _overridden(
    planned: PlannedConfigs, running: dict[str, RunningAttempt], slurm: dict[str, str]
) -> list[tuple[int, str]]:
    """Positions of configs whose status the live run or Slurm decides."""
    decided = {*running, *slurm}
    if not decided:
        return []
    position = planned.position
    return [(position[cid], cid) for cid in decided if cid in position]


def _check_packs(layout: RunLayout, planned: PlannedConfigs, packs: list[str]) -> None:
    if not packs:
        return
    available = planned.pack_names()
    unknown = [pack for pack in packs if pack not in available]
    if unknown:
        raise ConfigError(
            f"unknown pack(s) for --by-pack: {', '.join(unknown)}; "
            f"the plan has: {', '.join(available) or '(no packs)'}",
            file=layout.configs_jsonl,
            key_path="selected_options",
            hint="Pass pack names exactly as planned",
        )
