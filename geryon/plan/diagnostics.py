"""Planner diagnostics: ``plan/diagnostics.json`` and its text summary (spec A8, A9)."""

from __future__ import annotations

from typing import Any

from geryon.plan.model import Experiment

SUMMARY_TOP_PATHS = 10


def validation_sections(
    experiment: Experiment, composition: dict[str, Any]
) -> dict[str, Any]:
    """The sections known without enumerating (A14 ``validate-config``)."""
    return {
        "composition": composition,
        "merge_input": experiment.merge_input,
        "merge_effective": experiment.merge.to_json(),
        "packs": experiment.packs_diagnostics,
        "constraints": experiment.constraints_diagnostics,
    }


def plan_diagnostics(
    experiment: Experiment,
    *,
    composition: dict[str, Any],
    run_set_info: dict[str, Any],
    predicates: dict[str, Any],
    merge: dict[str, Any],
    num_configs: int,
    num_batches: int,
) -> dict[str, Any]:
    """A8: every section of ``plan/diagnostics.json``."""
    return {
        "summary": {
            "num_packs": len(experiment.packs),
            "num_constraints": experiment.num_constraints,
            "num_configs": num_configs,
            "num_batches": num_batches,
        },
        **validation_sections(experiment, composition),
        "run_set": run_set_info,
        "predicates": predicates,
        "merge": merge,
    }


def summary_text(diagnostics: dict[str, Any]) -> str:
    """A9: the plain-text summary, in the spec's line order."""
    composition = diagnostics.get("composition") or {}
    registry = composition.get("registry") or {}
    expansion = composition.get("expansion") or {}
    packs = diagnostics["packs"]
    constraints = diagnostics["constraints"]
    predicates = diagnostics["predicates"]
    counters = diagnostics["merge"]["counters"]
    values = [
        ("composition_files", len(composition.get("files") or [])),
        ("composition_option_sets", len(registry.get("option_sets") or [])),
        ("composition_pack_defs", len(registry.get("packs") or [])),
        ("composition_group_defs", len(registry.get("groups") or [])),
        ("composition_selected_group_refs", len(expansion.get("group_refs") or [])),
        ("composition_selected_pack_refs", len(expansion.get("pack_refs") or [])),
        ("duplicate_pack_names", len(packs["duplicate_pack_names"])),
        ("duplicate_options_removed", len(packs["duplicate_options_removed"])),
        ("duplicate_option_ids", len(packs["duplicate_option_ids"])),
        ("duplicate_tags", len(packs["duplicate_tags"])),
        ("unknown_constraint_packs", len(constraints["unknown_constraint_packs"])),
        ("unknown_constraint_values", len(constraints["unknown_constraint_values"])),
        (
            "unknown_predicate_pack_refs",
            len(constraints["unknown_predicate_pack_refs"]),
        ),
        ("predicates_declared", len(constraints["predicate_ids"])),
        ("predicate_evaluated", predicates["evaluated"]),
        ("predicate_passed", predicates["passed"]),
        ("predicate_failed", predicates["failed"]),
        ("predicate_errors", predicates["errors"]),
        ("predicate_dropped_candidates", predicates["dropped_candidates"]),
        ("override_default_events", counters["override_default"]),
        ("equal_overlap_events", counters["equal_overlap"]),
        ("priority_override_events", counters["priority_override"]),
        ("delete_applied_events", counters["delete_applied"]),
    ]
    lines = [
        "Plan Diagnostics Summary",
        *(f"{name}: {value}" for name, value in values),
    ]
    for kind in ("override_default", "equal_overlap"):
        lines += ["", f"Top {kind} paths:"]
        top = diagnostics["merge"][f"top_{kind}_paths"][:SUMMARY_TOP_PATHS]
        lines += [f"  - {item['path']}: {item['count']}" for item in top] or [
            "  - none"
        ]
    return "\n".join(lines) + "\n"
