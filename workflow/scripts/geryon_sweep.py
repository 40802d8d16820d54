"""The Python side of geryon's Snakemake module (``workflow/Snakefile``).

The module's Snakefile loads this file when the pipeline is parsed (to read the
module's config, name the run and size the batch jobs), and its ``plan`` and
``collect`` rules run it as a script::

    python geryon_sweep.py plan --state <run>/exec/pipeline/sweep.json \\
        --experiment E --batch-size N [--run-set S] [--profile P] ...
    python geryon_sweep.py collect --run <run>

Everything a run needs stays in geryon's own layout under ``<out>/runs/<run_id>/``.
The module adds two files:

* ``<out>/pipeline/<run_id>/sweep.json`` — the plan rule's output (a Snakemake
  checkpoint): the selection the batch jobs run and its batch indices. It lives
  outside the run root because Snakemake creates an output's folder before the
  job starts, and the planner refuses a run root that already exists (spec I24).
  Snakemake deletes it before the plan rule runs again, so it holds nothing that
  must survive.
* ``<run>/exec/pipeline/origin.json`` — what the run was planned from (experiment
  digest, batch size, run set). A run id names one plan: planning a different
  experiment under an existing run id is refused instead of mixing two sweeps'
  records.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geryon.errors import ConfigError, GeryonError
from geryon.layout import RunLayout, batch_name
from geryon.storage import write_json_atomic

if TYPE_CHECKING:
    from geryon.profiles import ResolvedSettings

log = logging.getLogger("geryon.workflow")

BACKENDS = ("local", "slurm")
REQUIRED_KEYS = ("experiment", "out", "batch_size")
OPTIONAL_KEYS = (
    "run_set",
    "run_id",
    "profile",
    "profiles_file",
    "backend",
    "resources",
)
# The plan rule's shell passes these through to ``plan`` (in this order); the run
# id is not among them: ``plan`` reads it from the state path, like every rule.
PLAN_FLAGS = ("run_set", "profile", "profiles_file")
PIPELINE_DIR = "pipeline"
STATE_NAME = "sweep.json"
ORIGIN_NAME = "origin.json"
# Resume is forced on in the module's selection, with this reason: a batch job that
# Snakemake starts again (after a failure or an interruption) continues the batch.
RESUME_SOURCE = "pipeline"


@dataclass(frozen=True)
class SweepConfig:
    """The module's config, checked, with the run id decided."""

    experiment: Path
    out: str
    batch_size: int
    run_id: str
    run_id_explicit: bool
    run_set: str | None = None
    profile: str | None = None
    profiles_file: str | None = None
    backend: str = "local"
    resources: dict[str, Any] = field(default_factory=dict)

    @property
    def run_root(self) -> str:
        """``<out>/runs/<run_id>`` as written in the config (may be relative)."""
        return str(Path(self.out) / "runs" / self.run_id)

    @property
    def state_path(self) -> str:
        return str(Path(self.out) / PIPELINE_DIR / self.run_id / STATE_NAME)

    @property
    def run_json_path(self) -> str:
        return str(Path(self.run_root) / "run.json")

    @property
    def summary_path(self) -> str:
        return str(Path(self.run_root) / "exec" / "results" / "summary.json")

    @property
    def marker_pattern(self) -> str:
        """The batch rule's output, with ``{selection}`` and ``{batch}`` wildcards."""
        root = pattern_literal(self.run_root)
        return f"{root}/exec/markers/{{selection}}/batch_{{batch}}.done"

    def plan_arguments(self) -> list[str]:
        """Everything the plan rule passes to ``plan`` besides ``--state``."""
        words = [
            "--experiment",
            str(self.experiment),
            "--batch-size",
            str(self.batch_size),
            "--backend",
            self.backend,
        ]
        for key in PLAN_FLAGS:
            value = getattr(self, key)
            if value is not None:
                words += [f"--{key.replace('_', '-')}", str(value)]
        return words


def pattern_literal(text: str) -> str:
    """``text`` inside a Snakemake file pattern: braces are not wildcards."""
    return text.replace("{", "{{").replace("}", "}}")


# ---------------------------------------------------------------- parse time


