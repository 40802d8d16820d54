"""``execute``: resolve, select, render, run Snakemake, read back the outcome.

Order of work (everything that can be wrong with the input is found before
anything is written or started):

1. open the run, load the profile (only when one is requested, Q37), resolve
   the settings and check every range (E1-E3, Q24);
2. check the selection against the plan (E2, E5-E8);
3. dry run: stop here and report what would run (no side effects, Q27);
4. take the run lock, write the selection file and the Snakefile(s), clear a
   dead Snakemake's lock, run Snakemake chunk by chunk;
5. read the attempt records: exit code 0 iff every selected config's latest
   attempt succeeded.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shlex
from pathlib import Path
from typing import Any

from rich.console import Console

from geryon import timefmt
from geryon.engine import outcome
from geryon.engine.dashboard import Dashboard
from geryon.engine.invoke import (
    BackendSpec,
    SnakemakeRun,
    backend_spec,
    snakemake_command,
    unlock_if_stale,
)
from geryon.engine.progress import PlainNotices, ProgressLine
from geryon.engine.request import BACKENDS, ExecutionReport, ExecutionRequest
from geryon.engine.runlock import run_lock
from geryon.engine.selection import ConfigChoice, Selection, build_selection
from geryon.engine.snakefile import chunks, write_snakefiles
from geryon.errors import ConfigError, RunLockedError
from geryon.layout import RunLayout, batch_name
from geryon.profiles import ResolvedSettings, resolve_run_settings, select_profile
from geryon.storage import write_json_atomic, write_text_atomic

log = logging.getLogger("geryon.engine.runner")

COMMAND_FILE = "snakemake_command.txt"


@dataclasses.dataclass
class _Plan:
    """Everything decided before the run starts."""

    layout: RunLayout
    resolved: ResolvedSettings
    selection: Selection
    selection_path: Path
    spec: BackendSpec
    snakefiles: list[Path]
    commands: list[list[str]]
    dashboard: bool


def execute(request: ExecutionRequest) -> ExecutionReport:
    """Run (part of) a planned run on Snakemake; see the module docstring."""
    plan = prepare(request)
    if request.dry_run:
        return _report(plan, dry_run=True, snakemake_exit=None, log_file=None)
    with run_lock(plan.layout.state_dir / "run.lock"):
        return _run(plan, request)


def prepare(request: ExecutionRequest) -> _Plan:
    """Steps 1-2: every check, no side effect."""
    layout = RunLayout.open(request.run_dir)
    if request.backend not in BACKENDS:
        raise ConfigError(
            f"unknown backend {request.backend!r}",
            hint=f"Valid backends: {', '.join(BACKENDS)}",
        )
    command = "run_local" if request.backend == "local" else "run_slurm"
    profile = select_profile(request.profile, request.profiles_file)
    resolved = resolve_run_settings(
        profile,
        command=command,
        cli_overrides=request.cli_overrides,
        force_resume=_force_resume_source(request),
    )
    spec = backend_spec(
        request.backend,
        resolved.settings,
        profile=profile,
        options=request.backend_options,
    )
    choice = ConfigChoice(
        request.batch_indices, tuple(request.config_ids), request.retry_file
    )
    selection = build_selection(
        layout, choice, resolved.settings, backend=request.backend
    )
    selection_path = layout.selections_dir / f"{selection.selection_id}.json"
    resolved, selection = _continue_selection(resolved, selection, selection_path)
    snakefiles = _snakefile_paths(layout, selection)
    extra = tuple(request.snakemake_args)
    return _Plan(
        layout=layout,
        resolved=resolved,
        selection=selection,
        selection_path=selection_path,
        spec=spec,
        snakefiles=snakefiles,
        commands=[snakemake_command(s, spec, extra) for s in snakefiles],
        dashboard=_want_dashboard(resolved, request),
    )


def _force_resume_source(request: ExecutionRequest) -> str | None:
    """E7: a retry file forces resume on; ``recover`` passes its own reason."""
    if isinstance(request.force_resume, str) and request.force_resume:
        return request.force_resume
    if request.force_resume or request.retry_file:
        return "retry_file"
    return None


def _continue_selection(
    resolved: ResolvedSettings, selection: Selection, selection_path: Path
) -> tuple[ResolvedSettings, Selection]:
    """Running a selection again continues it: configs that already succeeded are
    skipped (resume on, source ``continued_selection``), so a crashed or
    interrupted run never repeats finished work."""
    if not selection_path.exists() or resolved.settings.resume:
        return resolved, selection
    settings = dataclasses.replace(resolved.settings, resume=True)
    sources = {**resolved.sources, "resume": "continued_selection"}
    resolved = dataclasses.replace(resolved, settings=settings, sources=sources)
    return resolved, selection.with_settings(settings)


def _snakefile_paths(layout: RunLayout, selection: Selection) -> list[Path]:
    parts = chunks(selection.batch_indices)
    if len(parts) == 1:
        return [layout.snakefile]
    return [
        layout.exec_dir / "chunks" / f"Snakefile_{number:04d}"
        for number in range(len(parts))
    ]


def _want_dashboard(resolved: ResolvedSettings, request: ExecutionRequest) -> bool:
    if not resolved.settings.progress:
        return False
    if not request.progress_ok:
        log.warning(
            "progress: true is ignored: the live view needs table output on a tty"
        )
        return False
    return True


def _run(plan: _Plan, request: ExecutionRequest) -> ExecutionReport:
    """Steps 4-5, under the run lock."""
    layout = plan.layout
    started = timefmt.iso_seconds()
    write_json_atomic(plan.selection_path, plan.selection.to_json())
    written = write_snakefiles(
        layout, plan.selection, plan.selection_path, plan.spec.rule
    )
    assert written == plan.snakefiles
    command_text = "".join(shlex.join(c) + "\n" for c in plan.commands)
    write_text_atomic(layout.exec_dir / COMMAND_FILE, command_text)
    log_file = (
        layout.exec_dir / "snakemake_logs" / f"snakemake_{timefmt.compact_stamp()}.log"
    )
    if request.announce is not None:
        request.announce(_announcement(plan))
    exit_code = _run_chunks(plan, log_file, request)
    report = _report(
        plan, dry_run=False, snakemake_exit=exit_code, log_file=log_file, since=started
    )
    report.announced = request.announce is not None
    return report


def _announcement(plan: _Plan) -> ExecutionReport:
    """The pre-run report: selection, settings and Snakemake commands, no outcomes."""
    return ExecutionReport(
        run_id=plan.layout.run_id,
        run_root=str(plan.layout.root),
        backend=plan.selection.backend,
        dry_run=False,
        selection=_selection_summary(plan),
        resolved=plan.resolved.to_json(),
        snakemake=_snakemake_summary(plan, None, None),
    )


def _view(plan: _Plan, request: ExecutionRequest) -> Dashboard | ProgressLine | None:
    """The live view while Snakemake runs: dashboard, progress line, or none."""
    if plan.dashboard:
        return Dashboard(plan.layout, plan.selection)
    if request.progress_line and not request.echo_snakemake:
        return ProgressLine(plan.layout, plan.selection, Console(stderr=True))
    return None


def _run_chunks(plan: _Plan, log_file: Path, request: ExecutionRequest) -> int:
    """Run the Snakefile(s) in order under the chosen live view; the worst exit
    code wins. Plain notices (start, each command, end) when asked for."""
    unlock_if_stale(plan.snakefiles[0], plan.layout.exec_dir)
    view = _view(plan, request)
    echo = request.echo_snakemake and view is None
    notices = (
        PlainNotices(Console(stderr=True)) if request.notices and not echo else None
    )
    if notices is not None:
        notices.start(len(plan.selection.batch_indices), log_file)
    with view.live() if view is not None else contextlib.nullcontext():
        worst = 0
        for command in _commands_to_run(plan, request):
            if notices is not None:
                notices.command(command, plan.layout.exec_dir / COMMAND_FILE)
            run = SnakemakeRun(command, log_file, plan.layout.exec_dir, echo=echo)
            code = run.run(on_tick=view.refresh if view is not None else None)
            _check_lock(run, plan, log_file)
            worst = max(worst, code)
    if notices is not None:
        notices.end(worst)
    return worst


def _commands_to_run(plan: _Plan, request: ExecutionRequest) -> list[list[str]]:
    """The chunk commands still needed. A chunk whose batches all have their
    marker is not started at all (unless the user passed Snakemake flags):
    Snakemake would only say "nothing to be done", after seconds of start-up."""
    needed = []
    parts = chunks(plan.selection.batch_indices)
    for command, batches in zip(plan.commands, parts, strict=True):
        if batches and not request.snakemake_args and _all_marked(plan, batches):
            log.info(
                "batches %s..%s are done; Snakemake not started",
                batches[0],
                batches[-1],
            )
            continue
        needed.append(command)
    return needed


def _check_lock(run: SnakemakeRun, plan: _Plan, log_file: Path) -> None:
    if run.exit_code != 0 and run.saw("LockException"):
        raise RunLockedError(
            "Snakemake found another Snakemake working on "
            f"{plan.layout.exec_dir} (LockException); see {log_file}. "
            "Wait for it to finish; if none runs, geryon removes the stale "
            "lock on the next run-local"
        )


def _all_marked(plan: _Plan, batches: tuple[int, ...]) -> bool:
    markers = plan.layout.markers_dir / plan.selection.selection_id
    incomplete = plan.layout.exec_dir / ".snakemake" / "incomplete"
    if incomplete.is_dir() and any(incomplete.iterdir()):
        return False
    return all((markers / f"{batch_name(b)}.done").is_file() for b in batches)


def _report(
    plan: _Plan,
    *,
    dry_run: bool,
    snakemake_exit: int | None,
    log_file: Path | None,
    since: str = "",
) -> ExecutionReport:
    layout, selection = plan.layout, plan.selection
    report = ExecutionReport(
        run_id=layout.run_id,
        run_root=str(layout.root),
        backend=selection.backend,
        dry_run=dry_run,
        selection=_selection_summary(plan),
        resolved=plan.resolved.to_json(),
        snakemake=_snakemake_summary(plan, snakemake_exit, log_file),
    )
    if dry_run:
        report.counts = {"selected": len(outcome.selected_configs(layout, selection))}
        return report
    items = outcome.outcomes(layout, selection)
    report.counts = outcome.count(items)
    report.failures = [item for item in items if item.status != "success"]
    batches = set(selection.batch_indices)
    report.payloads = outcome.task_summaries(layout, since, batches)
    report.exit_code = 0 if not report.failures else 1
    if snakemake_exit and not report.failures:
        log.warning("Snakemake exited with %s; see %s", snakemake_exit, log_file)
        report.exit_code = 1
    return report


def _selection_summary(plan: _Plan) -> dict[str, Any]:
    data = plan.selection.to_json()
    data.pop("settings")
    data["selection_file"] = str(plan.selection_path)
    data["num_batches"] = len(plan.selection.batch_indices)
    return data


def _snakemake_summary(
    plan: _Plan, exit_code: int | None, log_file: Path | None
) -> dict[str, Any]:
    return {
        "commands": [shlex.join(c) for c in plan.commands],
        "command_file": str(plan.layout.exec_dir / COMMAND_FILE),
        "snakefiles": [str(p) for p in plan.snakefiles],
        "cores": plan.spec.cores,
        "threads_per_batch": plan.spec.rule.threads,
        "log_file": str(log_file) if log_file else None,
        "exit_code": exit_code,
        **({"backend_details": plan.spec.details} if plan.spec.details else {}),
    }
