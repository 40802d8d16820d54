"""The Python API: what the CLI does, as typed functions.

Every function here is a thin, stable entry point over the module that does the
work (``geryon.compose``, ``geryon.plan``, ``geryon.engine``, ``geryon.observe``,
``geryon.profiles``), so scripts and notebooks need not know the internal layout::

    import geryon

    plan = geryon.plan_experiment("experiment.yaml", out="outputs", batch_size=4)
    report = geryon.execute(geryon.ExecutionRequest(run_dir=plan.run_root))
    geryon.status(plan.run_root)["configs"]["latest_by_status"]

Errors are the CLI's: bad input raises :class:`geryon.errors.ConfigError` (the CLI's
exit code 2), runtime failures :class:`geryon.errors.GeryonError` (exit 1).
Results are the CLI's ``--format json`` payloads (plain dicts) or the dataclasses
those payloads are made from.

``compose`` is exported at the top level as ``geryon.compose_experiment``, because
``geryon.compose`` names the composition subpackage.

Importing this module is cheap enough for scripts (no Snakemake, no Hydra): the
engine and the observers are imported at first use, by the functions that need
them; the classes that only describe data are imported here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon.compose import Composition, compose, run_set_names
from geryon.engine.request import ConfigOutcome, ExecutionReport, ExecutionRequest
from geryon.errors import ConfigError, GeryonError
from geryon.layout import RunLayout
from geryon.plan import PlanResult, plan_all_run_sets, plan_experiment
from geryon.planfiles import iter_configs, load_batches
from geryon.profiles import (
    Profile,
    ProfilesFile,
    ResolvedSettings,
    load_profiles,
    resolve_run_settings,
    select_profile,
)
from geryon.settings import RunSettings
from geryon.storage import read_jsonl

__all__ = [
    "Composition",
    "ConfigError",
    "ConfigOutcome",
    "ExecutionReport",
    "ExecutionRequest",
    "GeryonError",
    "PlanResult",
    "Profile",
    "ProfilesFile",
    "RecoverResult",
    "ResolvedSettings",
    "RunLayout",
    "RunSettings",
    "clean",
    "collect",
    "compose",
    "compose_experiment",
    "execute",
    "iter_attempts",
    "iter_configs",
    "list_profiles",
    "load_batches",
    "load_profiles",
    "main",
    "open_run",
    "plan_all_run_sets",
    "plan_experiment",
    "read_jsonl",
    "recover",
    "report",
    "report_markdown",
    "rerun",
    "resolve_profile",
    "run_local",
    "run_set_names",
    "status",
    "validate_experiment",
]


# ---------------------------------------------------------------------------- cli


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``geryon`` command line with ``argv`` and return its exit code.

    Exactly ``geryon <argv...>`` in a shell, without a new process: errors are
    printed on stderr and turned into the exit code, never raised.
    """
    from geryon.cli.main import main as cli_main

    return cli_main(argv)


# ------------------------------------------------------------------- composition

# ``geryon.compose`` is also a subpackage, so the top-level ``geryon`` namespace
# offers this function under a name that a submodule import cannot shadow.
compose_experiment = compose


def validate_experiment(
    experiment_path: str | Path, *, run_set: str | None = None
) -> dict[str, Any]:
    """The ``validate-config`` checks, without enumerating the product.

    Returns ``{valid, run_set, base_command, num_packs, num_constraints,
    num_predicates}`` (spec A14). Merge conflicts and predicate evaluation errors
    show only when planning (spec P12): use ``plan_experiment(..., dry_run=True)``
    to find them without writing anything.
    """
    from geryon.plan import normalise

    composition = compose(Path(experiment_path), run_set=run_set)
    normalised = normalise(composition.document, composition.root_path)
    return {
        "valid": True,
        "run_set": composition.run_set_info.get("selected"),
        "base_command": normalised.base_command,
        "num_packs": len(normalised.packs),
        "num_constraints": normalised.num_constraints,
        "num_predicates": len(normalised.predicates),
    }


