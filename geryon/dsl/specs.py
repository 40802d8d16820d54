"""Value objects for options, packs, selectors, defaults, merge and run sets (Y1–Y4, Y8–Y10).

Every spec is a frozen, keyword-only dataclass that checks and normalises its
arguments when it is built (ids trimmed, id lists de-duplicated, parameters
deep-copied) and renders the schema-v4 mapping with :meth:`to_dict`. Optional
fields that are empty are left out of the mapping, so the YAML stays the way a
person would write it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from geryon.dsl import _values as v

MERGE_MODES = ("merge", "none")
MERGE_STRATEGIES = ("error", "replace", "deep_merge", "append_unique", "set_union")
RUN_SET_ROOTS = ("select", "defaults", "constraints", "merge")


def _set(obj: object, name: str, value: Any) -> None:
    # Frozen dataclasses store their normalised arguments through object.__setattr__.
    object.__setattr__(obj, name, value)


@dataclass(frozen=True, kw_only=True)
class OptionSource:
    """Options copied from a named option set (spec Y1, C28)."""

    ref: str
    include_ids: Sequence[str] = ()
    exclude_ids: Sequence[str] = ()

    def __post_init__(self) -> None:
        call = "OptionSource"
        _set(self, "ref", v.text(call, "ref", self.ref))
        _set(
            self, "include_ids", tuple(v.id_list(call, "include_ids", self.include_ids))
        )
        _set(
            self, "exclude_ids", tuple(v.id_list(call, "exclude_ids", self.exclude_ids))
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"ref": self.ref}
        if self.include_ids:
            result["include_ids"] = list(self.include_ids)
        if self.exclude_ids:
            result["exclude_ids"] = list(self.exclude_ids)
        return result


@dataclass(frozen=True, init=False)
class Option:
    """One choice of a pack (spec Y2): an id, its parameters and an optional tag.

    ``option_id=`` is accepted as a keyword alias of ``id=`` (useful where ``id``
    shadows the builtin); giving both, or neither, is an error.
    """

    id: str
    params: dict[str, Any]
    tag: str | None

    def __init__(
        self,
        *,
        id: str | None = None,
        params: Mapping[str, Any],
        tag: str | None = None,
        option_id: str | None = None,
    ) -> None:
        call = "Option"
        if (id is None) == (option_id is None):
            v.fail(call, "id", "must be given exactly once (as id= or option_id=)")
        argument = "id" if id is not None else "option_id"
        _set(self, "id", v.text(call, argument, id if id is not None else option_id))
        _set(self, "params", v.params(call, "params", params))
        _set(self, "tag", v.optional_text(call, "tag", tag))

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"id": self.id, "params": copy.deepcopy(self.params)}
        if self.tag is not None:
            result["tag"] = self.tag
        return result


def _options(call: str, value: object) -> tuple[Option, ...]:
    items = v.sequence(call, "options", value)
    for index, item in enumerate(items):
        if not isinstance(item, Option):
            v.fail(call, f"options[{index}]", f"must be an Option, got {item!r}")
    return tuple(items)


def _sources(call: str, value: object) -> tuple[OptionSource, ...]:
    items = v.sequence(call, "options_from", value)
    for index, item in enumerate(items):
        if not isinstance(item, OptionSource):
            v.fail(
                call, f"options_from[{index}]", f"must be an OptionSource, got {item!r}"
            )
    return tuple(items)


def _options_fields(
    result: dict[str, Any], sources: Sequence[OptionSource], options: Sequence[Option]
) -> None:
    if sources:
        result["options_from"] = [source.to_dict() for source in sources]
    if options:
        result["options"] = [option.to_dict() for option in options]


@dataclass(frozen=True, kw_only=True)
class Pack:
    """A named list of options, inline or from option sets (spec Y3, C25)."""

    name: str
    options: Sequence[Option] = ()
    options_from: Sequence[OptionSource] = ()
    priority: int = 0

    def __post_init__(self) -> None:
        call = "Pack"
        _set(self, "name", v.text(call, "name", self.name))
        _set(self, "options", _options(call, self.options))
        _set(self, "options_from", _sources(call, self.options_from))
        _set(self, "priority", v.integer(call, "priority", self.priority))
        if not self.options and not self.options_from:
            v.fail(
                call, "options", "and 'options_from' are both empty; give at least one"
            )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"name": self.name}
        _options_fields(result, self.options_from, self.options)
        if self.priority != 0:
            result["priority"] = self.priority
        return result


@dataclass(frozen=True, kw_only=True)
class PackSelector:
    """A reference to a pack definition, optionally renamed, extended or filtered (Y4)."""

    ref: str
    name: str | None = None
    priority: int | None = None
    replace_options: bool | None = None
    options_from: Sequence[OptionSource] = ()
    options: Sequence[Option] = ()
    include_ids: Sequence[str] = ()
    exclude_ids: Sequence[str] = ()

    def __post_init__(self) -> None:
        call = "PackSelector"
        _set(self, "ref", v.text(call, "ref", self.ref))
        _set(self, "name", v.optional_text(call, "name", self.name))
        if self.priority is not None:
            v.integer(call, "priority", self.priority)
        if self.replace_options is not None and not isinstance(
            self.replace_options, bool
        ):
            v.fail(
                call,
                "replace_options",
                f"must be a boolean, got {self.replace_options!r}",
            )
        _set(self, "options_from", _sources(call, self.options_from))
        _set(self, "options", _options(call, self.options))
        _set(
            self, "include_ids", tuple(v.id_list(call, "include_ids", self.include_ids))
        )
        _set(
            self, "exclude_ids", tuple(v.id_list(call, "exclude_ids", self.exclude_ids))
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {"ref": self.ref}
        if self.name is not None:
            result["name"] = self.name
        if self.priority is not None:
            result["priority"] = self.priority
        if self.replace_options is not None:
            result["replace_options"] = self.replace_options
        _options_fields(result, self.options_from, self.options)
        id_filter: dict[str, Any] = {}
        if self.include_ids:
            id_filter["include_ids"] = list(self.include_ids)
        if self.exclude_ids:
            id_filter["exclude_ids"] = list(self.exclude_ids)
        if id_filter:
            result["filter"] = id_filter
        return result


@dataclass(frozen=True, kw_only=True)
class DefaultsSpec:
    """Parameters and tags every config starts from (spec Y8, S9)."""

    params: Mapping[str, Any] = field(default_factory=dict)
    tags: Sequence[str] = ()

    def __post_init__(self) -> None:
        _set(self, "params", v.params("DefaultsSpec", "params", self.params))
        _set(self, "tags", tuple(v.id_list("DefaultsSpec", "tags", self.tags)))

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.params:
            result["params"] = copy.deepcopy(self.params)
        if self.tags:
            result["tags"] = list(self.tags)
        return result


@dataclass(frozen=True, kw_only=True)
class MergeSpec:
    """How option parameters are merged (spec Y9, M1–M2); only given fields are written."""

    mode: str | None = None
    strategies: Mapping[str, str] = field(default_factory=dict)
    delete_sentinel: str | None = None

    def __post_init__(self) -> None:
        call = "MergeSpec"
        mode = v.optional_text(call, "mode", self.mode)
        if mode is not None and mode not in MERGE_MODES:
            v.fail(
                call, "mode", f"must be one of {', '.join(MERGE_MODES)}; got {mode!r}"
            )
        _set(self, "mode", mode)
        _set(self, "strategies", _strategies(call, self.strategies))
        _set(
            self,
            "delete_sentinel",
            v.optional_text(call, "delete_sentinel", self.delete_sentinel),
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.mode is not None:
            result["mode"] = self.mode
        if self.strategies:
            result["strategies"] = dict(self.strategies)
        if self.delete_sentinel is not None:
            result["delete_sentinel"] = self.delete_sentinel
        return result


def _strategies(call: str, value: object) -> dict[str, str]:
    result: dict[str, str] = {}
    for path, strategy in v.mapping(call, "strategies", value).items():
        key = v.text(call, "strategies", path)
        name = v.text(call, f"strategies[{key!r}]", strategy)
        if name not in MERGE_STRATEGIES:
            choices = ", ".join(MERGE_STRATEGIES)
            v.fail(
                call, f"strategies[{key!r}]", f"must be one of {choices}; got {name!r}"
            )
        result[key] = name
    return result


@dataclass(frozen=True, kw_only=True)
class RunSetSpec:
    """A named overlay of the root document (spec Y10, R2–R10).

    ``append`` and ``replace`` may hold spec objects anywhere inside (a ``Pack`` in
    ``select.packs``); they are rendered to mappings. ``patch_packs`` values may be
    a ``Pack``, a ``PackSelector`` or a mapping.
    """

    extends: Sequence[str] = ()
    append: Mapping[str, Any] = field(default_factory=dict)
    replace: Mapping[str, Any] = field(default_factory=dict)
    patch_packs: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        call = "RunSetSpec"
        extends = v.sequence(call, "extends", self.extends)
        _set(
            self,
            "extends",
            tuple(v.text(call, f"extends[{i}]", e) for i, e in enumerate(extends)),
        )
        _set(self, "append", _overlay(call, "append", self.append))
        _set(self, "replace", _overlay(call, "replace", self.replace))
        _set(self, "patch_packs", _patches(call, self.patch_packs))

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {}
        if self.extends:
            result["extends"] = list(self.extends)
        for name in ("append", "replace", "patch_packs"):
            value = getattr(self, name)
            if value:
                result[name] = copy.deepcopy(value)
        return result


def _overlay(call: str, argument: str, value: object) -> dict[str, Any]:
    overlay = v.plain(call, argument, v.mapping(call, argument, value))
    for root in overlay:
        if root not in RUN_SET_ROOTS:
            allowed = ", ".join(RUN_SET_ROOTS)
            v.fail(
                call, argument, f"has the root {root!r}; allowed roots are {allowed}"
            )
    return dict(overlay)


def _patches(call: str, value: object) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, patch in v.mapping(call, "patch_packs", value).items():
        name = v.text(call, "patch_packs", key)
        argument = f"patch_packs[{name!r}]"
        if not isinstance(patch, Pack | PackSelector | Mapping):
            v.fail(
                call,
                argument,
                f"must be a Pack, PackSelector or mapping, got {patch!r}",
            )
        result[name] = v.plain(call, argument, patch)
    return result
