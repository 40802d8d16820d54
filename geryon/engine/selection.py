"""Selections: which batches and configs one execution covers (spec E2, E5-E8).

A selection is validated completely before anything is written. Its id decides
where Snakemake's batch markers live (``exec/markers/<selection_id>/``):

* a selection of whole batches (all, or ``--batch-index``) has an id derived
  from its batch list, so running it again continues where it stopped: batches
  with a marker are not run again, and the wrapper resumes the others;
* a selection of configs (``--config-id``, ``--retry-file``) gets a fresh id per
  execution, because asking for a config again means running it again.

Deliberate differences from upstream (spec section 12):

* Q25: a selection of configs runs only the batches that hold them (upstream
  visits every batch);
* Q26: ids named explicitly (``--config-id``, or a retry file's
  ``explicit_config_ids``) are listed in ``explicit_config_ids`` and the wrapper
  never skips them for resume, even when a retry file forces resume on.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from geryon import canonical, timefmt
from geryon.errors import ConfigError
from geryon.layout import RunLayout
from geryon.planfiles import iter_configs, load_batches
from geryon.settings import RunSettings


@dataclass(frozen=True)
class Selection:
    """The contents of ``exec/selections/<selection_id>.json`` (architecture.md)."""

    selection_id: str
    run_id: str
    backend: str
    batch_indices: tuple[int, ...]
    include_config_ids: tuple[str, ...]
    explicit_config_ids: tuple[str, ...]
    settings: RunSettings
    created_at: str
    retry_file: str | None = None

    @property
    def resume(self) -> bool:
        return self.settings.resume

    def to_json(self) -> dict[str, Any]:
        return {
            "selection_id": self.selection_id,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "backend": self.backend,
            "batch_indices": list(self.batch_indices),
            "include_config_ids": list(self.include_config_ids),
            "explicit_config_ids": list(self.explicit_config_ids),
            "resume": self.resume,
            "retry_file": self.retry_file,
            "settings": self.settings.to_json(),
        }

    def with_settings(self, settings: RunSettings) -> Selection:
        return replace(self, settings=settings)


@dataclass(frozen=True)
class ConfigChoice:
    """What the user asked for, before it is checked against the plan."""

    batch_indices: tuple[int, ...] = ()
    config_ids: tuple[str, ...] = ()
    retry_file: str | Path | None = None


@dataclass(frozen=True)
class RetryTargets:
    target_config_ids: tuple[str, ...]
    explicit_config_ids: tuple[str, ...]
    path: Path


def build_selection(
    layout: RunLayout, choice: ConfigChoice, settings: RunSettings, *, backend: str
) -> Selection:
    """Check the choice against the plan (E2.1, E2.6, E6) and name the selection."""
    planned = {int(b["batch_index"]) for b in load_batches(layout)}
    batches = _requested_batches(layout, choice.batch_indices, planned)
    retry = read_retry_file(layout, choice.retry_file) if choice.retry_file else None
    include = _unique([*choice.config_ids, *(retry.target_config_ids if retry else ())])
    explicit = _unique(
        [*choice.config_ids, *(retry.explicit_config_ids if retry else ())]
    )
    if include:
        batches = _batches_of_configs(layout, include, batches, choice.batch_indices)
    return Selection(
        selection_id=_selection_id(backend, batches, bool(include)),
        run_id=layout.run_id,
        backend=backend,
        batch_indices=batches,
        include_config_ids=include,
        explicit_config_ids=tuple(c for c in explicit if c in include),
        settings=settings,
        created_at=timefmt.iso_seconds(),
        retry_file=str(retry.path) if retry else None,
    )


def _unique(items: list[str]) -> tuple[str, ...]:
    """E5: union in order, de-duplicated, first occurrence kept; blanks dropped."""
    seen: dict[str, None] = {}
    for item in items:
        text = str(item).strip()
        if text:
            seen.setdefault(text, None)
    return tuple(seen)


def _requested_batches(
    layout: RunLayout, requested: tuple[int, ...], planned: set[int]
) -> tuple[int, ...]:
    """E2.1: requested indices must be planned; duplicates collapse; sorted."""
    if not requested:
        return tuple(sorted(planned))
    unknown = sorted(set(requested) - planned)
    if unknown:
        last = max(planned) if planned else -1
        raise ConfigError(
            f"--batch-index {unknown[0]} is not a planned batch "
            f"(this run has batches 0..{last})",
            file=layout.batches_jsonl,
            hint="Pick indices listed in plan/batches.jsonl",
        )
    return tuple(sorted(set(requested)))


def _batches_of_configs(
    layout: RunLayout,
    config_ids: tuple[str, ...],
    batches: tuple[int, ...],
    requested: tuple[int, ...],
) -> tuple[int, ...]:
    """E2.6 and Q25: every id must be planned; only the batches holding them run."""
    wanted = set(config_ids)
    found: dict[str, int] = {}
    for record in iter_configs(layout):
        config_id = record["config_id"]
        if config_id in wanted:
            found.setdefault(config_id, int(record["batch_index"]))
    missing = [c for c in config_ids if c not in found]
    if missing:
        raise ConfigError(
            f"config id {missing[0]!r} is not planned in this run "
            f"({len(missing)} unknown id(s))",
            file=layout.configs_jsonl,
            hint="Use full 40-character ids from plan/configs.jsonl "
            "('geryon show-config' resolves prefixes)",
        )
    chosen = sorted(set(found.values()))
    if requested:
        outside = [c for c in config_ids if found[c] not in set(batches)]
        if outside:
            raise ConfigError(
                f"config {outside[0]} is in batch {found[outside[0]]}, which "
                "--batch-index does not select",
                hint="Add that --batch-index or drop the --batch-index filter",
            )
    return tuple(chosen)


def _selection_id(backend: str, batches: tuple[int, ...], by_config: bool) -> str:
    if by_config:
        return f"sel_{timefmt.compact_stamp()}_{secrets.token_hex(3)}"
    digest = canonical.sha1_hex({"backend": backend, "batch_indices": list(batches)})
    return f"sel_{backend}_{digest[:12]}"


def read_retry_file(layout: RunLayout, retry_file: str | Path) -> RetryTargets:
    """E6: the file exists, is JSON, and belongs to this run."""
    path = Path(retry_file).expanduser().resolve()
    data = _load_json(path)
    targets = data.get("target_config_ids", [])
    if not isinstance(targets, list):
        raise ConfigError(
            "target_config_ids must be a list of config ids",
            file=path,
            key_path="target_config_ids",
            hint="Regenerate the file with 'geryon rerun'",
        )
    _check_owner(layout, data, path)
    explicit = data.get("explicit_config_ids") or []
    return RetryTargets(
        target_config_ids=_unique([str(t) for t in targets]),
        explicit_config_ids=_unique([str(t) for t in explicit]),
        path=path,
    )


def _load_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(
            "retry file not found",
            file=path,
            hint="Create one with 'geryon rerun --run <run>'",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise ConfigError(
            f"retry file is not valid JSON ({err})", file=path, hint="Regenerate it"
        ) from err
    if not isinstance(data, dict):
        raise ConfigError("retry file must hold a JSON object", file=path)
    return data


def _check_owner(layout: RunLayout, data: dict[str, Any], path: Path) -> None:
    run_root = data.get("run_root")
    if run_root and Path(str(run_root)).expanduser().resolve() != layout.root:
        raise ConfigError(
            f"retry file belongs to run root {run_root}, not {layout.root}",
            file=path,
            key_path="run_root",
            hint="Pass the --run the retry file was made for",
        )
    run_id = data.get("run_id")
    if run_id and str(run_id) != layout.run_id:
        raise ConfigError(
            f"retry file is for run id {run_id!r}, this run is {layout.run_id!r}",
            file=path,
            key_path="run_id",
            hint="Pass the --run the retry file was made for",
        )