# ---------------------------------------------------------------------- execution


def execute(request: ExecutionRequest) -> ExecutionReport:
    """Run (part of) a planned run through Snakemake; see :mod:`geryon.engine`.

    This is the single call behind ``run-local``, ``run-slurm``, ``launch`` and
    ``recover``. ``report.exit_code`` is 0 iff every selected config succeeded.
    """
    from geryon.engine import execute as engine_execute

    return engine_execute(request)


def run_local(
    run_dir: str | Path,
    *,
    profile: str | None = None,
    profiles_file: str | Path | None = None,
    batch_indices: Sequence[int] = (),
    config_ids: Sequence[str] = (),
    retry_file: str | Path | None = None,
    dry_run: bool = False,
    snakemake_args: Sequence[str] = (),
    overrides: dict[str, Any] | None = None,
) -> ExecutionReport:
    """``geryon run-local`` as a function: run a planned run on this machine.

    ``overrides`` are run settings that win over the profile (``executor``,
    ``max_concurrent_tasks``, ``cores_per_task``, ``command_timeout_sec``,
    ``max_retries``), like the CLI flags of the same names. A ``retry_file``
    forces resume on (spec E7).
    """
    request = ExecutionRequest(
        run_dir=Path(run_dir),
        backend="local",
        profile=profile,
        profiles_file=profiles_file,
        batch_indices=tuple(batch_indices),
        config_ids=tuple(config_ids),
        retry_file=retry_file,
        force_resume=retry_file is not None,
        dry_run=dry_run,
        snakemake_args=tuple(snakemake_args),
        cli_overrides=dict(overrides or {}),
    )
    return execute(request)


# ------------------------------------------------------------ observe and recover


def status(
    run_dir: str | Path, *, by_pack: Sequence[str] = (), strict: bool = False
) -> dict[str, Any]:
    """The ``status --format json`` object (spec O6): latest status of every config.

    ``by_pack`` groups the configs by the options of these packs (O7); ``strict``
    turns a corrupt result line into a :class:`ConfigError`. Reads only.
    """
    from geryon.observe.index import build_index, parse_by_pack

    index = build_index(run_dir, strict=strict, by_packs=parse_by_pack(list(by_pack)))
    return index.to_json()


def report(
    run_dir: str | Path, *, by_pack: Sequence[str] = (), strict: bool = False
) -> dict[str, Any]:
    """The ``report --format json`` payload (spec O8, with durations and failures)."""
    from geryon.observe.index import build_index, parse_by_pack
    from geryon.observe.report import report_payload

    index = build_index(run_dir, strict=strict, by_packs=parse_by_pack(list(by_pack)))
    return report_payload(index)


def report_markdown(
    run_dir: str | Path, *, by_pack: Sequence[str] = (), strict: bool = False
) -> str:
    """The ``report --format markdown`` text (spec O9), ending with a newline."""
    from geryon.observe.report import render_markdown

    return render_markdown(report(run_dir, by_pack=by_pack, strict=strict))


def collect(
    run_dir: str | Path, *, strict: bool = False, dry_run: bool = False
) -> dict[str, Any]:
    """Summarise the attempt records (spec O11); writes ``exec/results/summary.json``
    unless ``dry_run``. Works on a run without a plan."""
    from geryon.observe.collect import collect as observe_collect

    return observe_collect(run_dir, strict=strict, dry_run=dry_run)


def rerun(
    run_dir: str | Path,
    *,
    statuses: Sequence[str] = ("failed",),
    config_ids: Sequence[str] = (),
    dry_run: bool = False,
) -> dict[str, Any]:
    """Write a retry file for the configs to run again (spec O12–O14).

    Targets are the ``config_ids`` plus every unsuccessful config whose latest
    status is in ``statuses`` (``failed``, ``terminated``, ``missing``). Returns
    the retry payload with ``retry_file`` (``None`` in a dry run). No target
    raises :class:`ConfigError`.
    """
    from geryon.observe.rerun import parse_statuses
    from geryon.observe.rerun import rerun as observe_rerun

    payload, _plan = observe_rerun(
        run_dir,
        statuses=parse_statuses(list(statuses)),
        config_ids=tuple(config_ids),
        dry_run=dry_run,
    )
    return payload


