"""``rerun`` (retry files, spec O12–O14) and ``recover`` (rerun + execution, O15).

Decisions on upstream quirks:

* Q36 — retry files never overwrite each other: the stamp has microseconds
  (``retry_20260102_030405_123456Z``) and, should that name exist, a counter
  suffix (``..._2``); the file is linked into place with ``os.link``, which fails
  instead of replacing an existing file.
* Q25 — ``recover`` executes only the batches that hold a target
  (``target_batch_indices``); with ``--batch-index`` only the targets in those
  batches are written to the retry file and run.
* Q26 — configs named with ``--config-id`` are passed to the engine as explicit
  ids, which resume never skips, so they run again even if they succeeded.
"""

from __future__ import annotations

import errno
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon import canonical
from geryon.errors import ConfigError
from geryon.observe.index import StatusIndex, build_index
from geryon.timefmt import iso_seconds, utc_now

RERUN_STATUSES = ("failed", "terminated", "missing")
DEFAULT_STATUS = "failed"
NOTES = [
    "target_config_ids lists the configs to run again, in plan order.",
    "Run it with 'geryon run-local --run <run> --retry-file <file>' (resume is on), "
    "or use 'geryon recover' to create and run it in one step.",
]


def parse_statuses(values: tuple[str, ...] | list[str]) -> list[str]:
    """``--status failed,terminated --status missing`` -> validated, de-duplicated."""
    statuses: dict[str, None] = {}
    for value in values:
        for item in value.split(","):
            word = item.strip()
            if not word:
                continue
            if word not in RERUN_STATUSES:
                raise ConfigError(
                    f"unknown status {word!r} for --status; expected one of "
                    f"{', '.join(RERUN_STATUSES)}",
                    key_path="--status",
                    hint="Repeat the flag or separate statuses with commas",
                )
            statuses.setdefault(word, None)
    return list(statuses) or [DEFAULT_STATUS]


@dataclass(frozen=True)
class RerunPlan:
    """The targets of a rerun and the retry payload (spec O13)."""

    payload: dict[str, Any]
    explicit_config_ids: list[str]
    target_batch_indices: list[int]


def _dedupe(values: list[str] | tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values if v.strip()))


def plan_rerun(
    index: StatusIndex,
    statuses: list[str],
    config_ids: list[str] | tuple[str, ...],
    batch_indices: tuple[int, ...] = (),
) -> RerunPlan:
    """Targets = explicit ids plus unsuccessful configs whose status is in ``statuses``.

    ``batch_indices`` (``recover --batch-index``) keeps only targets in those batches.
    """
    explicit = _dedupe(config_ids)
    wanted = _target_positions(index, statuses, explicit, batch_indices)
    order = sorted(wanted)
    targets = [index.planned.config_ids[i] for i in order]
    batches = sorted({b for i in order for b in index.planned.batches_of(i)})
    payload = {
        "created_at": iso_seconds(),
        "run_id": index.layout.run_id,
        "run_root": str(index.layout.root),
        "status_filter": list(statuses),
        "explicit_config_ids": explicit,
        "target_config_ids": targets,
        "target_batch_indices": batches,
        "num_target_configs": len(targets),
        "num_target_batches": len(batches),
        "resume_required": True,
        "notes": list(NOTES),
    }
    return RerunPlan(payload, explicit, batches)


def _target_positions(
    index: StatusIndex,
    statuses: list[str],
    explicit: list[str],
    batch_indices: tuple[int, ...],
) -> set[int]:
    position = index.planned.position
    unknown = [cid for cid in explicit if cid not in position]
    if unknown:
        raise ConfigError(
            f"config id(s) not in the plan: {', '.join(unknown)}",
            file=index.layout.configs_jsonl,
            key_path="--config-id",
            hint="Pass full 40-character config ids from 'geryon status --format json'",
        )
    chosen = set(statuses)
    wanted = {position[cid] for cid in explicit}
    wanted.update(i for i, word in enumerate(index.statuses) if word in chosen)
    if batch_indices:
        keep = set(batch_indices)
        wanted = {i for i in wanted if keep.intersection(index.planned.batches_of(i))}
    if not wanted:
        where = f" in batches {sorted(set(batch_indices))}" if batch_indices else ""
        raise ConfigError(
            f"No rerun targets found for status {', '.join(statuses)}{where} "
            "and no --config-id given",
            file=index.layout.root,
            hint="Check 'geryon status --run <run>'; nothing matches the filter",
        )
    return wanted


