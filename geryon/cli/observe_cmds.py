"""CLI: status, report, collect, rerun, recover, clean (spec §9)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from geryon.canonical import pretty
from geryon.cli.output import console, emit_json, format_option, keep_until_exit
from geryon.observe import render
from geryon.observe.clean import clean
from geryon.observe.collect import collect
from geryon.observe.index import build_index, parse_by_pack
from geryon.observe.jsonout import emit_pretty_json
from geryon.observe.report import render_markdown, report_payload
from geryon.observe.rerun import RecoverOptions, parse_statuses, recover, rerun
from geryon.observe.scan import paused_gc
from geryon.storage import write_text_atomic

RUN_OPTION = click.option(
    "--run",
    "run_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Run directory (<out>/runs/<run_id>).",
)
STRICT_OPTION = click.option(
    "--strict-jsonl",
    is_flag=True,
    help="Fail (exit 2) on a result line that is not a complete JSON object.",
)
BY_PACK_OPTION = click.option(
    "--by-pack",
    "by_pack",
    multiple=True,
    help="Group by the option of these packs (repeatable or comma-separated).",
)
STATUS_OPTION = click.option(
    "--status",
    "statuses",
    multiple=True,
    help="Latest status to run again: failed (default), terminated, missing; "
    "repeatable or comma-separated.",
)
CONFIG_ID_OPTION = click.option(
    "--config-id",
    "config_ids",
    multiple=True,
    help="Also run this config (full id), even if it succeeded; repeatable.",
)
DRY_RUN_OPTION = click.option(
    "--dry-run", is_flag=True, help="Show what would happen; write and run nothing."
)


def _print(output_format: str, payload: Any, view: Callable[[], Any]) -> None:
    """JSON on stdout, or the rich view (built only when shown)."""
    if output_format == "json":
        emit_pretty_json(payload)
    else:
        render.show(console(), view())


@click.command("status")
@RUN_OPTION
@format_option("table", "json")
@BY_PACK_OPTION
@STRICT_OPTION
def status_cmd(
    run_dir: Path, output_format: str, by_pack: tuple[str, ...], strict_jsonl: bool
) -> int:
    """Progress of a run: latest status of every planned config."""
    with paused_gc():
        index = build_index(
            run_dir, strict=strict_jsonl, by_packs=parse_by_pack(by_pack)
        )
        # The table needs counts only, not the JSON's id lists.
        data = index.to_json() if output_format == "json" else None
        _print(output_format, data, lambda: render.status_view(index))
        keep_until_exit(index, data)
    return 0


@click.command("report")
@RUN_OPTION
@format_option("table", "markdown", "json")
@click.option(
    "--out",
    "out_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the report to this file (table format writes markdown).",
)
@BY_PACK_OPTION
@STRICT_OPTION
def report_cmd(
    run_dir: Path,
    output_format: str,
    out_path: Path | None,
    by_pack: tuple[str, ...],
    strict_jsonl: bool,
) -> int:
    """Summary report with durations and failure details (table, markdown or json)."""
    with paused_gc():
        index = build_index(
            run_dir, strict=strict_jsonl, by_packs=parse_by_pack(by_pack)
        )
        payload = report_payload(index)
        _write_report(payload, output_format, out_path)
        keep_until_exit(index, payload)
    return 0


def _write_report(
    payload: dict[str, Any], output_format: str, out_path: Path | None
) -> None:
    if out_path is not None:
        json_out = output_format == "json"
        text = pretty(payload) if json_out else render_markdown(payload)
        target = out_path.expanduser().resolve()
        write_text_atomic(target, text)
        emit_json({"output_path": str(target)})
        return
    if output_format == "markdown":
        click.echo(render_markdown(payload), nl=False)
        return
    _print(output_format, payload, lambda: render.report_view(payload))


@click.command("collect")
@RUN_OPTION
@format_option("table", "json")
@STRICT_OPTION
@DRY_RUN_OPTION
def collect_cmd(
    run_dir: Path, output_format: str, strict_jsonl: bool, dry_run: bool
) -> int:
    """Write exec/results/summary.json from the attempt records."""
    summary = collect(run_dir, strict=strict_jsonl, dry_run=dry_run)
    _print(output_format, summary, lambda: render.collect_view(summary))
    return 0


@click.command("rerun")
@RUN_OPTION
@STATUS_OPTION
@CONFIG_ID_OPTION
@DRY_RUN_OPTION
@format_option("table", "json")
def rerun_cmd(
    run_dir: Path,
    statuses: tuple[str, ...],
    config_ids: tuple[str, ...],
    dry_run: bool,
    output_format: str,
) -> int:
    """Write a retry file (exec/retries/retry_<stamp>.json) for configs to run again."""
    payload, _plan = rerun(
        run_dir,
        statuses=parse_statuses(statuses),
        config_ids=config_ids,
        dry_run=dry_run,
    )
    _print(output_format, payload, lambda: render.rerun_view(payload))
    return 0


@click.command("recover")
@RUN_OPTION
@STATUS_OPTION
@CONFIG_ID_OPTION
@click.option(
    "--backend",
    type=click.Choice(["local", "slurm"]),
    default="local",
    show_default=True,
    help="Where to run the recovered configs.",
)
@click.option("--profile", default=None, help="Profile name from profiles.yaml.")
@click.option(
    "--profiles-file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Profiles file (default ./profiles.yaml when a profile is named).",
)
@click.option(
    "--batch-index",
    "batch_indices",
    type=int,
    multiple=True,
    help="Only recover targets in these batches; repeatable.",
)
@DRY_RUN_OPTION
@format_option("table", "json")
def recover_cmd(
    run_dir: Path,
    statuses: tuple[str, ...],
    config_ids: tuple[str, ...],
    backend: str,
    profile: str | None,
    profiles_file: Path | None,
    batch_indices: tuple[int, ...],
    dry_run: bool,
    output_format: str,
) -> int:
    """Rerun + execute only the targets' batches with resume on (exit 1 if any fails)."""
    options = RecoverOptions(
        backend=backend,
        profile=profile,
        profiles_file=profiles_file,
        batch_indices=batch_indices,
        dry_run=dry_run,
    )
    result, code = recover(
        run_dir,
        statuses=parse_statuses(statuses),
        config_ids=config_ids,
        options=options,
    )
    _print(output_format, result, lambda: render.recover_view(result))
    return code


@click.command("clean")
@RUN_OPTION
@click.option("--plan", "plan", is_flag=True, help="Delete plan/.")
@click.option(
    "--exec", "exec_", is_flag=True, help="Delete exec/ (records, logs, state)."
)
@click.option("--all", "all_", is_flag=True, help="Delete the whole run root.")
@format_option("table", "json")
def clean_cmd(
    run_dir: Path, plan: bool, exec_: bool, all_: bool, output_format: str
) -> int:
    """Delete parts of a run (refused while the run is active)."""
    if not (plan or exec_ or all_):
        raise click.UsageError("clean needs at least one of --plan, --exec, --all")
    result = clean(run_dir, plan=plan, exec_=exec_, all_=all_).to_json()
    _print(output_format, result, lambda: render.clean_view(result))
    return 0


COMMANDS = [status_cmd, report_cmd, collect_cmd, rerun_cmd, recover_cmd, clean_cmd]
