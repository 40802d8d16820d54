"""Run commands: ``run-local``, ``launch`` and ``list-profiles``.

Each run command ends in one :func:`geryon.engine.execute` call; this module
only turns flags into an :class:`~geryon.engine.ExecutionRequest` and the report
into a table or JSON. Exit codes: 0 when every selected config succeeded, 1 when
some did not (or a runtime error), 2 for bad input.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from geryon.cli.output import console, emit_json, format_option
from geryon.engine import ExecutionReport, ExecutionRequest, execute
from geryon.engine.invoke import check_backend
from geryon.profiles import ProfilesFile, load_profiles
from geryon.settings import EXECUTORS

FAILURES_SHOWN = 20


# What to run: the profile, a narrower selection, a dry run, Snakemake flags.
_WHAT_TO_RUN = [
    click.option("--profile", help="Profile name from the profiles file."),
    click.option(
        "--profiles-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Profiles file (default ./profiles.yaml).",
    ),
    click.option(
        "--batch-index",
        "batch_indices",
        type=int,
        multiple=True,
        help="Run only this batch (repeatable).",
    ),
    click.option(
        "--config-id",
        "config_ids",
        multiple=True,
        help="Run only this config (repeatable; full id).",
    ),
    click.option("--dry-run", is_flag=True, help="Resolve and print; run nothing."),
    click.option(
        "--snakemake-args",
        default="",
        help="Extra Snakemake flags, one shell-quoted string.",
    ),
]
# Settings that override the profile's (see OVERRIDE_KEYS), and Snakemake's output.
_OVERRIDES = [
    click.option(
        "--executor",
        type=click.Choice(EXECUTORS),
        help="How commands run (overrides the profile).",
    ),
    click.option(
        "--max-concurrent-tasks",
        type=int,
        help="Commands one batch job runs at once (overrides the profile).",
    ),
    click.option(
        "--cores-per-task",
        type=int,
        help="Cores pinned to each command (overrides the profile).",
    ),
    click.option(
        "--command-timeout-sec",
        type=int,
        help="Kill a command after this many seconds (overrides the profile).",
    ),
    click.option(
        "--max-retries",
        type=int,
        help="Retries per failed config (overrides the profile).",
    ),
    click.option(
        "--snakemake-output",
        is_flag=True,
        help="Show Snakemake's own output live (it is always saved under "
        "exec/snakemake_logs/; -v shows it too).",
    ),
]


def _selection_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Flags shared by run-local and launch: what to run and how."""
    options = [
        *_WHAT_TO_RUN,
        *_OVERRIDES,
        format_option("table", "json"),
        click.argument("extra_snakemake_args", nargs=-1, type=click.UNPROCESSED),
    ]
    for option in reversed(options):
        func = option(func)
    return func


OVERRIDE_KEYS = (
    "executor",
    "max_concurrent_tasks",
    "cores_per_task",
    "command_timeout_sec",
    "max_retries",
)


def build_request(
    run_dir: Path, backend: str, flags: dict[str, Any]
) -> ExecutionRequest:
    """An :class:`ExecutionRequest` from the shared flags of the run commands."""
    table = flags["output_format"] == "table"
    echo = bool(flags.get("snakemake_output")) or _verbose()
    extra = tuple(shlex.split(flags.get("snakemake_args") or ""))
    extra += tuple(flags.get("extra_snakemake_args") or ())
    return ExecutionRequest(
        run_dir=run_dir,
        backend=backend,
        profile=flags.get("profile"),
        profiles_file=flags.get("profiles_file"),
        batch_indices=tuple(flags.get("batch_indices") or ()),
        config_ids=tuple(flags.get("config_ids") or ()),
        retry_file=flags.get("retry_file"),
        dry_run=bool(flags.get("dry_run")),
        snakemake_args=extra,
        cli_overrides={
            k: flags.get(k) for k in OVERRIDE_KEYS if flags.get(k) is not None
        },
        progress_ok=table and sys.stdout.isatty(),
        echo_snakemake=echo,
        progress_line=table and not echo and sys.stderr.isatty(),
        notices=not echo and not sys.stderr.isatty(),
        announce=announce_run if table else None,
    )


