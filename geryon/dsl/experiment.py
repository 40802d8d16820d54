"""The :class:`Experiment` builder (spec Y11–Y12).

The builder holds one schema-v4 document as plain data. Every mutator checks its
arguments, changes the document and returns the builder, so calls chain. Keys
appear in the order they were first touched, which is the order ``to_yaml``
writes them.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from geryon import yamlio
from geryon.dsl import _values as v
from geryon.dsl import emit
from geryon.dsl.predicates import ConstraintRule, Predicate
from geryon.dsl.specs import (
    DefaultsSpec,
    MergeSpec,
    Option,
    OptionSource,
    Pack,
    PackSelector,
    RunSetSpec,
)
from geryon.errors import ConfigError

SCHEMA_VERSION = 4
UNKNOWN_KEY_BEHAVIORS = ("error", "warn")
DEFINITION_KINDS = ("option_sets", "packs", "groups")


class Experiment:
    """A builder of one experiment file.

    ``Experiment()`` starts from ``{schema: {version: 4, unknown_key_behavior}}``;
    :meth:`from_dict` and :meth:`from_yaml` start from an existing document, after
    validating it strictly.
    """

    def __init__(self, unknown_key_behavior: str = "error") -> None:
        self._doc: dict[str, Any] = {}
        self.schema_unknown_key_behavior(unknown_key_behavior)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Experiment:
        """A builder holding a deep copy of ``document``, validated strictly.

        A missing ``schema`` block, or missing fields in it, are completed with the
        defaults (``version: 4``, ``unknown_key_behavior: error``).
        """
        return cls._loaded(document, source="Experiment.from_dict")

    @classmethod
    def from_yaml(cls, path: str | PathLike[str]) -> Experiment:
        """A builder holding the experiment file at ``path``, validated strictly.

        Relative ``imports`` stay relative: they resolve against the directory the
        document is finally written to, as in any experiment file.
        """
        return cls._loaded(yamlio.load_yaml_file(Path(path)), source=Path(path))

    @classmethod
    def _loaded(cls, document: object, source: str | Path) -> Experiment:
        if not isinstance(document, Mapping):
            shown = "null" if document is None else type(document).__name__
            raise ConfigError(
                f"the document must be a mapping, got {shown}", file=source
            )
        if isinstance(source, Path):
            try:
                doc = dict(v.plain("Experiment.from_yaml", "document", document))
            except ConfigError as err:
                raise ConfigError(err.problem, file=source, hint=err.hint) from err
        else:
            doc = dict(v.plain(source, "document", document))
        schema = doc.get("schema")
        schema = {} if schema is None else schema
        if isinstance(schema, dict):
            schema.setdefault("version", SCHEMA_VERSION)
            schema.setdefault("unknown_key_behavior", "error")
        doc["schema"] = schema
        emit.validate(doc, source=source)
        builder = cls()
        builder._doc = doc
        return builder

    @property
    def document(self) -> dict[str, Any]:
        """A deep copy of the document as built so far (not validated)."""
        return copy.deepcopy(self._doc)

    def schema_unknown_key_behavior(self, behavior: str) -> Experiment:
        """Set ``schema.version: 4`` and ``schema.unknown_key_behavior``."""
        call = "Experiment.schema_unknown_key_behavior"
        value = v.text(call, "behavior", behavior)
        if value not in UNKNOWN_KEY_BEHAVIORS:
            v.fail(call, "behavior", f"must be 'error' or 'warn'; got {value!r}")
        self._doc["schema"] = {"version": SCHEMA_VERSION, "unknown_key_behavior": value}
        return self

    def add_import(
        self, path: str | PathLike[str], package: str | None = None
    ) -> Experiment:
        """Append ``{path, package?}`` to ``imports``.

        A relative path is written as given and resolves against the directory of
        the file this document is written to (spec C4).
        """
        call = "Experiment.add_import"
        if not isinstance(path, str | PathLike):
            v.fail(call, "path", f"must be a string or path, got {path!r}")
        entry: dict[str, Any] = {"path": v.text(call, "path", os.fspath(path))}
        if package is not None:
            entry["package"] = v.text(call, "package", package)
        self._list("imports").append(entry)
        return self

    def command(
        self, program: str, *args: str, config_groups: Sequence[str] = ()
    ) -> Experiment:
        """Set ``command``: the program and its arguments, all strings (Q8).

        ``config_groups`` lists the params that select a Hydra config group option
        (``model``, ``model/encoder``); they are passed as ``group=option``.
        """
        call = "Experiment.command"
        v.text(call, "program", program)
        for index, group in enumerate(config_groups):
            v.text(call, f"config_groups[{index}]", group)
        for index, arg in enumerate(args):
            if not isinstance(arg, str):
                v.fail(
                    call,
                    f"args[{index}]",
                    f"must be a string, got {type(arg).__name__} {arg!r}",
                    hint="Write the argument exactly as the shell should see it: '1e-05'.",
                )
        command: dict[str, Any] = {"program": program, "args": list(args)}
        if config_groups:
            command["config_groups"] = list(config_groups)
        self._doc["command"] = command
        return self

    def defaults(
        self,
        params: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
    ) -> Experiment:
        """Set ``defaults`` (spec S9); an empty result removes the block."""
        spec = DefaultsSpec(params=params or {}, tags=tags or ())
        return self._set_or_drop("defaults", spec.to_dict())

    def merge(self, spec: MergeSpec | None = None, **fields: Any) -> Experiment:
        """Set ``merge`` from a :class:`MergeSpec` or its fields; empty removes it."""
        if spec is not None and fields:
            v.fail(
                "Experiment.merge", "spec", "and keyword fields cannot both be given"
            )
        unknown = sorted(set(fields) - {"mode", "strategies", "delete_sentinel"})
        if unknown:
            v.fail(
                "Experiment.merge",
                unknown[0],
                "is not a merge field; use mode, strategies or delete_sentinel",
            )
        if spec is None:
            spec = MergeSpec(**fields)
        elif not isinstance(spec, MergeSpec):
            v.fail("Experiment.merge", "spec", f"must be a MergeSpec, got {spec!r}")
        return self._set_or_drop("merge", spec.to_dict())

    def select_group(self, ref: str) -> Experiment:
        """Append a group reference to ``select.groups``."""
        self._select()["groups"].append(v.text("Experiment.select_group", "ref", ref))
        return self

    def add_pack(self, pack: Pack) -> Experiment:
        """Append an inline pack to ``select.packs``."""
        if not isinstance(pack, Pack):
            v.fail("Experiment.add_pack", "pack", f"must be a Pack, got {pack!r}")
        self._select()["packs"].append(pack.to_dict())
        return self

    def add_pack_selector(self, selector: PackSelector) -> Experiment:
        """Append a pack reference to ``select.packs``."""
        if not isinstance(selector, PackSelector):
            v.fail(
                "Experiment.add_pack_selector",
                "selector",
                f"must be a PackSelector, got {selector!r}",
            )
        self._select()["packs"].append(selector.to_dict())
        return self

    def add_pack_ref(
        self,
        ref: str,
        *,
        name: str | None = None,
        priority: int | None = None,
        replace_options: bool | None = None,
        options_from: Sequence[OptionSource] = (),
        options: Sequence[Option] = (),
        include_ids: Sequence[str] = (),
        exclude_ids: Sequence[str] = (),
    ) -> Experiment:
        """Build a :class:`PackSelector` from the arguments and append it."""
        return self.add_pack_selector(
            PackSelector(
                ref=ref,
                name=name,
                priority=priority,
                replace_options=replace_options,
                options_from=options_from,
                options=options,
                include_ids=include_ids,
                exclude_ids=exclude_ids,
            )
        )

    def include(self, when: Mapping[str, str | Sequence[str]]) -> Experiment:
        """Append an include rule; a single id becomes a one-element list."""
        return self.add_constraint(ConstraintRule(when=when, mode="include"))

    def exclude(self, when: Mapping[str, str | Sequence[str]]) -> Experiment:
        """Append an exclude rule; a single id becomes a one-element list."""
        return self.add_constraint(ConstraintRule(when=when, mode="exclude"))

    def add_constraint(self, rule: ConstraintRule) -> Experiment:
        """Append ``rule`` to ``constraints.include`` or ``.exclude`` by its mode."""
        if not isinstance(rule, ConstraintRule):
            v.fail(
                "Experiment.add_constraint",
                "rule",
                f"must be a ConstraintRule, got {rule!r}",
            )
        self._constraints()[rule.mode].append(rule.to_dict())
        return self

    def add_predicate(self, predicate: Predicate) -> Experiment:
        """Append ``predicate`` to ``constraints.predicates``."""
        if not isinstance(predicate, Predicate):
            v.fail(
                "Experiment.add_predicate",
                "predicate",
                f"must be a Predicate, got {predicate!r}",
            )
        self._constraints()["predicates"].append(predicate.to_dict())
        return self

    def add_option_set(self, name: str, options: Sequence[Option]) -> Experiment:
        """Set ``option_sets.<name>`` to a non-empty list of options."""
        call = "Experiment.add_option_set"
        key = v.text(call, "name", name)
        items = v.sequence(call, "options", options)
        if not items:
            v.fail(call, "options", "must hold at least one Option")
        for index, option in enumerate(items):
            if not isinstance(option, Option):
                v.fail(call, f"options[{index}]", f"must be an Option, got {option!r}")
        self._definitions("option_sets")[key] = [option.to_dict() for option in items]
        return self

    def add_pack_def(self, name: str, pack: Pack | Mapping[str, Any]) -> Experiment:
        """Set ``packs.<name>`` to a pack definition (a :class:`Pack` or a mapping)."""
        call = "Experiment.add_pack_def"
        key = v.text(call, "name", name)
        if not isinstance(pack, Pack | Mapping):
            v.fail(call, "pack", f"must be a Pack or a mapping, got {pack!r}")
        self._definitions("packs")[key] = v.plain(call, "pack", pack)
        return self

    def add_group_def(
        self, name: str, selectors: Sequence[PackSelector | Pack | Mapping[str, Any]]
    ) -> Experiment:
        """Set ``groups.<name>`` to a non-empty list of selectors.

        Entries may be a :class:`PackSelector`, an inline :class:`Pack` or a
        mapping (``{"group": "other"}`` includes another group).
        """
        call = "Experiment.add_group_def"
        key = v.text(call, "name", name)
        items = v.sequence(call, "selectors", selectors)
        if not items:
            v.fail(call, "selectors", "must hold at least one selector")
        for index, item in enumerate(items):
            if not isinstance(item, PackSelector | Pack | Mapping):
                v.fail(call, f"selectors[{index}]", f"must be a selector, got {item!r}")
        self._definitions("groups")[key] = v.plain(call, "selectors", items)
        return self

    def add_run_set(self, name: str, spec: RunSetSpec) -> Experiment:
        """Set ``run_sets.<name>``."""
        call = "Experiment.add_run_set"
        key = v.text(call, "name", name)
        if not isinstance(spec, RunSetSpec):
            v.fail(call, "spec", f"must be a RunSetSpec, got {spec!r}")
        self._mapping("run_sets")[key] = spec.to_dict()
        return self

    def run_set(
        self,
        name: str,
        *,
        extends: Sequence[str] = (),
        append: Mapping[str, Any] | None = None,
        replace: Mapping[str, Any] | None = None,
        patch_packs: Mapping[str, Pack | PackSelector | Mapping[str, Any]]
        | None = None,
    ) -> Experiment:
        """Build a :class:`RunSetSpec` from the arguments and add it as ``name``."""
        spec = RunSetSpec(
            extends=extends,
            append=append or {},
            replace=replace or {},
            patch_packs=patch_packs or {},
        )
        return self.add_run_set(name, spec)

    def variant(
        self,
        name: str,
        *,
        extends: Sequence[str] = (),
        append_packs: Sequence[Pack | PackSelector | Mapping[str, Any]] | None = None,
        replace_packs: Sequence[Pack | PackSelector | Mapping[str, Any]] | None = None,
        patch_packs: Mapping[str, Pack | PackSelector | Mapping[str, Any]]
        | None = None,
        append_groups: Sequence[str] | None = None,
        replace_groups: Sequence[str] | None = None,
        append: Mapping[str, Any] | None = None,
        replace: Mapping[str, Any] | None = None,
    ) -> Experiment:
        """A run set written in terms of selection changes.

        ``append_groups`` / ``append_packs`` extend ``append.select.groups/packs``;
        ``replace_groups`` / ``replace_packs`` set ``replace.select.groups/packs``.
        An explicit empty list is kept (``replace_groups=[]`` drops every group),
        ``None`` leaves the key out.
        """
        call = "Experiment.variant"
        appended = _with_select(
            call, "append", append, append_groups, append_packs, True
        )
        replaced = _with_select(
            call, "replace", replace, replace_groups, replace_packs, False
        )
        return self.run_set(
            name,
            extends=extends,
            append=appended,
            replace=replaced,
            patch_packs=patch_packs,
        )

    def to_dict(self, strict: bool = True) -> dict[str, Any]:
        """A deep copy of the document; with ``strict`` it is validated first."""
        document = self.document
        if strict:
            emit.validate(document, source="Experiment.to_dict(strict=True)")
        return document

    def to_yaml(self, strict: bool = True, sort_keys: bool = False) -> str:
        """Block-style YAML (2-space indent, non-ASCII escaped) of the document."""
        return emit.dump_yaml(self.to_dict(strict=strict), sort_keys=sort_keys)

    def to_yaml_file(
        self,
        path: str | PathLike[str],
        strict: bool = True,
        sort_keys: bool = False,
        validate_with_geryon: bool = False,
        validate_run_set: str | None = None,
        max_configs: int | None = None,
        config_budget_run_set: str | None = None,
    ) -> Path:
        """Write the YAML to ``path`` (parents created) and return the path.

        ``validate_with_geryon`` runs the checks of ``geryon validate-config``:
        composition, then the planner's normalisation (for ``validate_run_set`` if
        given), so a definitions-only library file, which has no command and no
        packs, does not pass them. ``max_configs`` dry-run plans the file
        (for ``config_budget_run_set``) and refuses more configs than that. Both
        checks run on a temporary file next to ``path``, so relative imports
        resolve exactly as they will for the final file (Q40); the final file is
        only written when they pass.
        """
        target = Path(path)
        checks = emit.InPlaceChecks(
            validate=validate_with_geryon,
            validate_run_set=validate_run_set,
            max_configs=max_configs,
            budget_run_set=config_budget_run_set,
        )
        emit.write_checked(
            target, self.to_yaml(strict=strict, sort_keys=sort_keys), checks
        )
        return target

    def planned_config_count(
        self, run_set: str | None = None, *, base_dir: str | PathLike[str] | None = None
    ) -> int:
        """How many configs a plan of this document would have (a dry-run plan).

        Relative imports resolve against ``base_dir`` (default: the current
        directory), where a temporary copy of the document is planned.
        """
        directory = Path.cwd() if base_dir is None else Path(base_dir)
        return emit.count_configs(self.to_yaml(strict=False), directory, run_set)

    def _set_or_drop(self, key: str, value: dict[str, Any]) -> Experiment:
        if value:
            self._doc[key] = value
        else:
            self._doc.pop(key, None)
        return self

    def _list(self, key: str) -> list[Any]:
        if not isinstance(self._doc.get(key), list):
            self._doc[key] = []
        result: list[Any] = self._doc[key]
        return result

    def _mapping(self, key: str) -> dict[str, Any]:
        if not isinstance(self._doc.get(key), dict):
            self._doc[key] = {}
        result: dict[str, Any] = self._doc[key]
        return result

    def _select(self) -> dict[str, Any]:
        select = self._mapping("select")
        for key in ("groups", "packs"):
            if not isinstance(select.get(key), list):
                select[key] = []
        return select

    def _constraints(self) -> dict[str, Any]:
        constraints = self._mapping("constraints")
        for key in ("include", "exclude", "predicates"):
            if not isinstance(constraints.get(key), list):
                constraints[key] = []
        return constraints

    def _definitions(self, kind: str) -> dict[str, Any]:
        for name in DEFINITION_KINDS:
            self._mapping(name)
        return self._mapping(kind)


def _with_select(
    call: str,
    argument: str,
    base: Mapping[str, Any] | None,
    groups: Sequence[str] | None,
    packs: Sequence[Any] | None,
    extend: bool,
) -> dict[str, Any]:
    """``base`` with ``select.groups`` / ``select.packs`` extended or set."""
    result = dict(v.plain(call, argument, v.mapping(call, argument, base or {})))
    if groups is None and packs is None:
        return result
    select = result.setdefault("select", {})
    if not isinstance(select, dict):
        v.fail(call, argument, f"has a non-mapping 'select': {select!r}")
    for key, items in (("groups", groups), ("packs", packs)):
        if items is None:
            continue
        name = f"{argument}_{key}"
        converted = v.plain(call, name, v.sequence(call, name, items))
        if key == "groups":
            converted = [
                v.text(call, f"{name}[{i}]", g) for i, g in enumerate(converted)
            ]
        existing = select.get(key) if extend else None
        select[key] = (existing if isinstance(existing, list) else []) + converted
    return result
