"""``collect``: the attempt summary ``exec/results/summary.json`` (spec O10, O11).

Reads only the result files (it works on a run without a plan). The latest attempt
of each config is chosen by the same ordering as ``status`` (parsed end time, start
time, attempt id), not by upstream's "later line wins on equal end-time text", so
the two commands always agree (Q35 fixed). ``run_id`` is the run directory's name,
as in upstream (spec O11).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geryon.errors import ConfigError
from geryon.layout import RunLayout
from geryon.observe.parallel import scan_records
from geryon.storage import write_json_atomic
from geryon.timefmt import iso_seconds


def _layout(run_dir: str | Path) -> RunLayout:
    root = Path(run_dir).expanduser().resolve()
    if not root.is_dir():
        raise ConfigError(
            "run directory not found",
            file=root,
            hint="Pass the run directory printed by 'geryon plan' (<out>/runs/<run_id>)",
        )
    return RunLayout(root)


def build_summary(layout: RunLayout, *, strict: bool = False) -> dict[str, Any]:
    """The O11 summary object (not written)."""
    scan = scan_records(layout.result_files(), strict=strict, count_batches=True)
    final: dict[str, int] = {}
    failed = []
    for config_id in scan.latest:
        status = scan.latest.status_of(config_id) or "missing"
        final[status] = final.get(status, 0) + 1
        if status in ("failed", "terminated"):
            failed.append(config_id)
    failed.sort()
    return {
        "run_id": layout.root.name,
        "run_root": str(layout.root),
        "generated_at": iso_seconds(),
        "num_result_files": len(scan.files),
        "corrupt_result_lines": scan.corrupt_lines,
        "result_files": [str(path) for path in scan.files],
        "attempts": {
            "total": scan.total_attempts,
            "by_status": dict(sorted(scan.attempts_by_status.items())),
        },
        "configs": {
            "total": len(scan.latest),
            "final_by_status": dict(sorted(final.items())),
            "failed_config_ids": failed,
        },
        "batches": {
            "total": len(scan.by_batch),
            "by_batch": {
                str(batch): dict(sorted(scan.by_batch[batch].items()))
                for batch in sorted(scan.by_batch)
            },
        },
    }


def collect(
    run_dir: str | Path, *, strict: bool = False, dry_run: bool = False
) -> dict[str, Any]:
    """Build the summary and, unless ``dry_run``, write it atomically.

    Returns the summary plus ``summary_path`` (null in a dry run) and ``dry_run``.
    """
    layout = _layout(run_dir)
    summary = build_summary(layout, strict=strict)
    path = None
    if not dry_run:
        path = layout.summary_json
        write_json_atomic(path, summary)
    return {**summary, "summary_path": str(path) if path else None, "dry_run": dry_run}
