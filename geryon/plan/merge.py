"""The parameter merge engine (spec M4–M8) with per-path provenance.

A :class:`MergeState` is the result of merging the defaults and a sequence of
options. States are immutable and share unchanged sub-trees with the state they
were derived from (copy on write along the paths an option touches), so the
planner can keep the states of a merge-order prefix and derive each combination
from its longest cached prefix in a few microseconds.

Deliberate differences from upstream (spec §12):

* Q10: the delete sentinel is interpreted at every depth, also inside a mapping
  that introduces a new key (upstream kept it as a literal string there).
  Sentinels inside lists are values, not instructions.
* Q11: ``set_union`` sorts by a typed order (numbers numerically, then text by
  code point) instead of by canonical JSON text.
* Q43: provenance is kept per contributed leaf. Overwriting a value that has no
  provenance of its own but contains values contributed by packs is treated as
  an overlap with the highest-priority contributor, so a pack's contribution
  inside a default-owned mapping cannot be wiped silently.
* Equal values (M6 rule 7) means equal JSON values: ``1``, ``1.0`` and ``true``
  are different, because they render and hash differently.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

from geryon import canonical
from geryon.errors import ConfigError
from geryon.plan.model import MergeSpec, Option
from geryon.plan.values import same_value, typed_sort_key

EVENT_KINDS = (
    "override_default",
    "equal_overlap",
    "priority_override",
    "priority_kept",
    "delete_applied",
    "delete_noop",
    "strategy_replace",
    "strategy_append_unique",
    "strategy_set_union",
)
SAMPLE_LIMIT = 64
TOP_PATHS = 32

# (kind, path, previous_source, current_source, previous_value, current_value)
Event = tuple[str, str, str, str, Any, Any]
Owner = tuple[str, int]  # (source label, priority)


class MergeState(NamedTuple):
    """Merged params, provenance per written path, and all events so far.

    A named tuple rather than a frozen dataclass: one is built per config, and
    tuples are several times cheaper to create.
    """

    params: dict[str, Any]
    provenance: dict[str, Owner]
    events: tuple[Event, ...]


def initial_state(default_params: dict[str, Any]) -> MergeState:
    """M4: defaults start the merge and own nothing (lowest precedence)."""
    return MergeState(default_params, {}, ())


class MergeContext:
    """Settings of one plan's merges, and a cache of option sub-tree paths."""

    def __init__(self, spec: MergeSpec, file: str) -> None:
        self.spec = spec
        self.file = file
        # id(mapping) -> (mapping, its nested paths or None if it holds a sentinel);
        # the mapping is kept so its id cannot be reused while cached.
        self.plain: dict[int, tuple[dict[str, Any], tuple[str, ...] | None]] = {}

    def plain_paths(self, value: dict[str, Any]) -> tuple[str, ...] | None:
        """Relative paths inside ``value``, or None when a sentinel is nested in it."""
        cached = self.plain.get(id(value))
        if cached is None or cached[0] is not value:
            cached = (value, _nested_paths(value, self.spec.delete_sentinel))
            self.plain[id(value)] = cached
        return cached[1]


def _nested_paths(value: dict[str, Any], sentinel: str) -> tuple[str, ...] | None:
    paths: list[str] = []
    for key, item in value.items():
        if item.__class__ is str and item == sentinel:
            return None
        paths.append(key)
        if isinstance(item, dict):
            below = _nested_paths(item, sentinel)
            if below is None:
                return None
            paths.extend(f"{key}.{sub}" for sub in below)
    return tuple(paths)


def new_keys_provenance(
    context: MergeContext, option: Option
) -> dict[str, Owner] | None:
    """The provenance ``option`` writes when none of its keys exist yet, or None
    when a sentinel in its params makes that merge more than a plain insert."""
    owner = (option.label, option.priority)
    sentinel = context.spec.delete_sentinel
    provenance: dict[str, Owner] = {}
    for key, value in option.params.items():
        if value.__class__ is str and value == sentinel:
            return None
        provenance[key] = owner
        if isinstance(value, dict):
            nested = context.plain_paths(value)
            if nested is None:
                return None
            provenance.update((f"{key}.{sub}", owner) for sub in nested)
    return provenance


def merge_option(
    context: MergeContext,
    state: MergeState,
    option: Option,
    combo: tuple[Option, ...],
) -> MergeState:
    """A new state: ``state`` with ``option``'s params merged in (M6)."""
    step = _Step(context, state, option, combo)
    params = dict(state.params)
    step.merge_into(params, option.params, "")
    return MergeState(params, step.provenance, tuple(step.events))


