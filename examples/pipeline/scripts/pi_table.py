"""Second stage of the example pipeline: one table row per config of the sweep.

    python scripts/pi_table.py <run>/exec/results/summary.json results/pi_table.tsv

Reads the sweep's summary (written by geryon collect) for the run root, the plan
for each config's options, the attempt records for each config's latest attempt,
and that attempt's ``metrics.json`` (written by the app into its Hydra run
directory). Rows are sorted by sample count, then seed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from geryon.layout import RunLayout
from geryon.planfiles import iter_configs
from geryon.storage import read_jsonl, write_text_atomic

COLUMNS = ("config_id", "samples", "seed", "status", "estimate", "abs_error")


def latest_attempts(layout: RunLayout) -> dict[str, dict[str, Any]]:
    """The latest attempt record of each config (end times are fixed-width UTC)."""
    latest: dict[str, dict[str, Any]] = {}
    for path in layout.result_files():
        for record in read_jsonl(path):
            current = latest.get(record["config_id"])
            if current is None or record["end_time"] >= current["end_time"]:
                latest[record["config_id"]] = record
    return latest


def metrics_of(layout: RunLayout, record: dict[str, Any]) -> dict[str, Any]:
    workdir = layout.workdir(
        record["job_id"],
        record["array_task_id"],
        record["batch_index"],
        record["line_index"],
        record["config_id"],
        record["attempt_id"],
    )
    path = workdir / "metrics.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def table_rows(summary_path: Path) -> list[dict[str, Any]]:
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    layout = RunLayout(Path(summary["run_root"]))
    latest = latest_attempts(layout)
    rows = []
    for config in iter_configs(layout):
        record = latest.get(config["config_id"], {})
        metrics = metrics_of(layout, record) if record else {}
        rows.append(
            {
                "config_id": config["config_id"],
                "samples": config["params"]["samples"],
                "seed": config["params"]["seed"],
                "status": record.get("status", "missing"),
                "estimate": metrics.get("estimate", ""),
                "abs_error": metrics.get("abs_error", ""),
            }
        )
    return sorted(rows, key=lambda row: (row["samples"], row["seed"]))


def main(argv: list[str]) -> int:
    summary_path, out_path = Path(argv[0]), Path(argv[1])
    lines = ["\t".join(COLUMNS)]
    for row in table_rows(summary_path):
        lines.append("\t".join(str(row[column]) for column in COLUMNS))
    write_text_atomic(out_path, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
