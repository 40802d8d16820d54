"""Run sets: named overlays of the root document (spec R1–R14, quirks Q5, Q6).

A run set is applied to the root document after every file was loaded, so it
cannot change imports or definitions. Entries of ``select.groups`` and
``select.packs`` are wrapped in :class:`Located` before the overlay, so that after
any mix of append / replace / patch_packs each selector still knows the key path
where it is written (``select.packs[1]`` or ``run_sets.fast.append.select.packs[0]``)
and errors can point there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon.compose.tree import clone, cycle_chain
from geryon.errors import ConfigError, key_path
from geryon.sanitize import path_component

OPERATIONS = ("append", "replace", "patch_packs")


@dataclass(frozen=True)
class Located:
    """A selector (or group name) and the key path in the root file where it is written."""

    value: Any
    where: tuple[str | int, ...]


@dataclass(frozen=True)
class RunSetTable:
    """The root's run sets by trimmed name, with the key as written (for key paths)."""

    file: Path
    specs: dict[str, tuple[str, dict[str, Any]]]

    @property
    def names(self) -> list[str]:
        return sorted(self.specs)

    def where(self, name: str, *parts: str | int) -> str:
        return key_path(["run_sets", self.specs[name][0], *parts])


def run_set_table(root: dict[str, Any], file: Path) -> RunSetTable:
    """Collect the run sets and reject names that collide as run-id suffixes (Q6).

    Upstream only notices such a collision when the second plan finds the run
    directory of the first; geryon refuses the file before anything is planned.
    """
    specs: dict[str, tuple[str, dict[str, Any]]] = {}
    by_suffix: dict[str, str] = {}
    for raw_name, spec in (root.get("run_sets") or {}).items():
        name = raw_name.strip()
        suffix = path_component(name)
        other = by_suffix.get(suffix)
        if other is not None:
            raise ConfigError(
                f"run set names '{other}' and '{raw_name}' both become the run-id "
                f"suffix '{suffix}'",
                file=file,
                key_path=key_path(["run_sets", raw_name]),
                hint="Rename one of them: each run set is planned into its own run "
                "directory named after it",
            )
        by_suffix[suffix] = raw_name
        specs[name] = (raw_name, spec)
    return RunSetTable(file, specs)


def selected_name(run_set: str, table: RunSetTable) -> str:
    """Validate a ``--run-set`` value (R11): trimmed, non-empty, known."""
    name = run_set.strip()
    if not name:
        raise ConfigError(
            "--run-set must not be empty",
            file=table.file,
            hint=f"Known run sets: {', '.join(table.names) or '(none)'}",
        )
    if name not in table.specs:
        raise _unknown(name, table, where=None)
    return name


def _unknown(name: str, table: RunSetTable, *, where: str | None) -> ConfigError:
    known = ", ".join(table.names)
    hint = f"Known run sets: {known}" if known else "This file defines no run_sets"
    return ConfigError(
        f"unknown run set '{name}'", file=table.file, key_path=where, hint=hint
    )


def resolution_order(name: str, table: RunSetTable) -> list[str]:
    """Linearise ``extends`` (R4): parents first, first occurrence wins, then ``name``."""
    return _order(name, table, [], {})


def _order(
    name: str, table: RunSetTable, stack: list[str], cache: dict[str, list[str]]
) -> list[str]:
    if name in cache:
        return cache[name]
    order: list[str] = []
    parents = table.specs[name][1].get("extends") or []
    for index, raw_parent in enumerate(parents):
        parent = raw_parent.strip()
        where = table.where(name, "extends", index)
        if parent not in table.specs:
            raise _unknown(parent, table, where=where)
        if parent == name or parent in stack:
            raise ConfigError(
                "run_set inheritance cycle detected:\n"
                + cycle_chain([*stack, name, parent]),
                file=table.file,
                key_path=where,
                hint="Remove one 'extends' entry of the cycle",
            )
        for entry in _order(parent, table, [*stack, name], cache):
            if entry not in order:
                order.append(entry)
    order.append(name)
    cache[name] = order
    return order