def read_config(config: Mapping[str, Any]) -> SweepConfig:
    """Check the module's config (the ``geryon`` mapping if present) and name the run.

    Without ``run_id`` the run id is ``run_<digest>`` (plus ``_<run set>``), the
    digest covering the composed experiment, its path, the batch size and the run
    set: a rerun of the pipeline finds the same run, and a changed experiment gets
    a new run instead of overwriting the old one's records. The experiment must
    then exist when the pipeline is parsed; an experiment written by an upstream
    rule needs an explicit ``run_id``.
    """
    values = _module_values(config)
    _check_keys(values)
    experiment = Path(str(values["experiment"])).expanduser().resolve()
    batch_size = _batch_size(values["batch_size"])
    run_set = _optional_text(values, "run_set")
    backend = _optional_text(values, "backend") or "local"
    if backend not in BACKENDS:
        raise _error(
            f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}", "backend"
        )
    explicit = _optional_text(values, "run_id")
    if explicit is not None:
        _check_run_id(explicit)
    run_id = explicit or default_run_id(
        sweep_digest(experiment, batch_size, run_set), run_set
    )
    return SweepConfig(
        experiment=experiment,
        out=str(values["out"]),
        batch_size=batch_size,
        run_id=run_id,
        run_id_explicit=explicit is not None,
        run_set=run_set,
        profile=_optional_text(values, "profile"),
        profiles_file=_optional_text(values, "profiles_file"),
        backend=backend,
        resources=_resources(values.get("resources")),
    )


