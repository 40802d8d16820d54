"""Planning commands: ``plan`` (alias ``build``), ``validate-config``,
``inspect-config`` and ``show-config`` (spec A12–A16, Appendix B).

Outputs: ``--format json`` prints one JSON document on stdout (O19); the table
format prints a short rich summary. Bad input exits 2 through the CLI edge.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import yaml
from rich.table import Table

from geryon import storage
from geryon.cli.output import console, emit_json, err_console, format_option
from geryon.errors import ConfigError
from geryon.layout import RunLayout
from geryon.plan import PlanResult, normalise, plan_all_run_sets, plan_experiment
from geryon.plan.diagnostics import validation_sections
from geryon.planfiles import iter_configs

CANDIDATES_SHOWN = 8
COMMAND_WIDTH = 100

_experiment_option = click.option(
    "--experiment",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="The experiment YAML file.",
)
_run_set_option = click.option("--run-set", help="Plan this run set of the experiment.")
_diagnostics_option = click.option(
    "--show-diagnostics", is_flag=True, help="Include composition diagnostics."
)


@click.command("plan")
@_experiment_option
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Output root; the plan goes to <out>/runs/<run_id>/.",
)
@click.option("--batch-size", required=True, type=int, help="Configs per batch (≥ 1).")
@click.option("--run-id", help="Run id (default run_<UTC time>[_<run set>]).")
@_run_set_option
@click.option("--all-run-sets", is_flag=True, help="Plan every run set, one run each.")
@click.option("--dry-run", is_flag=True, help="Compute everything, write nothing.")
@click.option(
    "--preview-configs",
    type=int,
    default=0,
    show_default=True,
    help="Include the first N config records in the output.",
)
@format_option("table", "json")
def plan_command(
    experiment: Path,
    out: Path,
    batch_size: int,
    run_id: str | None,
    run_set: str | None,
    all_run_sets: bool,
    dry_run: bool,
    preview_configs: int,
    output_format: str,
) -> None:
    """Plan an experiment: write configs, batches and diagnostics under <out>/runs/."""
    if run_set is not None and all_run_sets:
        raise click.UsageError("--run-set and --all-run-sets are mutually exclusive")
    options: dict[str, Any] = {
        "out": out,
        "batch_size": batch_size,
        "run_id": run_id,
        "dry_run": dry_run,
        "preview_configs": preview_configs,
    }
    if all_run_sets:
        results = plan_all_run_sets(experiment, **options)
        payload = _all_run_sets_payload(results, dry_run)
    else:
        results = [plan_experiment(experiment, run_set=run_set, **options)]
        payload = results[0].to_json()
    if output_format == "json":
        emit_json(payload)
        return
    for result in results:
        _print_plan(result)


def _all_run_sets_payload(results: list[PlanResult], dry_run: bool) -> dict[str, Any]:
    """A13, the ``--all-run-sets`` shape."""
    items = []
    for result in results:
        item = result.to_json()
        item.pop("dry_run")
        items.append(item)
    return {
        "all_run_sets": True,
        "num_run_sets": len(results),
        "items": items,
        "dry_run": dry_run,
    }


def _print_plan(result: PlanResult) -> None:
    payload = result.to_json()
    title = "Plan (dry run, nothing written)" if result.dry_run else "Plan"
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    rows = [
        ("run set", result.run_set or "-"),
        ("run id", result.run_id),
        ("configs", f"{result.total_configs:,}"),
        ("batches", f"{result.total_batches:,} (batch size {result.batch_size})"),
        ("run root", payload["run_root"] or "-"),
        ("diagnostics", payload["diagnostics_summary_path"] or "-"),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console().print(table)
    for config in result.preview_configs:
        _print_preview(config)
    for warning in result.warnings:
        err_console().print(f"[yellow]warning:[/yellow] {warning}")
    if result.run_root is not None:
        console().print(f"next: geryon run-local --run {result.run_root}")


def _print_preview(config: dict[str, Any]) -> None:
    command = config["command"]
    if len(command) > COMMAND_WIDTH:
        command = command[: COMMAND_WIDTH - 1] + "…"
    console().print(
        f"{config['batch_index']}/{config['line_index']} {config['config_id'][:12]} "
        f"{config['selected_options']}\n  {command}",
        markup=False,
        highlight=False,
    )


@click.command("validate-config")
@_experiment_option
@_run_set_option
@_diagnostics_option
@format_option("table", "json")
def validate_config_command(
    experiment: Path, run_set: str | None, show_diagnostics: bool, output_format: str
) -> None:
    """Check an experiment without enumerating it (merge conflicts show at plan time)."""
    from geryon.compose import compose

    composition = compose(experiment, run_set=run_set)
    normalised = normalise(composition.document, composition.root_path)
    payload: dict[str, Any] = {
        "valid": True,
        "run_set": composition.run_set_info.get("selected"),
        "base_command": normalised.base_command,
        "num_packs": len(normalised.packs),
        "num_constraints": normalised.num_constraints,
        "num_predicates": len(normalised.predicates),
    }
    if show_diagnostics:
        payload["diagnostics"] = validation_sections(
            normalised, composition.diagnostics
        )
    if output_format == "json":
        emit_json(payload)
        return
    table = Table(title=f"{composition.root_path} is valid", show_header=False)
    for key in (
        "run_set",
        "base_command",
        "num_packs",
        "num_constraints",
        "num_predicates",
    ):
        table.add_row(key, str(payload[key]))
    console().print(table)
    if show_diagnostics:
        console().print_json(json.dumps(payload["diagnostics"], default=str))


@click.command("inspect-config")
@_experiment_option
@_run_set_option
@_diagnostics_option
@format_option("yaml", "json")
@click.option(
    "--out",
    "out_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the text to this file instead of stdout.",
)
def inspect_config_command(
    experiment: Path,
    run_set: str | None,
    show_diagnostics: bool,
    output_format: str,
    out_file: Path | None,
) -> None:
    """Print the composed experiment (imports, selectors and run set applied)."""
    from geryon.compose import compose

    composition = compose(experiment, run_set=run_set)
    document: Any = composition.document
    if show_diagnostics:
        document = {"experiment": document, "diagnostics": composition.diagnostics}
    if output_format == "json":
        text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    else:
        text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    if out_file is None:
        click.echo(text, nl=False)
        return
    target = out_file.expanduser().resolve()
    storage.write_text_atomic(target, text)
    emit_json({"output_path": str(target)})


@click.command("show-config")
@click.option(
    "--run",
    "run_dir",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="A planned run directory.",
)
@click.argument("config_id")
@format_option("table", "json", "yaml")
def show_config_command(run_dir: Path, config_id: str, output_format: str) -> None:
    """Show one planned config, by full id or unique prefix."""
    layout = RunLayout.open(run_dir)
    record = find_config(layout, config_id)
    record["batch_file"] = str(layout.batch_file(int(record["batch_index"])))
    if output_format == "json":
        emit_json(record)
    elif output_format == "yaml":
        click.echo(yaml.safe_dump(record, sort_keys=True, allow_unicode=True), nl=False)
    else:
        table = Table(title=f"config {record['config_id']}", show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value", overflow="fold")
        for key in sorted(record):
            value = record[key]
            text = (
                value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            )
            table.add_row(key, text)
        console().print(table)


def find_config(layout: RunLayout, wanted: str) -> dict[str, Any]:
    """A16: an exact id wins; otherwise exactly one id must start with ``wanted``."""
    wanted = wanted.strip()
    if not wanted:
        raise ConfigError("the config id must not be empty", key_path="CONFIG_ID")
    matches: list[dict[str, Any]] = []
    for record in iter_configs(layout):
        config_id = str(record.get("config_id", ""))
        if config_id == wanted:
            return record
        if config_id.startswith(wanted) and all(
            m["config_id"] != config_id for m in matches
        ):
            matches.append(record)
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(
            f"no planned config id starts with {wanted!r}",
            file=layout.configs_jsonl,
            hint="List ids with 'geryon status --run' or read plan/manifest.csv",
        )
    shown = ", ".join(m["config_id"] for m in matches[:CANDIDATES_SHOWN])
    more = " …" if len(matches) > CANDIDATES_SHOWN else ""
    raise ConfigError(
        f"{len(matches)} planned configs start with {wanted!r}: {shown}{more}",
        file=layout.configs_jsonl,
        hint="Give more characters of the id",
    )


COMMANDS = [
    plan_command,
    validate_config_command,
    inspect_config_command,
    show_config_command,
]
