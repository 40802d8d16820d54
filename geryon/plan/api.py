"""Planning entry points: :func:`plan_experiment` and :func:`plan_all_run_sets`.

Used by the ``plan`` CLI command and by ``launch``. A plan writes
``<out>/runs/<run_id>/`` (spec §7) and returns a :class:`PlanResult`.

``run.json`` follows A10 with two notes:

* ``schema_version`` stays ``3``: it is the version of the run artifacts'
  layout, independent of the experiment schema version 4 (Q22).
* ``experiment_dir`` (absolute) is added: relative paths in ``command.args`` are
  not rewritten, and the execution stage starts commands from this directory.
"""

from __future__ import annotations

import getpass
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from geryon import timefmt
from geryon.errors import ConfigError, GeryonError
from geryon.layout import RunLayout
from geryon.plan.diagnostics import plan_diagnostics, summary_text
from geryon.plan.identity import check_run_id, default_run_id
from geryon.plan.model import Experiment
from geryon.plan.normalise import normalise
from geryon.plan.stream import ConfigStream, StreamResult
from geryon.plan.writer import ArtifactWriter, ConfigSink, NullSink, SnapshotFile
from geryon.sanitize import path_component

log = logging.getLogger("geryon.plan")

ARTIFACT_SCHEMA_VERSION = 3
PLANNER_VERSION = "v2"
# One Snakemake run schedules about this many batch jobs well on this kind of
# machine; 5,000 local jobs took 530 s (shared/notes/snakemake.md).
BATCH_WARNING_LIMIT = 2000


class Composed(Protocol):
    """What the planner needs of a :class:`geryon.compose.Composition`."""

    @property
    def document(self) -> dict[str, Any]: ...
    @property
    def diagnostics(self) -> dict[str, Any]: ...
    @property
    def run_set_info(self) -> dict[str, Any]: ...
    @property
    def files(self) -> Any: ...
    @property
    def root_path(self) -> Path: ...


@dataclass
class PlanResult:
    """The outcome of one plan (spec A13)."""

    run_set: str | None
    run_id: str
    run_root: Path | None
    total_configs: int
    total_batches: int
    batch_size: int
    dry_run: bool
    preview_configs: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def _path(self, relative: str) -> str | None:
        return str(self.run_root / relative) if self.run_root else None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_set": self.run_set,
            "run_id": self.run_id,
            "run_root": str(self.run_root) if self.run_root else None,
            "total_configs": self.total_configs,
            "total_batches": self.total_batches,
            "diagnostics_path": self._path("plan/diagnostics.json"),
            "diagnostics_summary_path": self._path("plan/diagnostics.summary.txt"),
            "run_set_path": self._path("plan/run_set.json"),
            "dry_run": self.dry_run,
            "preview_configs": self.preview_configs,
            "warnings": self.warnings,
        }


def plan_experiment(
    experiment_path: str | Path,
    *,
    out: str | Path,
    batch_size: int,
    run_set: str | None = None,
    run_id: str | None = None,
    dry_run: bool = False,
    preview_configs: int = 0,
) -> PlanResult:
    """Compose ``experiment_path`` (optionally with ``run_set``) and plan it."""
    from geryon.compose import compose

    check_plan_options(batch_size, preview_configs)
    if run_id is not None:
        check_run_id(run_id)
    composition = compose(Path(experiment_path), run_set=run_set)
    return plan_composition(
        composition,
        out=out,
        batch_size=batch_size,
        run_id=run_id,
        dry_run=dry_run,
        preview_configs=preview_configs,
    )


def plan_all_run_sets(
    experiment_path: str | Path,
    *,
    out: str | Path,
    batch_size: int,
    run_id: str | None = None,
    dry_run: bool = False,
    preview_configs: int = 0,
) -> list[PlanResult]:
    """R12/R13: plan every run set of the root file, in sorted name order.

    Q6: names that sanitise to the same run-id suffix are rejected before any
    plan is written.
    """
    from geryon.compose import compose

    check_plan_options(batch_size, preview_configs)
    base = compose(Path(experiment_path))
    names = list(base.run_set_names)
    if not names:
        raise ConfigError(
            "--all-run-sets needs run_sets in the experiment, but it defines none",
            file=base.root_path,
            key_path="run_sets",
        )
    check_distinct_suffixes(names, base.root_path)
    return [
        plan_experiment(
            experiment_path,
            out=out,
            batch_size=batch_size,
            run_set=name,
            run_id=f"{run_id}_{path_component(name)}" if run_id is not None else None,
            dry_run=dry_run,
            preview_configs=preview_configs,
        )
        for name in names
    ]


def check_distinct_suffixes(names: Sequence[str], file: Path) -> None:
    """Q6: two run-set names must not map to the same run-id suffix."""
    seen: dict[str, str] = {}
    for name in names:
        suffix = path_component(name)
        if suffix in seen:
            raise ConfigError(
                f"run sets {seen[suffix]!r} and {name!r} would get the same run id "
                f"suffix {suffix!r}",
                file=file,
                key_path="run_sets",
                hint="Rename one of them (letters, digits, '-', '_', '.')",
            )
        seen[suffix] = name


def check_plan_options(batch_size: int, preview_configs: int) -> None:
    """I20 and A12."""
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int)
        or batch_size < 1
    ):
        raise ConfigError(
            f"--batch-size must be a positive integer, got {batch_size!r}",
            key_path="--batch-size",
        )
    if preview_configs < 0:
        raise ConfigError(
            f"--preview-configs must be 0 or more, got {preview_configs}",
            key_path="--preview-configs",
        )


