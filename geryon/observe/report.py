"""``report``: the status summary plus durations and failure details (spec O8, O9).

The payload is spec O8 with two additions: ``durations`` (min / median / max of
the latest attempts' ``duration_sec``, overall and per group) and ``failures``
(failed and terminated configs, the most recently ended first, at most
``FAILURES_SHOWN`` of them with log paths and the last stderr lines; ``more`` says
how many were left out). Markdown follows O9 and appends ``## Durations`` and
``## Failures``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from geryon.observe.details import (
    duration_stats,
    durations_json,
    failure_details,
    recent_failures,
)
from geryon.observe.index import StatusIndex

FAILURES_SHOWN = 20
STDERR_TAIL_LINES = 5
UNFINISHED_SHOWN = 64
_BACKTICKS = re.compile("`+")


def report_payload(index: StatusIndex) -> dict[str, Any]:
    summary = index.to_json()
    grouped = summary.pop("grouped_by_packs")
    total, shown = recent_failures(index, FAILURES_SHOWN)
    return {
        "run_id": summary["run_id"],
        "run_root": summary["run_root"],
        "generated_at": summary["generated_at"],
        "summary": summary,
        "grouped_by_packs": grouped,
        "durations": durations_json(index),
        "failures": {
            "total": total,
            "more": total - len(shown),
            "items": failure_details(index, shown, tail_lines=STDERR_TAIL_LINES),
        },
    }


def _cell(value: Any) -> str:
    """Table cell text: pipes escaped and line breaks flattened, so rows stay rows."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join("---" for _ in header) + " |",
    ]
    lines.extend("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows)
    return lines


def _seconds(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def render_markdown(payload: dict[str, Any]) -> str:
    sections = [
        _head(payload),
        _totals(payload["summary"]),
        _latest(payload["summary"]),
        _unfinished(payload["summary"]),
    ]
    grouped = payload["grouped_by_packs"]
    if grouped["packs"]:
        sections.append(_grouped(grouped))
    sections.append(_durations(payload["durations"]))
    sections.append(_failures(payload["failures"]))
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"


def _head(payload: dict[str, Any]) -> list[str]:
    return [
        "# Geryon Report",
        "",
        f"- Run ID: `{payload['run_id']}`",
        f"- Run Root: `{payload['run_root']}`",
        f"- Generated: `{payload['generated_at']}`",
    ]


def _totals(summary: dict[str, Any]) -> list[str]:
    completion = summary["configs"]["completion"]
    rows = [
        ["Configs", summary["configs"]["total"]],
        ["Attempts", summary["attempts"]["total"]],
        ["Corrupt JSONL Lines", summary["corrupt_result_lines"]],
        ["Complete Configs", completion.get("complete", 0)],
        ["Pending Configs", completion.get("pending", 0)],
    ]
    return ["## Totals", "", *_table(["Metric", "Value"], rows)]


def _latest(summary: dict[str, Any]) -> list[str]:
    counts = summary["configs"]["latest_by_status"]
    rows = [[status, counts[status]] for status in sorted(counts)] or [["<none>", 0]]
    return ["## Latest Config Status", "", *_table(["Status", "Count"], rows)]


def _unfinished(summary: dict[str, Any]) -> list[str]:
    ids = summary["configs"]["unfinished_config_ids"]
    lines = ["## Unfinished Config IDs", ""]
    lines.extend(f"- `{config_id}`" for config_id in ids[:UNFINISHED_SHOWN])
    if len(ids) > UNFINISHED_SHOWN:
        lines.append(f"- ... and {len(ids) - UNFINISHED_SHOWN} more")
    if not ids:
        lines.append("- none")
    return lines


def _group_label(key: dict[str, str]) -> str:
    return ", ".join(f"{pack}={option}" for pack, option in key.items())


def _grouped(grouped: dict[str, Any]) -> list[str]:
    rows = [
        [
            _group_label(group["key"]),
            group["total"],
            group["complete"],
            group["pending"],
            json.dumps(group["latest_by_status"], sort_keys=True),
        ]
        for group in grouped["groups"]
    ]
    header = ["Group", "Total", "Complete", "Pending", "Latest By Status"]
    return [
        "## Grouped Status",
        "",
        f"Grouped by: `{', '.join(grouped['packs'])}`",
        "",
        *_table(header, rows),
    ]


def _durations(durations: dict[str, Any]) -> list[str]:
    def row(label: str, stats: dict[str, Any]) -> list[Any]:
        return [
            label,
            stats["count"],
            _seconds(stats["min_sec"]),
            _seconds(stats["median_sec"]),
            _seconds(stats["max_sec"]),
        ]

    rows = [row("all", durations["overall"])]
    rows.extend(row(_group_label(g["key"]), g) for g in durations["groups"])
    header = ["Group", "Attempts", "Min (s)", "Median (s)", "Max (s)"]
    return [
        "## Durations",
        "",
        "Latest attempt of each config.",
        "",
        *_table(header, rows),
    ]


def _failures(failures: dict[str, Any]) -> list[str]:
    lines = ["## Failures", ""]
    if not failures["items"]:
        return [*lines, "- none"]
    for item in failures["items"]:
        reason = f" ({item['status_reason']})" if item["status_reason"] else ""
        tail = item["stderr_tail"] or ["(stderr is empty)"]
        fence = _fence(tail)
        lines.extend(
            [
                f"### `{item['config_id']}`",
                "",
                f"- Status: `{item['status']}`{reason}, exit code "
                f"`{item['exit_code']}`",
                f"- Batch / line: `{item['batch_index']}` / `{item['line_index']}`",
                f"- Stderr log: `{item['stderr_path']}`",
                f"- Stdout log: `{item['stdout_path']}`",
                *(
                    [f"- Slurm job log: `{item['slurm_log']}`"]
                    if item["slurm_log"]
                    else []
                ),
                "",
                f"{fence}text",
                *tail,
                fence,
                "",
            ]
        )
    if failures["more"]:
        lines.append(f"... and {failures['more']} more failed configs.")
    while lines[-1] == "":
        lines.pop()
    return lines


def _fence(lines: list[str]) -> str:
    """A code fence longer than any backtick run in ``lines``."""
    longest = max(
        (len(run) for line in lines for run in _BACKTICKS.findall(line)), default=0
    )
    return "`" * max(3, longest + 1)


__all__ = ["duration_stats", "render_markdown", "report_payload"]