def write_retry_file(retries_dir: Path, payload: dict[str, Any]) -> Path:
    """Write ``retry_<stamp>.json`` under a name no other rerun has (Q36).

    The text goes to a temporary file first and is then hard-linked to the final
    name: ``os.link`` is atomic and fails when the name exists, so a concurrent
    rerun can neither overwrite this file nor see half of it.
    """
    retries_dir.mkdir(parents=True, exist_ok=True)
    stamp = utc_now().strftime("%Y%m%d_%H%M%S_%fZ")
    fd, tmp = tempfile.mkstemp(prefix=".retry_", suffix=".tmp", dir=retries_dir)
    try:
        for attempt in range(1, 1000):
            retry_id = f"retry_{stamp}" if attempt == 1 else f"retry_{stamp}_{attempt}"
            text = canonical.pretty({**payload, "retry_id": retry_id})
            os.ftruncate(fd, 0)
            os.pwrite(fd, text.encode("utf-8"), 0)
            os.fsync(fd)
            target = retries_dir / f"{retry_id}.json"
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            payload["retry_id"] = retry_id
            return target
    finally:
        os.close(fd)
        Path(tmp).unlink(missing_ok=True)
    raise OSError(
        errno.EEXIST, "could not find a free retry file name", str(retries_dir)
    )


def rerun(
    run_dir: str | Path,
    *,
    statuses: list[str],
    config_ids: list[str] | tuple[str, ...] = (),
    dry_run: bool = False,
    batch_indices: tuple[int, ...] = (),
) -> tuple[dict[str, Any], RerunPlan]:
    """Spec O12–O14: the retry payload plus ``retry_file`` (null in dry run) and ``dry_run``."""
    index = build_index(run_dir)
    plan = plan_rerun(index, statuses, config_ids, batch_indices)
    payload = dict(plan.payload)
    path = None
    if dry_run:
        payload["retry_id"] = f"retry_{utc_now().strftime('%Y%m%d_%H%M%S_%fZ')}"
    else:
        path = write_retry_file(index.layout.retries_dir, payload)
    payload["retry_file"] = str(path) if path else None
    payload["dry_run"] = dry_run
    return payload, plan


@dataclass(frozen=True)
class RecoverOptions:
    backend: str = "local"
    profile: str | None = None
    profiles_file: Path | None = None
    batch_indices: tuple[int, ...] = ()
    dry_run: bool = False


def recover(
    run_dir: str | Path,
    *,
    statuses: list[str],
    config_ids: list[str] | tuple[str, ...] = (),
    options: RecoverOptions | None = None,
) -> tuple[dict[str, Any], int]:
    """Spec O15: ``{backend, dry_run, retry, execution}`` and the exit code.

    The exit code is the execution's: 0 when every recovered config succeeded, 1
    otherwise; 0 for a dry run, which writes nothing and runs nothing.
    """
    options = options or RecoverOptions()
    retry, plan = rerun(
        run_dir,
        statuses=statuses,
        config_ids=config_ids,
        dry_run=options.dry_run,
        batch_indices=options.batch_indices,
    )
    result: dict[str, Any] = {
        "backend": options.backend,
        "dry_run": options.dry_run,
        "retry": retry,
    }
    if options.dry_run:
        result["execution"] = {
            "skipped": True,
            "reason": "dry_run",
            "backend": options.backend,
        }
        return result, 0
    report = _execute(run_dir, retry["retry_file"], plan, options)
    result["execution"] = report.to_json()
    return result, int(report.exit_code)


def _execute(
    run_dir: str | Path,
    retry_file: str,
    plan: RerunPlan,
    options: RecoverOptions,
) -> Any:
    # Imported here: the engine pulls in Snakemake, which status/report never need.
    from geryon.engine import ExecutionRequest, execute

    request = ExecutionRequest(
        run_dir=Path(run_dir).expanduser().resolve(),
        backend=options.backend,
        profile=options.profile,
        profiles_file=options.profiles_file,
        batch_indices=tuple(plan.target_batch_indices),
        config_ids=tuple(plan.explicit_config_ids),
        retry_file=Path(retry_file),
        force_resume="recover",
        dry_run=False,
    )
    return execute(request)
