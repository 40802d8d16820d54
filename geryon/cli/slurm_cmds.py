"""``run-slurm`` (alias ``slurm``): run a planned run on Slurm through Snakemake's
Slurm executor plugin, one job per batch (or per ``batches_per_task`` batches).

The command blocks while Snakemake submits and watches the jobs (run it under
tmux or nohup for long sweeps); ``geryon status`` works meanwhile from another
shell. Exit codes as run-local: 0 every selected config succeeded, 1 some did
not, 2 bad input.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
import math
import shutil
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from geryon import timefmt
from geryon.cli.output import console, emit_json, format_option
from geryon.cli.run_cmds import (
    _selection_options,
    build_request,
    run_target_options,
    show_report,
)
from geryon.engine import ExecutionReport, ExecutionRequest, execute
from geryon.engine.runner import prepare
from geryon.engine.snakefile import rule_prefix
from geryon.errors import ConfigError, GeryonError
from geryon.layout import RunLayout
from geryon.slurm.accounting import (
    choose_status_command,
    run_job_summary,
    submitted_job_ids,
)
from geryon.slurm.limits import SiteLimits, limit_warnings, read_site_limits
from geryon.slurm.queue import FIELDS, QueueWatch, persist, query_queue
from geryon.slurm.resources import check_group_log_dir, group_runtime_min
from geryon.storage import append_jsonl, write_json_atomic

log = logging.getLogger("geryon.cli.slurm")

SLURM_SCALAR_FLAGS = (
    "partition",
    "time_min",
    "cpus_per_task",
    "mem_gb",
    "gpus_per_node",
    "job_name",
    "mail_user",
    "mail_type",
    "query_status",
)


def _slurm_options(func: Any) -> Any:
    options = [
        click.option("--partition", help="Slurm partition."),
        click.option("--time-min", type=int, help="Time limit per batch (minutes)."),
        click.option("--cpus-per-task", type=int, help="CPUs of each Slurm job."),
        click.option("--mem-gb", type=int, help="Memory of each Slurm job (GB)."),
        click.option("--gpus-per-node", type=int, help="GPUs (--gres=gpu:N)."),
        click.option("--job-name", help="Slurm job-name prefix."),
        click.option("--mail-user", help="sbatch --mail-user."),
        click.option("--mail-type", help="sbatch --mail-type (e.g. END,FAIL)."),
        click.option(
            "--query-status/--no-query-status",
            default=None,
            help="Record the run's squeue rows in exec/queue_status.json.",
        ),
        click.option(
            "--slurm-setup-cmd",
            "slurm_setup_cmds",
            multiple=True,
            help="Shell line run in each job before the wrapper (repeatable).",
        ),
        click.option(
            "--sbatch-option",
            "sbatch_options",
            multiple=True,
            help="Extra sbatch option KEY=VALUE or KEY (repeatable).",
        ),
        click.option(
            "--max-jobs",
            type=click.IntRange(min=1),
            help="Slurm jobs in flight at once (default: the site's queue limit).",
        ),
        click.option(
            "--status-command",
            type=click.Choice(["sacct", "squeue"]),
            help="How the plugin polls job states (default: squeue if MinJobAge allows).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def parse_sbatch_options(values: tuple[str, ...]) -> dict[str, Any]:
    """``KEY=VALUE`` (value is text) or ``KEY`` (value true), F13.4."""
    options: dict[str, Any] = {}
    for text in values:
        key, sep, value = text.partition("=")
        if not key.strip():
            raise ConfigError(
                f"--sbatch-option {text!r} has no option name",
                hint="Write KEY=VALUE or KEY, e.g. --sbatch-option qos=normal",
            )
        options[key.strip()] = value if sep else True
    return options


def slurm_cli_values(flags: dict[str, Any]) -> dict[str, Any]:
    values = {name: flags.get(name) for name in SLURM_SCALAR_FLAGS}
    values["slurm_setup_cmds"] = list(flags.get("slurm_setup_cmds") or ())
    values["sbatch_options"] = parse_sbatch_options(
        tuple(flags.get("sbatch_options") or ())
    )
    return values


@click.command("run-slurm")
@run_target_options
@_slurm_options
@_selection_options
def run_slurm(run_dir: Path, **flags: Any) -> int:
    """Run a planned run on Slurm (snakemake-executor-plugin-slurm).

    Slurm resources come from the profile (--profile) and the flags above;
    --dry-run prints them with their sources and the exact snakemake command
    without submitting anything.
    """
    request, warnings, details = slurm_request(run_dir, flags)
    if request.dry_run:
        report = execute(request)
        _show(report, flags, warnings, jobs=[], queue=None)
        return report.exit_code
    require_slurm_tools()
    layout = RunLayout.open(run_dir)
    query = bool(details["effective_config"].get("query_status"))
    _launcher_event(layout, "slurm_submit_start", request)
    with QueueWatch(layout, enabled=query) as watch:
        report = execute(request)
    jobs = run_job_summary(layout)
    _record_jobs(layout, report, jobs)
    _show(report, flags, warnings, jobs=jobs, queue=watch.last)
    return report.exit_code


def require_slurm_tools() -> None:
    """Fail before Snakemake starts when nothing could be submitted."""
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        raise GeryonError(
            "snakemake-executor-plugin-slurm is not installed; install geryon's "
            "'slurm' extra (uv sync --extra slurm)"
        )
    missing = [tool for tool in ("sbatch", "squeue") if shutil.which(tool) is None]
    if missing:
        raise GeryonError(
            f"Slurm's {' and '.join(missing)} not found on PATH; run run-slurm on a "
            "machine that can submit jobs (a login node), or use --dry-run"
        )


def slurm_request(
    run_dir: Path, flags: dict[str, Any]
) -> tuple[ExecutionRequest, list[str], dict[str, Any]]:
    """The execution request plus site-limit warnings, all decided before any
    submission (a side-effect-free engine prepare counts the batches)."""
    base = build_request(run_dir, "slurm", flags)
    layout = RunLayout.open(run_dir)
    options: dict[str, Any] = {
        "slurm": slurm_cli_values(flags),
        "max_jobs": flags.get("max_jobs"),
        "status_command": flags.get("status_command"),
        "exec_dir": str(layout.exec_dir),
        "site_limits": SiteLimits(),
    }
    probe = prepare(dataclasses.replace(base, backend_options=options, dry_run=True))
    details: dict[str, Any] = probe.spec.details["slurm"]
    partition = details["effective_config"]["partition"]
    limits = read_site_limits(partition)
    options["status_command"] = choose_status_command(
        flags.get("status_command"), limits.min_job_age_sec
    )
    per_task = int(details["batches_per_task"])
    num_batches = len(probe.selection.batch_indices)
    check_group_log_dir(
        rule_prefix(layout.run_id),
        per_task,
        max(probe.selection.batch_indices, default=0),
    )
    options["site_limits"] = limits
    options["expected_jobs"] = math.ceil(num_batches / per_task)
    warnings = limit_warnings(
        limits,
        num_batches=num_batches,
        batches_per_task=per_task,
        max_jobs=flags.get("max_jobs"),
        job_time_min=group_runtime_min(
            details["effective_config"]["time_min"], min(per_task, num_batches)
        ),
    )
    for warning in warnings:
        log.warning("%s", warning)
    return dataclasses.replace(base, backend_options=options), warnings, details


def _launcher_event(layout: RunLayout, event: str, request: ExecutionRequest) -> None:
    """``exec/launcher.log`` (JSONL), as upstream's E45."""
    layout.exec_dir.mkdir(parents=True, exist_ok=True)
    append_jsonl(
        layout.exec_dir / "launcher.log",
        {
            "event": event,
            "time": timefmt.iso_seconds(),
            "run_id": layout.run_id,
            "profile_name": request.profile,
        },
    )