def _verbose() -> bool:
    """The group's ``-v`` flag, when running under the click CLI."""
    context = click.get_current_context(silent=True)
    return bool(context and context.find_root().params.get("verbose"))


def announce_run(report: ExecutionReport) -> None:
    """The plan summary, printed before Snakemake starts."""
    out = console()
    payload = report.to_json()
    out.print(settings_table(payload))
    _print_profile_and_commands(report, payload)


def run_target_options(func: Any) -> Any:
    """``--run`` and ``--retry-file``: which run, and optionally which retry targets."""
    func = click.option(
        "--retry-file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Run the targets of a retry file (resume forced on).",
    )(func)
    return click.option(
        "--run",
        "run_dir",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Run root.",
    )(func)


@click.command("run-local")
@run_target_options
@_selection_options
def run_local(run_dir: Path, **flags: Any) -> int:
    """Run a planned run on this machine through Snakemake.

    Extra Snakemake flags go after `--` or in --snakemake-args. Exit code 0 when
    every selected config succeeded, 1 when some did not, 2 for bad input.
    """
    report = execute(build_request(run_dir, "local", flags))
    show_report(report, flags["output_format"])
    return report.exit_code


def show_report(report: ExecutionReport, output_format: str) -> None:
    if output_format == "json":
        emit_json(report.to_json())
        return
    out = console()
    payload = report.to_json()
    if not report.announced:
        out.print(settings_table(payload))
        _print_profile_and_commands(report, payload)
    if report.dry_run:
        out.print(
            f"dry run: {report.counts['selected']} config(s) in "
            f"{report.selection['num_batches']} batch(es) would run; nothing was written."
        )
        return
    out.print(outcome_line(report), highlight=False, soft_wrap=True)
    if report.failures:
        out.print(failures_table(report))


def _print_profile_and_commands(
    report: ExecutionReport, payload: dict[str, Any]
) -> None:
    out = console()
    if payload["profile"]:
        out.print(
            f"profile: {payload['profile']} ({payload['profiles_file']})",
            highlight=False,
            soft_wrap=True,
        )
    for command in report.snakemake["commands"]:
        out.print(f"snakemake: {command}", soft_wrap=True, highlight=False)


def settings_table(payload: dict[str, Any]) -> Table:
    table = Table(title=f"run {payload['run_id']}: settings")
    table.add_column("setting")
    table.add_column("value")
    table.add_column("source")
    settings = payload.get("settings") or {}
    sources = payload.get("resolved_defaults_sources") or {}
    for key, source in sources.items():
        table.add_row(key, _show(settings.get(key)), source)
    return table


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value) or "[]"
    return "null" if value is None else str(value)


def outcome_line(report: ExecutionReport) -> str:
    counts = report.counts
    parts = [
        f"{key} {value}" for key, value in sorted(counts.items()) if key != "selected"
    ]
    verdict = "all succeeded" if report.exit_code == 0 else "NOT all succeeded"
    return (
        f"{counts.get('selected', 0)} selected config(s): {', '.join(parts)}: {verdict}."
        f"\nSnakemake log: {report.snakemake.get('log_file')}"
    )


def failures_table(report: ExecutionReport) -> Table:
    shown = report.failures[:FAILURES_SHOWN]
    more = len(report.failures) - len(shown)
    title = "configs that did not succeed" + (
        f" (first {len(shown)}, {more} more)" if more else ""
    )
    table = Table(title=title)
    for column in ("batch", "line", "config", "status", "stderr log"):
        table.add_column(column)
    for item in shown:
        table.add_row(
            str(item.batch_index),
            str(item.line_index),
            item.config_id[:12],
            item.status,
            item.stderr_path or "(no attempt record; see exec/batch_logs/)",
        )
    return table


