"""The normalised experiment the planner works on (built by :mod:`geryon.plan.normalise`).

Every object here is validated once and then only read: options' ``params`` trees
are shared between many configs by the merge engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MERGE_MODES = ("merge", "none")
STRATEGIES = ("error", "replace", "deep_merge", "append_unique", "set_union")
DEFAULT_SENTINEL = "__delete__"


@dataclass(frozen=True, eq=False)
class Option:
    """One option of a (merged) pack. ``label`` is the merge source name (M5)."""

    pack: str
    index: int
    id: str
    tag: str | None
    params: dict[str, Any]
    priority: int
    key_path: str

    @property
    def label(self) -> str:
        return f"{self.pack}[{self.index}]"


@dataclass(frozen=True)
class Pack:
    name: str
    priority: int
    options: tuple[Option, ...]


@dataclass(frozen=True)
class MergeSpec:
    mode: str = "merge"
    strategies: Mapping[str, str] = field(default_factory=dict)
    delete_sentinel: str = DEFAULT_SENTINEL

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "strategies": dict(self.strategies),
            "delete_sentinel": self.delete_sentinel,
        }


@dataclass(frozen=True)
class Rule:
    """An include/exclude rule compiled to pack positions and allowed option indices."""

    key_path: str
    when: tuple[tuple[int, frozenset[int]], ...]

    def matches(self, combo: tuple[Option, ...]) -> bool:
        return all(combo[pos].index in allowed for pos, allowed in self.when)


@dataclass(frozen=True)
class ArgSpec:
    """A predicate argument: a pack's selected option id or a merged param (K11)."""

    name: str
    pack: str | None
    param: tuple[str, ...] | None
    has_default: bool
    default: Any


# A compiled predicate expression: reads resolved args, returns the leaf value.
Compiled = Callable[[Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Predicate:
    id: str
    index: int
    args: tuple[ArgSpec, ...]
    expr: Any
    compiled: Compiled
    on_error: str  # "error" or "false"

    @property
    def key_path(self) -> str:
        return f"constraints.predicates[{self.index}]"


@dataclass(frozen=True)
class Experiment:
    """A composed experiment after normalisation (spec §3–§5)."""

    path: Path
    program: str
    args: tuple[str, ...]
    base_command: str
    default_params: dict[str, Any]
    default_tags: tuple[str, ...]
    merge: MergeSpec
    merge_input: Any
    packs: tuple[Pack, ...]
    includes: tuple[Rule, ...]
    excludes: tuple[Rule, ...]
    predicates: tuple[Predicate, ...]
    packs_diagnostics: dict[str, Any]
    constraints_diagnostics: dict[str, Any]
    # Dotted params keys of the app's Hydra config groups (command.config_groups).
    config_groups: frozenset[str] = frozenset()

    @property
    def num_constraints(self) -> int:
        """K7: include rules plus exclude rules."""
        return len(self.includes) + len(self.excludes)

    @property
    def num_combinations(self) -> int:
        total = 1
        for pack in self.packs:
            total *= len(pack.options)
        return total