def _module_values(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """A pipeline that ``include:``s the module nests its keys under ``geryon``."""
    nested = config.get("geryon")
    if nested is None:
        return config
    if not isinstance(nested, Mapping):
        raise _error(f"expected a mapping, got {nested!r}", "geryon")
    return nested


def _check_keys(values: Mapping[str, Any]) -> None:
    missing = [key for key in REQUIRED_KEYS if values.get(key) in (None, "")]
    if missing:
        raise _error(
            f"missing required key {missing[0]!r}",
            missing[0],
            hint=f"Set {', '.join(REQUIRED_KEYS)} in the module's config "
            "(see workflow/config/config.yaml)",
        )
    unknown = sorted(str(k) for k in values if k not in REQUIRED_KEYS + OPTIONAL_KEYS)
    if unknown:
        raise _error(
            f"unknown key {unknown[0]!r}",
            unknown[0],
            hint=f"Valid keys: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)}",
        )


def _batch_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _error(
            f"expected a positive integer, got {value!r}",
            "batch_size",
            hint="Commands per batch job, e.g. batch_size: 16",
        )
    return value


def _optional_text(values: Mapping[str, Any], key: str) -> str | None:
    value = values.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _error(f"expected a non-empty string, got {value!r}", key)
    return value


def _resources(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and k.isidentifier() for k in value
    ):
        raise _error(
            f"expected a mapping of Snakemake resource names, got {value!r}",
            "resources",
            hint="e.g. resources: {mem_mb: 4096, runtime: 60, slurm_partition: cpu}",
        )
    return dict(value)


def _check_run_id(run_id: str) -> None:
    from geryon.sanitize import is_safe_run_id

    if not is_safe_run_id(run_id):
        raise _error(
            f"invalid run id {run_id!r}",
            "run_id",
            hint="Use letters, digits, '_', '.' and '-' (no leading dot, no '..')",
        )


def _error(message: str, key: str, *, hint: str | None = None) -> ConfigError:
    return ConfigError(f"geryon module config: {message}", key_path=key, hint=hint)


def sweep_digest(experiment: Path, batch_size: int, run_set: str | None) -> str:
    """SHA-1 of what decides the plan: the composed experiment (imports and run-set
    overlay applied), the experiment's absolute path (relative command paths are
    run from its folder), the batch size and the run set."""
    from geryon.compose import compose

    composition = compose(experiment, run_set=run_set)
    identity = {
        "document": composition.document,
        "experiment": str(experiment),
        "batch_size": batch_size,
        "run_set": run_set,
    }
    # default=str: a value the planner rejects later (a YAML date) must not stop
    # the digest; the plan rule then reports it properly.
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def default_run_id(digest: str, run_set: str | None) -> str:
    """``run_<12 hex digits>`` plus ``_<run set>`` (ASCII letters, digits, ``_-``)."""
    run_id = f"run_{digest[:12]}"
    if run_set is not None:
        suffix = re.sub(r"[^A-Za-z0-9_-]+", "-", run_set).strip("-") or "x"
        run_id += f"_{suffix}"
    return run_id


def batch_job_sizing(cfg: SweepConfig) -> tuple[int, str]:
    """The batch rule's threads and the digest of the resolved run settings.

    Threads follow the engine: the cores a batch's concurrent commands use
    (``cores_per_task`` x ``max_concurrent_tasks``); Snakemake scales them down to
    ``--cores``. The settings digest is a parameter of the plan rule, so a changed
    profile makes Snakemake write a new selection and run the batches again (the
    wrapper resumes: finished configs are skipped).
    """
    resolved = _resolve_settings(cfg)
    settings = resolved.settings
    threads = max(1, settings.cores_per_task * settings.max_concurrent_tasks)
    if settings.max_total_cores:
        threads = min(threads, settings.max_total_cores)
    text = json.dumps(settings.to_json(), sort_keys=True, default=str)
    return threads, hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


def _resolve_settings(cfg: SweepConfig) -> ResolvedSettings:
    from geryon.profiles import resolve_run_settings, select_profile

    profile = select_profile(cfg.profile, cfg.profiles_file)
    command = "run_local" if cfg.backend == "local" else "run_slurm"
    return resolve_run_settings(profile, command=command, force_resume=RESUME_SOURCE)


def run_root_of_state(state_path: str | Path) -> Path:
    """``<out>/runs/<run_id>`` from ``<out>/pipeline/<run_id>/sweep.json``.

    Rules derive the run root from their input and output paths, not from the
    config, so a ``prefix:`` given to the module reaches every path."""
    state = Path(state_path)
    return state.parents[2] / "runs" / state.parent.name


def batch_markers(state_path: str | Path) -> list[str]:
    """The batch rule outputs the collect rule waits for, read after the plan ran."""
    state = read_state(state_path)
    markers = run_root_of_state(state_path) / "exec" / "markers"
    selection = state["selection_id"]
    return [
        str(markers / selection / f"{batch_name(b)}.done")
        for b in state["batch_indices"]
    ]


def read_state(state_path: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(state_path).read_text(encoding="utf-8"))
    return data


def task_log_dir(run_root: str | Path, backend: str, batch: str) -> str:
    """Where a batch job's wrapper stdout/stderr go: the engine's
    ``batch_logs/task_<local|slurm>_<B>/`` (B without zero padding)."""
    return str(Path(run_root) / "exec" / "batch_logs" / f"task_{backend}_{int(batch)}")


# ---------------------------------------------------------------- job time


def plan_sweep(args: argparse.Namespace) -> dict[str, Any]:
    """The plan rule: plan the run (or reuse the same plan), write the selection
    the batch jobs run and the state file that lists their batches."""
    state_path = Path(args.state).resolve()
    run_root = run_root_of_state(state_path)
    layout = RunLayout(run_root)
    digest = sweep_digest(
        Path(args.experiment).resolve(), args.batch_size, args.run_set
    )
    if layout.run_json.is_file():
        _check_origin(layout, args, digest)
    else:
        _plan(layout, args)
    _write_origin(layout, args, digest)
    selection_id, selection_path, batches = _write_selection(layout, args)
    state = {
        "run_id": layout.run_id,
        "run_root": str(layout.root),
        "selection_id": selection_id,
        "selection_file": str(selection_path),
        "batch_indices": list(batches),
        "backend": args.backend,
        "digest": digest,
    }
    write_json_atomic(state_path, state)
    return state


def _plan(layout: RunLayout, args: argparse.Namespace) -> None:
    from geryon.plan import plan_experiment

    result = plan_experiment(
        args.experiment,
        out=layout.root.parent.parent,
        batch_size=args.batch_size,
        run_set=args.run_set,
        run_id=layout.root.name,
    )
    log.info(
        "planned %s: %d configs in %d batches",
        result.run_root,
        result.total_configs,
        result.total_batches,
    )


def _origin(args: argparse.Namespace, digest: str) -> dict[str, Any]:
    return {
        "digest": digest,
        "experiment": str(Path(args.experiment).resolve()),
        "batch_size": args.batch_size,
        "run_set": args.run_set,
    }


def _check_origin(layout: RunLayout, args: argparse.Namespace, digest: str) -> None:
    """An existing run is reused only if it was planned from the same sweep.

    A run the module did not plan (``geryon plan --run-id``) has no origin record;
    it is adopted when its ``run.json`` names the same experiment file, batch size
    and run set, which cannot tell whether that file has been edited since."""
    wanted = _origin(args, digest)
    origin_path = layout.exec_dir / PIPELINE_DIR / ORIGIN_NAME
    if origin_path.is_file():
        found = json.loads(origin_path.read_text(encoding="utf-8"))
        same = found.get("digest") == digest
    else:
        # Planned by `geryon plan`, or the plan rule died before writing the origin.
        info = layout.run_info()
        found = {k: info.get(k) for k in ("experiment_path", "batch_size", "run_set")}
        same = found == {
            "experiment_path": wanted["experiment"],
            "batch_size": wanted["batch_size"],
            "run_set": wanted["run_set"],
        }
    if not same:
        raise ConfigError(
            f"run {layout.run_id!r} already exists and was planned from a different "
            "sweep (experiment contents, batch size or run set)",
            file=layout.root,
            key_path="run_id",
            hint="Give the module a new run_id (or drop run_id to let the module "
            "name the run after the experiment); the old run's records are kept",
        )


def _write_origin(layout: RunLayout, args: argparse.Namespace, digest: str) -> None:
    path = layout.exec_dir / PIPELINE_DIR / ORIGIN_NAME
    if not path.is_file():
        write_json_atomic(path, _origin(args, digest))


def _write_selection(
    layout: RunLayout, args: argparse.Namespace
) -> tuple[str, Path, tuple[int, ...]]:
    """The whole run as one selection, written the way the engine writes it."""
    from geryon.engine.selection import ConfigChoice, build_selection
    from geryon.profiles import resolve_run_settings, select_profile

    profile = select_profile(args.profile, args.profiles_file)
    command = "run_local" if args.backend == "local" else "run_slurm"
    resolved = resolve_run_settings(
        profile, command=command, force_resume=RESUME_SOURCE
    )
    selection = build_selection(
        layout, ConfigChoice(), resolved.settings, backend=args.backend
    )
    path = layout.selections_dir / f"{selection.selection_id}.json"
    write_json_atomic(path, selection.to_json())
    return selection.selection_id, path, selection.batch_indices


def collect_sweep(run: str | Path) -> dict[str, Any]:
    """The collect rule: ``geryon collect`` (writes ``exec/results/summary.json``)."""
    from geryon.observe.collect import collect

    return collect(run)


# ---------------------------------------------------------------- command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geryon_sweep.py",
        description="Steps of geryon's Snakemake module (run by its rules).",
    )
    steps = parser.add_subparsers(dest="step", required=True)
    plan = steps.add_parser("plan", help="plan the sweep and write its selection")
    plan.add_argument(
        "--state", required=True, help="<out>/pipeline/<run_id>/sweep.json"
    )
    plan.add_argument("--experiment", required=True)
    plan.add_argument("--batch-size", required=True, type=int)
    plan.add_argument("--backend", choices=BACKENDS, default="local")
    plan.add_argument("--run-set")
    plan.add_argument("--profile")
    plan.add_argument("--profiles-file")
    collect = steps.add_parser("collect", help="write exec/results/summary.json")
    collect.add_argument("--run", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(format="geryon: %(message)s", level=logging.INFO)
    try:
        if args.step == "plan":
            state = plan_sweep(args)
            print(
                f"geryon: run {state['run_root']}: {len(state['batch_indices'])} "
                f"batch job(s), selection {state['selection_id']}"
            )
        else:
            summary = collect_sweep(args.run)
            print(
                f"geryon: {summary['summary_path']}: "
                f"{summary['configs']['final_by_status']}"
            )
    except GeryonError as error:
        print(f"[{error.label}] {error}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