def merge_order(combo: tuple[Option, ...]) -> list[Option]:
    """M5: by priority ascending; ties keep pack order (``sorted`` is stable)."""
    return sorted(combo, key=_priority)


def _priority(option: Option) -> int:
    return option.priority


class _Step:
    """Merging one option; owns private copies of the provenance and event list."""

    def __init__(
        self,
        context: MergeContext,
        state: MergeState,
        option: Option,
        combo: tuple[Option, ...],
    ) -> None:
        self.context = context
        self.spec = context.spec
        self.file = context.file
        self.option = option
        self.owner: Owner = (option.label, option.priority)
        self.combo = combo
        self.provenance = dict(state.provenance)
        self.events = list(state.events)

    def merge_into(
        self, target: dict[str, Any], incoming: dict[str, Any], prefix: str
    ) -> None:
        """Merge ``incoming`` into ``target``, a private copy that may be changed."""
        sentinel = self.spec.delete_sentinel
        for key, value in incoming.items():
            path = prefix + key
            if value.__class__ is str and value == sentinel:
                self.delete(target, key, path)
            elif key not in target:
                self.insert(target, key, value, path)
            elif path in self.spec.strategies:
                self.strategy(target, key, value, path)
            elif isinstance(value, dict) and isinstance(target[key], dict):
                child = dict(target[key])
                target[key] = child
                self.merge_into(child, value, path + ".")
            else:
                self.overlap(target, key, value, path)

    def insert(self, target: dict[str, Any], key: str, value: Any, path: str) -> None:
        """M6 rule 2, interpreting nested sentinels (Q10).

        A mapping without sentinels is shared, not copied: option params are
        never modified, and later merges copy what they change.
        """
        self.provenance[path] = self.owner
        if not isinstance(value, dict):
            target[key] = value
            return
        nested = self.context.plain_paths(value)
        if nested is not None:
            target[key] = value
            for sub_path in nested:
                self.provenance[f"{path}.{sub_path}"] = self.owner
            return
        child: dict[str, Any] = {}
        target[key] = child
        sentinel = self.spec.delete_sentinel
        for sub_key, sub_value in value.items():
            sub_path = f"{path}.{sub_key}"
            if sub_value.__class__ is str and sub_value == sentinel:
                self.event("delete_noop", sub_path, None, None, sub_value)
            else:
                self.insert(child, sub_key, sub_value, sub_path)

    def delete(self, target: dict[str, Any], key: str, path: str) -> None:
        """M6 rule 1: ignores mode, strategies and priorities."""
        sentinel = self.spec.delete_sentinel
        if key not in target:
            self.event("delete_noop", path, None, None, sentinel)
            return
        self.event(
            "delete_applied", path, self.provenance.get(path), target[key], sentinel
        )
        del target[key]
        self.forget(path)

    def overwrite(
        self, target: dict[str, Any], key: str, value: Any, path: str
    ) -> None:
        self.forget(path)
        self.insert(target, key, value, path)

    def forget(self, path: str) -> None:
        """Drop the provenance at and below ``path``."""
        self.provenance.pop(path, None)
        below = path + "."
        for stale in [p for p in self.provenance if p.startswith(below)]:
            del self.provenance[stale]

    def strongest_owner(self, existing: Any, path: str) -> Owner | None:
        """The owner of ``path``, or (Q43) the highest-priority owner below it."""
        owners = []
        if path in self.provenance:
            owners.append(self.provenance[path])
        if isinstance(existing, dict):
            below = path + "."
            owners.extend(o for p, o in self.provenance.items() if p.startswith(below))
        return max(owners, key=lambda owner: owner[1]) if owners else None

    def overlap(self, target: dict[str, Any], key: str, value: Any, path: str) -> None:
        """M6 rules 5–7."""
        existing = target[key]
        owner = self.strongest_owner(existing, path)
        if owner is None:
            if not same_value(existing, value):
                self.event("override_default", path, None, existing, value)
            self.overwrite(target, key, value, path)
        elif self.spec.mode == "none":
            raise self.conflict(
                path,
                owner,
                existing,
                value,
                "Parameter conflict detected (merge.mode=none does not allow overlaps)",
            )
        elif same_value(existing, value):
            self.event("equal_overlap", path, owner, existing, value)
        elif self.owner[1] > owner[1]:
            self.event("priority_override", path, owner, existing, value)
            self.overwrite(target, key, value, path)
        elif self.owner[1] == owner[1]:
            raise self.conflict(
                path, owner, existing, value, "Parameter conflict at equal priority"
            )
        else:
            self.event("priority_kept", path, owner, existing, value)

    def strategy(self, target: dict[str, Any], key: str, value: Any, path: str) -> None:
        """M6 rule 3: a strategy configured for exactly this path."""
        name = self.spec.strategies[path]
        existing = target[key]
        owner = self.provenance.get(path)
        if name == "error":
            raise self.conflict(
                path,
                owner,
                existing,
                value,
                "Parameter overlap blocked by merge.strategies",
            )
        if name == "replace":
            self.event("strategy_replace", path, owner, existing, value)
            self.overwrite(target, key, value, path)
            return
        if name == "deep_merge":
            self.need_types(path, name, existing, value, dict)
            child = dict(existing)
            target[key] = child
            self.merge_into(child, value, path + ".")
            return
        self.need_types(path, name, existing, value, list)
        combined = _distinct([*existing, *value])
        if name == "set_union":
            combined.sort(key=typed_sort_key)
        self.event(f"strategy_{name}", path, owner, existing, combined)
        target[key] = combined
        self.provenance[path] = self.owner

    def need_types(
        self, path: str, name: str, existing: Any, value: Any, kind: type
    ) -> None:
        if isinstance(existing, kind) and isinstance(value, kind):
            return
        word = "mappings" if kind is dict else "lists"
        raise ConfigError(
            f"merge strategy {name} at {path!r} needs two {word}, got "
            f"{existing!r} and {value!r}; selected options: {self.selected()}",
            file=self.file,
            key_path=f"{self.option.key_path}.params.{path}",
            hint=f"Make both values {word}, or change merge.strategies.{path}",
        )

    def event(
        self, kind: str, path: str, owner: Owner | None, previous: Any, current: Any
    ) -> None:
        previous_source = owner[0] if owner else "defaults"
        self.events.append(
            (kind, path, previous_source, self.owner[0], previous, current)
        )

    def selected(self) -> str:
        return ", ".join(f"{o.pack}={o.id}" for o in self.combo)

    def conflict(
        self, path: str, owner: Owner | None, existing: Any, value: Any, title: str
    ) -> ConfigError:
        before = f"{owner[0]} (priority {owner[1]})" if owner else "defaults"
        return ConfigError(
            f"{title} at {path!r}: {before} set {canonical.dumps(existing)}, "
            f"{self.owner[0]} (priority {self.owner[1]}) sets {canonical.dumps(value)}; "
            f"selected options: {self.selected()}",
            file=self.file,
            key_path=f"{self.option.key_path}.params.{path}",
            hint="Give one pack a higher priority, exclude the combination with "
            "constraints, or set a merge strategy for this path",
        )