def plan_composition(
    composition: Composed,
    *,
    out: str | Path,
    batch_size: int,
    run_id: str | None = None,
    dry_run: bool = False,
    preview_configs: int = 0,
) -> PlanResult:
    """Plan an already composed experiment (the core of :func:`plan_experiment`)."""
    check_plan_options(batch_size, preview_configs)
    root_path = Path(composition.root_path).resolve()
    experiment = normalise(composition.document, root_path)
    run_set = composition.run_set_info.get("selected")
    run_id = check_run_id(run_id) if run_id is not None else default_run_id(run_set)
    out_dir = Path(out).expanduser().resolve()
    run_root = out_dir / "runs" / run_id
    if not dry_run and run_root.exists():
        raise ConfigError(
            "Run directory already exists",
            file=run_root,
            hint="Choose another --run-id or --out, or remove the old run",
        )
    log.info(
        "planning %s: %d packs, %d combinations",
        root_path,
        len(experiment.packs),
        experiment.num_combinations,
    )
    if dry_run:
        result = _stream(experiment, run_id, batch_size, NullSink(), preview_configs)
        return _result(run_set, run_id, None, result, batch_size, dry_run=True)
    try:
        writer = ArtifactWriter(out_dir, run_id)
    except OSError as err:
        raise GeryonError(f"cannot create the plan under {out_dir}: {err}") from err
    try:
        result = _stream(experiment, run_id, batch_size, writer, preview_configs)
        stream_result, stream = result
        layout = _finish(
            writer, composition, experiment, stream, stream_result, batch_size
        )
    except OSError as err:
        writer.abort()
        raise GeryonError(f"writing the plan under {out_dir} failed: {err}") from err
    except BaseException:
        writer.abort()
        raise
    return _result(run_set, run_id, layout.root, result, batch_size, dry_run=False)


def _stream(
    experiment: Experiment, run_id: str, batch_size: int, sink: ConfigSink, preview: int
) -> tuple[StreamResult, ConfigStream]:
    stream = ConfigStream(
        experiment,
        run_id=run_id,
        batch_size=batch_size,
        sink=sink,
        preview_limit=preview,
    )
    return stream.run(), stream


def _finish(
    writer: ArtifactWriter,
    composition: Composed,
    experiment: Experiment,
    stream: ConfigStream,
    result: StreamResult,
    batch_size: int,
) -> RunLayout:
    num_batches = math.ceil(result.num_configs / batch_size)
    diagnostics = plan_diagnostics(
        experiment,
        composition=composition.diagnostics,
        run_set_info=composition.run_set_info,
        predicates=stream.predicate_stats.to_json(),
        merge=stream.merge_stats.to_json(),
        num_configs=result.num_configs,
        num_batches=num_batches,
    )
    final = RunLayout(writer.final_root)
    run_info = {
        "run_id": writer.run_id,
        "run_root": str(final.root),
        "created_at": timefmt.iso_seconds(),
        "experiment_path": str(experiment.path),
        "experiment_dir": str(experiment.path.parent),
        "run_set": composition.run_set_info.get("selected"),
        "batch_size": batch_size,
        "schema_version": ARTIFACT_SCHEMA_VERSION,
        "base_command": experiment.base_command,
        "num_configs": result.num_configs,
        "num_batches": num_batches,
        "diagnostics_path": str(final.diagnostics_json),
        "diagnostics_summary_path": str(final.diagnostics_summary),
        "planner_version": PLANNER_VERSION,
        "host_user": _host_user(),
    }
    return writer.finish(
        diagnostics=diagnostics,
        summary_text=summary_text(diagnostics),
        run_set_info=composition.run_set_info,
        document=composition.document,
        files=snapshot_files(composition.files),
        run_info=run_info,
    )


def _result(
    run_set: str | None,
    run_id: str,
    run_root: Path | None,
    streamed: tuple[StreamResult, ConfigStream],
    batch_size: int,
    *,
    dry_run: bool,
) -> PlanResult:
    result = streamed[0]
    plan = PlanResult(
        run_set=run_set,
        run_id=run_id,
        run_root=run_root,
        total_configs=result.num_configs,
        total_batches=math.ceil(result.num_configs / batch_size),
        batch_size=batch_size,
        dry_run=dry_run,
        preview_configs=result.preview,
    )
    if plan.total_batches > BATCH_WARNING_LIMIT:
        suggested = math.ceil(plan.total_configs / BATCH_WARNING_LIMIT)
        message = (
            f"{plan.total_batches} batches is more than one Snakemake run schedules "
            f"well (about {BATCH_WARNING_LIMIT}); consider --batch-size {suggested} "
            f"or more"
        )
        log.warning("%s", message)
        plan.warnings.append(message)
    return plan


def snapshot_files(files: Any) -> list[SnapshotFile]:
    """Loaded files of a composition, as path/package/text (attributes or keys)."""
    snapshot = []
    for item in files or ():
        get = (
            item.get
            if isinstance(item, dict)
            else lambda key, i=item: getattr(i, key, None)
        )
        text = get("text")
        if text is None:
            text = get("raw_text")
        snapshot.append(
            SnapshotFile(
                path=Path(str(get("path"))), package=get("package"), text=text or ""
            )
        )
    return snapshot


def _host_user() -> str:
    return os.environ.get("USER") or os.environ.get("USERNAME") or _login_name()


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
