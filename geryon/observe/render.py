"""Terminal views (rich) of status, report, collect, rerun, recover and clean.

The status view is made to fit one screen: totals, a progress bar, per-status
counts in colour, the slowest configs, the most recent failures with their stderr
log and its last line, and the next command to run.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from geryon.observe.details import (
    failure_details,
    next_command,
    recent_failures,
    slowest,
)
from geryon.observe.index import StatusIndex

STATUS_STYLE = {
    "success": "green",
    "failed": "bold red",
    "terminated": "magenta",
    "running": "cyan",
    "missing": "yellow",
}
SHOWN = 5


def _styled(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, "white"))


def _short(config_id: str) -> str:
    return config_id[:12]


def _relative(index: StatusIndex, path: Any) -> str:
    """A log path relative to the run root, so the status table stays narrow."""
    text = str(path)
    root = f"{index.layout.root}/"
    return text[len(root) :] if text.startswith(root) else text


def status_view(index: StatusIndex) -> RenderableType:
    """The status table: built from counts, without the id lists of the JSON."""
    configs = index.config_counts()
    total = configs["total"]
    complete = configs["completion"].get("complete", 0)
    percent = 100.0 * complete / total if total else 100.0
    active = "[cyan]active[/]" if index.run_active else "not running"
    head = Text.from_markup(
        f"[bold]{index.layout.run_id}[/]  {index.layout.root}\n"
        f"{total} configs, {index.scan.total_attempts} attempts, "
        f"{index.scan.corrupt_lines} corrupt result lines; run {active}"
    )
    progress = Table.grid(padding=(0, 1))
    progress.add_row(
        ProgressBar(total=max(total, 1), completed=complete, width=40),
        Text(f"{percent:.1f}% complete ({complete}/{total})"),
    )
    parts: list[RenderableType] = [head, progress, _counts_table(configs)]
    parts.extend(_slowest_table(index))
    parts.extend(_failures_table(index))
    parts.append(Text.from_markup(f"next: [bold]{next_command(index)}[/]"))
    return Group(*parts)


def _counts_table(configs: dict[str, Any]) -> Table:
    table = Table(title="Latest status per config", title_justify="left")
    table.add_column("status")
    table.add_column("configs", justify="right")
    table.add_column("detail")
    reasons = configs.get("terminated_by_reason", {})
    for status, count in configs["latest_by_status"].items():
        detail = ""
        if status == "terminated" and reasons:
            detail = ", ".join(f"{r}: {n}" for r, n in reasons.items())
        table.add_row(_styled(status), str(count), detail)
    return table


def _slowest_table(index: StatusIndex) -> list[RenderableType]:
    rows = slowest(index, SHOWN)
    if not rows:
        return []
    table = Table(title="Slowest configs (latest attempt)", title_justify="left")
    for column in ("config", "seconds", "status"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            _short(row["config_id"]),
            f"{row['duration_sec']:.1f}",
            _styled(row["status"]),
        )
    return [table]


def _failures_table(index: StatusIndex) -> list[RenderableType]:
    total, failed = recent_failures(index, SHOWN)
    if not failed:
        return []
    table = Table(
        title=f"Most recent failures ({len(failed)} of {total})",
        title_justify="left",
    )
    for column in ("config", "status", "stderr log", "last line"):
        table.add_column(column, overflow="fold")
    for item in failure_details(index, failed, tail_lines=1):
        status = item["status"]
        if item["status_reason"]:
            status = f"{status} ({item['status_reason']})"
        table.add_row(
            _short(item["config_id"]),
            Text(status, style=STATUS_STYLE.get(item["status"], "white")),
            _relative(index, item["stderr_path"]),
            (item["stderr_tail"] or [""])[-1],
        )
    return [table]


def report_view(payload: dict[str, Any]) -> RenderableType:
    summary = payload["summary"]
    parts: list[RenderableType] = [
        Text.from_markup(
            f"[bold]Geryon report[/] {payload['run_id']}  {payload['run_root']}"
        ),
        _counts_table(summary["configs"]),
    ]
    grouped = payload["grouped_by_packs"]
    if grouped["packs"]:
        table = Table(
            title=f"Grouped by {', '.join(grouped['packs'])}", title_justify="left"
        )
        for column in ("group", "total", "complete", "pending", "latest by status"):
            table.add_column(column)
        for group in grouped["groups"]:
            label = ", ".join(f"{k}={v}" for k, v in group["key"].items())
            counts = ", ".join(
                f"{k}: {v}" for k, v in group["latest_by_status"].items()
            )
            table.add_row(
                label,
                str(group["total"]),
                str(group["complete"]),
                str(group["pending"]),
                counts,
            )
        parts.append(table)
    parts.append(_durations_table(payload["durations"]))
    parts.extend(_report_failures(payload["failures"]))
    return Group(*parts)


def _durations_table(durations: dict[str, Any]) -> Table:
    table = Table(title="Durations of latest attempts (s)", title_justify="left")
    for column in ("group", "attempts", "min", "median", "max"):
        table.add_column(column)

    def cells(stats: dict[str, Any]) -> list[str]:
        values = [stats["min_sec"], stats["median_sec"], stats["max_sec"]]
        return [str(stats["count"])] + [
            "-" if v is None else f"{v:.3f}" for v in values
        ]

    table.add_row("all", *cells(durations["overall"]))
    for group in durations["groups"]:
        label = ", ".join(f"{k}={v}" for k, v in group["key"].items())
        table.add_row(label, *cells(group))
    return table


def _report_failures(failures: dict[str, Any]) -> list[RenderableType]:
    if not failures["items"]:
        return [Text("failures: none", style="green")]
    table = Table(title=f"Failures ({failures['total']})", title_justify="left")
    for column in ("config", "status", "logs", "stderr (last lines)"):
        table.add_column(column, overflow="fold")
    for item in failures["items"]:
        logs = f"{item['stderr_path']}\n{item['stdout_path']}"
        if item["slurm_log"]:
            logs += f"\n{item['slurm_log']}"
        table.add_row(
            _short(item["config_id"]),
            _styled(item["status"]),
            logs,
            "\n".join(item["stderr_tail"]),
        )
    parts: list[RenderableType] = [table]
    if failures["more"]:
        parts.append(Text(f"... and {failures['more']} more failed configs"))
    return parts


def collect_view(summary: dict[str, Any]) -> RenderableType:
    table = Table(title=f"Collected {summary['run_id']}", title_justify="left")
    table.add_column("final status")
    table.add_column("configs", justify="right")
    for status, count in summary["configs"]["final_by_status"].items():
        table.add_row(_styled(status), str(count))
    where = summary["summary_path"] or "(dry run: nothing written)"
    footer = Text(
        f"{summary['attempts']['total']} attempts in {summary['num_result_files']} "
        f"result files, {summary['corrupt_result_lines']} corrupt lines; summary: {where}"
    )
    return Group(table, footer)


def rerun_view(payload: dict[str, Any]) -> RenderableType:
    where = payload["retry_file"] or "(dry run: nothing written)"
    return Text(
        f"{payload['num_target_configs']} configs in {payload['num_target_batches']} "
        f"batches to run again (status {', '.join(payload['status_filter'])}); "
        f"retry file: {where}"
    )


def recover_view(result: dict[str, Any]) -> RenderableType:
    execution = result["execution"]
    if execution.get("skipped"):
        status = "execution skipped (dry run)"
    else:
        status = f"execution on {result['backend']} finished"
    return Group(rerun_view(result["retry"]), Text(status))


def clean_view(result: dict[str, Any]) -> RenderableType:
    table = Table(title="clean", title_justify="left")
    table.add_column("path", overflow="fold")
    table.add_column("result")
    for path in result["removed"]:
        table.add_row(path, Text("removed", style="green"))
    for path in result["not_present"]:
        table.add_row(path, Text("not present", style="yellow"))
    for name in result["tmux_sessions_killed"]:
        table.add_row(f"tmux session {name}", Text("killed", style="green"))
    return table


def show(console: Console, renderable: RenderableType) -> None:
    console.print(renderable)