def _distinct(values: list[Any]) -> list[Any]:
    """First occurrence of each value by canonical JSON equality."""
    seen: set[str] = set()
    kept = []
    for value in values:
        text = canonical.dumps(value)
        if text not in seen:
            seen.add(text)
            kept.append(value)
    return kept


class MergeStats:
    """M8: event counts per kind and per path, and up to 64 samples per kind."""

    def __init__(self) -> None:
        self.counters: Counter[str] = Counter(dict.fromkeys(EVENT_KINDS, 0))
        self.paths: dict[str, Counter[str]] = {kind: Counter() for kind in EVENT_KINDS}
        self.samples: dict[str, list[dict[str, Any]]] = {
            kind: [] for kind in EVENT_KINDS
        }

    def record(self, events: tuple[Event, ...]) -> None:
        """Count the events of one merged combination."""
        for kind, path, previous_source, current_source, previous, current in events:
            self.counters[kind] += 1
            self.paths[kind][path] += 1
            samples = self.samples[kind]
            if len(samples) < SAMPLE_LIMIT:
                samples.append(
                    {
                        "path": path,
                        "previous_source": previous_source,
                        "current_source": current_source,
                        "previous_value": previous,
                        "current_value": current,
                    }
                )

    def top_paths(self, kind: str, limit: int = TOP_PATHS) -> list[dict[str, Any]]:
        """By count descending, then path ascending."""
        ranked = sorted(self.paths[kind].items(), key=lambda item: (-item[1], item[0]))
        return [{"path": path, "count": count} for path, count in ranked[:limit]]

    def to_json(self) -> dict[str, Any]:
        return {
            "counters": dict(self.counters),
            "top_override_default_paths": self.top_paths("override_default"),
            "top_equal_overlap_paths": self.top_paths("equal_overlap"),
            "samples": self.samples,
        }