def _record_jobs(
    layout: RunLayout, report: ExecutionReport, jobs: list[dict[str, Any]]
) -> None:
    """``exec/slurm_jobs.json``: the run's Slurm jobs (the E44 analogue)."""
    stamp = timefmt.compact_stamp()
    payload = {
        "run_id": layout.run_id,
        "written_at": timefmt.iso_seconds(),
        "selection_id": report.selection.get("selection_id"),
        "jobs": jobs,
        "job_ids": [row["job_id"] for row in jobs],
    }
    write_json_atomic(layout.exec_dir / "slurm_jobs.json", payload)
    write_json_atomic(
        layout.exec_dir / "slurm_jobs" / f"slurm_jobs_{stamp}.json", payload
    )
    append_jsonl(
        layout.exec_dir / "launcher.log",
        {
            "event": "slurm_submit_end",
            "time": timefmt.iso_seconds(),
            "run_id": layout.run_id,
            "job_ids": payload["job_ids"],
            "exit_code": report.exit_code,
        },
    )


def _show(
    report: ExecutionReport,
    flags: dict[str, Any],
    warnings: list[str],
    *,
    jobs: list[dict[str, Any]],
    queue: dict[str, Any] | None,
) -> None:
    details = report.snakemake.get("backend_details", {}).get("slurm", {})
    if flags["output_format"] == "json":
        payload = report.to_json()
        payload["slurm"] = {
            **details,
            "submitted": not report.dry_run,
            "site_limit_warnings": warnings,
            "jobs": jobs,
            "queue_status": queue,
            "launcher_log_path": str(Path(report.run_root) / "exec" / "launcher.log"),
        }
        emit_json(payload)
        return
    out = console()
    out.print(resources_table(details))
    for warning in warnings:
        out.print(f"warning: {warning}", highlight=False)
    show_report(report, "table")
    if jobs:
        out.print(jobs_table(jobs))