@dataclass(frozen=True)
class RecoverResult:
    """What :func:`recover` did: the ``recover --format json`` payload and the exit
    code (0 when every recovered config succeeded, and for a dry run)."""

    payload: dict[str, Any]
    exit_code: int


def recover(
    run_dir: str | Path,
    *,
    statuses: Sequence[str] = ("failed",),
    config_ids: Sequence[str] = (),
    backend: str = "local",
    profile: str | None = None,
    profiles_file: str | Path | None = None,
    batch_indices: Sequence[int] = (),
    dry_run: bool = False,
) -> RecoverResult:
    """``rerun`` then execute only the targets' batches with resume on (spec O15)."""
    from geryon.observe.rerun import RecoverOptions, parse_statuses
    from geryon.observe.rerun import recover as observe_recover

    options = RecoverOptions(
        backend=backend,
        profile=profile,
        profiles_file=Path(profiles_file) if profiles_file is not None else None,
        batch_indices=tuple(batch_indices),
        dry_run=dry_run,
    )
    payload, code = observe_recover(
        run_dir,
        statuses=parse_statuses(list(statuses)),
        config_ids=tuple(config_ids),
        options=options,
    )
    return RecoverResult(payload=payload, exit_code=code)


def clean(
    run_dir: str | Path, *, plan: bool = False, exec_: bool = False, all_: bool = False
) -> dict[str, Any]:
    """Delete ``plan/``, ``exec/`` or the whole run root; ``{"removed": [...]}``.

    At least one flag must be set. A run that is still running is refused.
    """
    from geryon.observe.clean import clean as observe_clean

    if not (plan or exec_ or all_):
        raise ConfigError(
            "clean needs at least one of plan, exec_ or all_",
            hint="Pass plan=True, exec_=True or all_=True",
        )
    return observe_clean(run_dir, plan=plan, exec_=exec_, all_=all_).to_json()


# ----------------------------------------------------------------------- profiles


def list_profiles(profiles_file: str | Path | None = None) -> dict[str, Any]:
    """The ``list-profiles --format json`` object (spec F15); the file must exist
    (default ``./profiles.yaml``)."""
    return load_profiles(profiles_file).to_json()


def resolve_profile(
    name: str | None,
    *,
    profiles_file: str | Path | None = None,
    command: str = "run_local",
    overrides: dict[str, Any] | None = None,
) -> ResolvedSettings:
    """The run settings an execution with profile ``name`` would use, with sources.

    Layers built-in defaults, ``profiles.<name>.defaults.<command>`` and
    ``overrides`` (spec F12) and checks every range, exactly as a run does before it
    starts. ``name=None`` reads no file (built-ins and overrides only).
    """
    loaded = select_profile(name, profiles_file)
    return resolve_run_settings(loaded, command=command, cli_overrides=overrides)


# ------------------------------------------------------------------------ storage


def open_run(run_dir: str | Path) -> RunLayout:
    """The :class:`RunLayout` of a planned run; raises if ``run.json`` is missing."""
    return RunLayout.open(run_dir)


def iter_attempts(
    run_dir: str | Path, *, strict: bool = False
) -> Iterator[dict[str, Any]]:
    """Every attempt record of a run (spec E34), file by file in name order.

    A torn or corrupt line is skipped with a warning, or raises
    :class:`ConfigError` with ``strict``. Records are yielded as written; use
    :func:`status` for the latest attempt of each config.
    """
    layout = open_run(run_dir)
    for path in layout.result_files():
        yield from read_jsonl(path, strict=strict)