@click.command("list-profiles")
@click.option(
    "--profiles-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Profiles file (default ./profiles.yaml).",
)
@format_option("table", "json")
def list_profiles(profiles_file: Path | None, output_format: str) -> int:
    """List the profiles of a profiles file (spec F15)."""
    loaded = load_profiles(profiles_file)
    if output_format == "json":
        emit_json(loaded.to_json())
    else:
        console().print(profiles_table(loaded))
    return 0


def profiles_table(loaded: ProfilesFile) -> Table:
    table = Table(title=f"{loaded.path} ({len(loaded.profiles)} profile(s))")
    for column in ("profile", "run_local", "run_slurm", "slurm", "environment"):
        table.add_column(column)
    for name in sorted(loaded.profiles):
        data = loaded.profiles[name].to_json()
        slurm = {
            k: data[k] for k in ("partition", "time_min", "cpus_per_task", "mem_gb")
        }
        env = {"env_script": data["env_script"], "env": data["env"]}
        table.add_row(
            name,
            _pairs(data["defaults"]["run_local"]),
            _pairs(data["defaults"]["run_slurm"]),
            _pairs(slurm),
            _pairs(env),
        )
    return table


def _pairs(values: dict[str, Any]) -> str:
    shown = [f"{k}={_show(v)}" for k, v in values.items() if v not in (None, {}, [])]
    return "\n".join(shown) or "-"


def _launch_plan(
    experiment: Path, out: Path, batch_size: int, flags: dict[str, Any]
) -> dict[str, Any]:
    """Validate (unless skipped) and plan; the O16 ``validation`` and ``plan`` parts."""
    from geryon.plan import plan_experiment

    validation = None
    if not flags["skip_validate"]:
        validation = _validate(experiment, flags.get("run_set"))
    result = plan_experiment(
        experiment,
        out=out,
        batch_size=batch_size,
        run_set=flags.get("run_set"),
        run_id=flags.get("run_id"),
    )
    plan = {
        "run_set": result.run_set,
        "run_id": result.run_id,
        "run_root": str(result.run_root),
        "total_configs": result.total_configs,
        "total_batches": result.total_batches,
        "dry_run": result.dry_run,
    }
    return {"validation": validation, "plan": plan}


def _validate(experiment: Path, run_set: str | None) -> dict[str, Any]:
    """The validate-config checks: composition and normalisation of the experiment.

    Planning repeats them, so this only adds the validation diagnostics to the
    output (spec O16).
    """
    import geryon.compose
    from geryon.plan import normalise

    composition = geryon.compose.compose(experiment, run_set=run_set)
    normalise(composition.document, composition.root_path)
    return {"valid": True, "run_set": run_set, "diagnostics": composition.diagnostics}


@click.command("launch")
@click.option(
    "--experiment",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Experiment YAML.",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder; the run goes to <out>/runs/<run_id>.",
)
@click.option("--batch-size", required=True, type=click.IntRange(min=1))
@click.option("--run-id", help="Run id (default: derived from the time).")
@click.option("--run-set", help="Run-set of the experiment to plan.")
@click.option("--backend", type=click.Choice(["local", "slurm"]), default="local")
@click.option("--skip-validate", is_flag=True, help="Skip validate-config checks.")
@_selection_options
def launch(
    experiment: Path, out: Path, batch_size: int, backend: str, **flags: Any
) -> int:
    """Validate, plan and run an experiment in one step (spec O16)."""
    check_backend(backend)
    planned = _launch_plan(experiment, out, batch_size, flags)
    run_root = Path(str(planned["plan"]["run_root"]))
    flags["retry_file"] = None
    plan = planned["plan"]
    if flags["output_format"] == "table":
        console().print(
            f"planned {plan.get('total_configs')} config(s) in "
            f"{plan.get('total_batches')} batch(es): {run_root}",
            highlight=False,
        )
    report = execute(build_request(run_root, backend, flags))
    payload = {
        "backend": backend,
        "dry_run": report.dry_run,
        **planned,
        "execution": report.to_json(),
    }
    if flags["output_format"] == "json":
        emit_json(payload)
    else:
        show_report(report, "table")
    return report.exit_code


COMMANDS = [run_local, launch, list_profiles]