def resources_table(details: dict[str, Any]) -> Table:
    table = Table(title="Slurm resources")
    for column in ("field", "value", "source"):
        table.add_column(column)
    sources = details.get("source_of_truth", {})
    for key, value in details.get("effective_config", {}).items():
        table.add_row(key, _text(value), sources.get("scalars", {}).get(key, ""))
    for key, item in sources.get("sbatch_option", {}).items():
        table.add_row(f"sbatch {key}", _text(item["value"]), item["source"])
    for item in sources.get("slurm_setup_cmds", []):
        table.add_row("setup", item["command"], item["source"])
    table.add_row("batches_per_task", str(details.get("batches_per_task")), "")
    table.add_row("status command", str(details.get("status_command")), "")
    for note in details.get("resolution_warnings", []):
        table.add_row("note", note, "")
    return table


def jobs_table(jobs: list[dict[str, Any]]) -> Table:
    table = Table(title="Slurm jobs")
    for column in ("job", "state", "batches", "commands ended", "unfinished"):
        table.add_column(column)
    for row in jobs:
        table.add_row(
            row["job_id"],
            str(row["state"]),
            ",".join(str(b) for b in row["batch_indices"]),
            str(row["commands_ended"]),
            str(row["commands_unfinished"]),
        )
    return table


def _text(value: Any) -> str:
    return "null" if value is None else str(value)


def _queue_command(name: str, persist_status: bool, doc: str) -> click.Command:
    @click.command(name, help=doc)
    @click.option(
        "--run",
        "run_dir",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Run root.",
    )
    @click.option(
        "--job-id",
        "job_ids",
        multiple=True,
        help="Slurm job id (repeatable; default: the run's jobs).",
    )
    @format_option("table", "json")
    def command(run_dir: Path, job_ids: tuple[str, ...], output_format: str) -> int:
        layout = RunLayout.open(run_dir)
        if not job_ids and not submitted_job_ids(layout):
            raise ConfigError(
                "no Slurm jobs are recorded for this run",
                file=layout.exec_dir,
                hint="Run 'geryon run-slurm' first, or pass --job-id",
            )
        status = query_queue(layout, job_ids or None)
        if persist_status:
            persist(layout, status)
        if output_format == "json":
            emit_json(status)
        else:
            console().print(queue_table(status))
        return 0

    return command


def queue_table(status: dict[str, Any]) -> Table:
    table = Table(title=f"squeue at {status['queried_at']}")
    if not status["available"]:
        table.add_column("error")
        table.add_row(str(status.get("error")))
        return table
    for column in FIELDS:
        table.add_column(column)
    for row in status["jobs"]:
        table.add_row(*(row[c] for c in FIELDS))
    return table


queue = _queue_command(
    "queue",
    False,
    "Show the run's Slurm jobs as squeue sees them (nothing is written).",
)
queue_refresh = _queue_command(
    "queue-refresh",
    True,
    "Query squeue for the run's jobs and save exec/queue_status.json.",
)

COMMANDS = [run_slurm, queue, queue_refresh]