def overlay(
    root: dict[str, Any], order: list[str], table: RunSetTable
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Apply the run sets of ``order`` to the root (R6–R10).

    Returns the overlaid document (its ``select`` holds :class:`Located` entries)
    and the applied operations of R14. The root and the run sets are not
    modified: changed levels are rebuilt, unchanged values are shared.
    """
    document = dict(root)
    if isinstance(document.get("select"), dict):
        document["select"] = _locate_select(document["select"], ("select",))
    applied: list[dict[str, Any]] = []
    for name in order:
        raw_name, spec = table.specs[name]
        base = ("run_sets", raw_name)
        for operation in OPERATIONS:
            payload = spec.get(operation) or {}
            if not payload:
                continue
            document = _apply(operation, document, payload, (*base, operation), table)
            applied.append(
                {"run_set": name, "operation": operation, "payload": clone(payload)}
            )
    return document, applied


def _apply(
    operation: str,
    document: dict[str, Any],
    payload: dict[str, Any],
    where: tuple[str | int, ...],
    table: RunSetTable,
) -> dict[str, Any]:
    if operation == "patch_packs":
        return _patch_packs(document, payload, where, table.file)
    located = dict(payload)
    if isinstance(located.get("select"), dict):
        located["select"] = _locate_select(located["select"], (*where, "select"))
    if operation == "append":
        return append_into(document, located)
    return replace_into(document, located)


def _locate_select(
    select: dict[str, Any], where: tuple[str | int, ...]
) -> dict[str, Any]:
    out = dict(select)
    for key in ("groups", "packs"):
        items = out.get(key)
        if isinstance(items, list):
            out[key] = [Located(item, (*where, key, i)) for i, item in enumerate(items)]
    return out


def append_into(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """R8: absent keys are copied in, mappings recurse, lists concatenate, else replace."""
    out = dict(target)
    for key, value in patch.items():
        current = out.get(key)
        if key not in out:
            out[key] = value
        elif isinstance(current, dict) and isinstance(value, dict):
            out[key] = append_into(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            out[key] = [*current, *value]
        else:
            out[key] = value
    return out


def replace_into(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """R9: mappings recurse; every other value (lists included) replaces."""
    out = dict(target)
    for key, value in patch.items():
        current = out.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            out[key] = replace_into(current, value)
        else:
            out[key] = value
    return out


def _patch_packs(
    document: dict[str, Any],
    patches: dict[str, Any],
    where: tuple[str | int, ...],
    file: Path,
) -> dict[str, Any]:
    """R10: replace the first ``select.packs`` entry whose literal name matches."""
    select = document.get("select")
    if not isinstance(select, dict) or not isinstance(select.get("packs"), list):
        raise ConfigError(
            "patch_packs needs select.packs to be a list at this point",
            file=file,
            key_path=key_path(where),
            hint="Define select.packs in the root or in an earlier append/replace",
        )
    packs: list[Located] = list(select["packs"])
    for raw_key, replacement in patches.items():
        entry_where = (*where, raw_key)
        index = _find_named(packs, raw_key.strip(), entry_where, file)
        packs[index] = Located(
            _named(replacement, raw_key.strip(), entry_where, file), entry_where
        )
    return {**document, "select": {**select, "packs": packs}}


def _find_named(
    packs: list[Located], name: str, where: tuple[str | int, ...], file: Path
) -> int:
    names = []
    for index, entry in enumerate(packs):
        literal = entry.value.get("name") if isinstance(entry.value, dict) else None
        if isinstance(literal, str):
            if literal.strip() == name:
                return index
            names.append(literal.strip())
    raise ConfigError(
        f"no entry of select.packs has the name '{name}'",
        file=file,
        key_path=key_path(where),
        hint=f"Entries with a literal name: {', '.join(names) or '(none)'}. Entries "
        "without a 'name' key and packs that come from groups cannot be patched",
    )


def _named(
    replacement: dict[str, Any], name: str, where: tuple[str | int, ...], file: Path
) -> dict[str, Any]:
    given = replacement.get("name")
    if given is None:
        return {**replacement, "name": name}
    if given.strip() != name:
        raise ConfigError(
            f"the replacement's name '{given}' differs from the patched pack '{name}'",
            file=file,
            key_path=key_path([*where, "name"]),
            hint="Leave 'name' out (it defaults to the patched pack's name) or make them equal",
        )
    return replacement
