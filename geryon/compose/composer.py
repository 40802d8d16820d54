"""``compose()``: from an experiment path to the composed document (spec §1–§2).

Validation is complete at load (spec quirk Q5): besides the variant asked for,
the root document without run set and every run set are overlaid and expanded,
so a file is either valid or not, whatever ``--run-set`` is given. The selected
variant is expanded first, so its problems are the ones reported first; the
other variants follow in the order: no run set, then run sets by name.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon.compose import loader, runsets
from geryon.compose.loader import LoadedFile, LoadState
from geryon.compose.registry import KINDS
from geryon.compose.runsets import RunSetTable
from geryon.compose.selectors import Expander, ExpansionRecord
from geryon.compose.tree import clone
from geryon.errors import ConfigError

log = logging.getLogger("geryon.compose")

# Keys of the root document that do not reach the composed document (C30).
_NOT_COMPOSED = ("imports", "option_sets", "groups", "run_sets", "select")


@dataclass(frozen=True)
class Composition:
    """The result of composing one experiment file for one run set (or none).

    ``document`` is the composed experiment (C30); ``diagnostics`` the
    ``composition`` section of ``plan/diagnostics.json`` (C32, A8) whose
    ``run_set`` entry is ``run_set_info`` (R14); ``files`` every loaded file in load
    order (imports before the file importing them, the root last), the same file
    twice when it was imported under two packages.
    """

    document: dict[str, Any]
    diagnostics: dict[str, Any]
    run_set_info: dict[str, Any]
    run_set_names: list[str]
    files: list[LoadedFile]
    root_path: Path


def compose(experiment_path: str | Path, *, run_set: str | None = None) -> Composition:
    """Load, validate and compose an experiment file; raise ConfigError on bad input."""
    root_path = loader.resolve_path(Path(experiment_path))
    root, state = loader.load_tree(root_path)
    table = runsets.run_set_table(root, root_path)
    selected = runsets.selected_name(run_set, table) if run_set is not None else None
    record = ExpansionRecord()
    document, run_set_info = _variant(root, state, table, selected, record)
    for other in _other_variants(selected, table):
        _variant(root, state, table, other, ExpansionRecord())
    diagnostics = _diagnostics(state, record, document, run_set_info)
    log.debug("composed %s: %d pack(s)", root_path, len(document["packs"]))
    return Composition(
        document=document,
        diagnostics=diagnostics,
        run_set_info=run_set_info,
        run_set_names=table.names,
        files=list(state.files),
        root_path=root_path,
    )


def run_set_names(experiment_path: str | Path) -> list[str]:
    """Sorted run-set names of the root file, read without loading imports.

    The root file is fully checked on its own (structure, colliding names, Q6);
    problems in imported files are left to :func:`compose`.
    """
    root_path = loader.resolve_path(Path(experiment_path))
    root, _warnings = loader.load_root_only(root_path)
    return runsets.run_set_table(root, root_path).names


def _other_variants(selected: str | None, table: RunSetTable) -> list[str | None]:
    variants: list[str | None] = [None, *table.names]
    return [name for name in variants if name != selected]


def _variant(
    root: dict[str, Any],
    state: LoadState,
    table: RunSetTable,
    name: str | None,
    record: ExpansionRecord,
) -> tuple[dict[str, Any], dict[str, Any]]:
    order = runsets.resolution_order(name, table) if name is not None else []
    try:
        overlaid, applied = runsets.overlay(root, order, table)
        packs = Expander(state.registry, record).expand_select(
            overlaid.get("select"), table.file
        )
    except ConfigError as err:
        if name is None:
            raise
        raise ConfigError(
            f"with run set '{name}' (applied in order {', '.join(order)}): {err.problem}",
            file=err.file,
            key_path=err.key_path,
            hint=err.hint,
        ) from err
    info = {
        "selected": name,
        "available": table.names,
        "resolved_order": order,
        "applied_operations": applied,
    }
    return _document(overlaid, packs), info


def _document(overlaid: dict[str, Any], packs: list[dict[str, Any]]) -> dict[str, Any]:
    """C30: drop composition-only keys, complete ``schema``, put the packs in."""
    document = {
        key: None if key == "packs" else clone(value)
        for key, value in overlaid.items()
        if key not in _NOT_COMPOSED
    }
    schema = dict(document.get("schema") or {})
    schema.setdefault("version", 4)
    schema.setdefault("unknown_key_behavior", "error")
    document["schema"] = schema
    document["packs"] = packs
    return document


def _diagnostics(
    state: LoadState,
    record: ExpansionRecord,
    document: dict[str, Any],
    run_set_info: dict[str, Any],
) -> dict[str, Any]:
    return {
        "files": state.file_diagnostics,
        "warnings": list(state.warnings.items),
        "registry": {kind: state.registry.names(kind) for kind in KINDS},
        "expansion": record.to_json(len(document["packs"])),
        "run_set": run_set_info,
    }
