"""Include/exclude rules and predicates (spec Y5–Y7, K1–K13).

A predicate's ``expr`` is kept as plain data: its structure (operators, operand
counts, ``$name`` references to declared args) is checked by the same validator the
YAML path uses, when the document is emitted strictly, so the two can never
disagree about what a valid expression is (Q41).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from geryon.dsl import _values as v

RULE_MODES = ("include", "exclude")
SOURCE_KINDS = ("pack_id", "param")
ON_ERROR = ("error", "false")


def _set(obj: object, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True, kw_only=True)
class ConstraintRule:
    """An include or exclude rule matching option ids per pack (spec Y7, K2–K4).

    Stricter than YAML on purpose: an empty ``when`` (which would silently match
    every combination, Q12) and non-string ids are refused.
    """

    when: Mapping[str, str | Sequence[str]]
    mode: str = "exclude"

    def __post_init__(self) -> None:
        call = "ConstraintRule"
        mode = v.text(call, "mode", self.mode)
        if mode not in RULE_MODES:
            v.fail(call, "mode", f"must be 'include' or 'exclude'; got {mode!r}")
        _set(self, "mode", mode)
        _set(self, "when", when_mapping(call, self.when))

    def to_dict(self) -> dict[str, Any]:
        return {"when": {pack: list(ids) for pack, ids in self.when.items()}}


def when_mapping(call: str, value: object) -> dict[str, tuple[str, ...]]:
    """Pack name → non-empty tuple of option ids; a single id may be a bare string."""
    result: dict[str, tuple[str, ...]] = {}
    for key, ids in v.mapping(call, "when", value).items():
        pack = v.text(call, "when", key)
        argument = f"when[{pack!r}]"
        listed = v.id_list(call, argument, [ids] if isinstance(ids, str) else ids)
        if not listed:
            v.fail(call, argument, "must list at least one non-blank option id")
        result[pack] = tuple(listed)
    if not result:
        v.fail(
            call,
            "when",
            "must name at least one pack (an empty rule matches everything)",
        )
    return result


@dataclass(frozen=True, kw_only=True)
class PredicateArg:
    """Where a predicate argument takes its value from (spec Y5, K11).

    ``default_value`` is written only when ``has_default`` is true, so a ``None``
    default needs ``has_default=True``. The factories switch ``has_default`` on by
    themselves for any default other than ``None``.
    """

    source_kind: str
    source_key: str
    has_default: bool = False
    default_value: Any = None

    def __post_init__(self) -> None:
        call = "PredicateArg"
        kind = v.text(call, "source_kind", self.source_kind)
        if kind not in SOURCE_KINDS:
            v.fail(call, "source_kind", f"must be 'pack_id' or 'param'; got {kind!r}")
        key = v.text(call, "source_key", self.source_key)
        if kind == "param" and "" in key.split("."):
            v.fail(
                call, "source_key", f"is a param path with an empty segment: {key!r}"
            )
        if not isinstance(self.has_default, bool):
            v.fail(call, "has_default", f"must be a boolean, got {self.has_default!r}")
        if not self.has_default and self.default_value is not None:
            v.fail(call, "default_value", "is given but has_default is False")
        _set(self, "source_kind", kind)
        _set(self, "source_key", key)
        _set(self, "default_value", v.plain(call, "default_value", self.default_value))

    @classmethod
    def pack_id(
        cls, pack: str, default: Any = None, has_default: bool = False
    ) -> PredicateArg:
        """The id of the option selected in pack ``pack``."""
        return cls(
            source_kind="pack_id",
            source_key=pack,
            has_default=has_default or default is not None,
            default_value=default,
        )

    @classmethod
    def param(
        cls, path: str, default: Any = None, has_default: bool = False
    ) -> PredicateArg:
        """The merged parameter at dotted ``path`` (``train.lr``)."""
        return cls(
            source_kind="param",
            source_key=path,
            has_default=has_default or default is not None,
            default_value=default,
        )

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {self.source_kind: self.source_key}
        if self.has_default:
            result["default"] = copy.deepcopy(self.default_value)
        return result


@dataclass(frozen=True, init=False)
class Predicate:
    """A boolean expression over args, evaluated per combination (spec Y6, K9–K14).

    ``predicate_id=`` is a keyword alias of ``id=``. ``on_error`` is ``"error"``
    (an evaluation error fails the plan) or ``"false"`` (the combination is
    dropped); the boolean ``False`` is accepted for ``"false"``.
    """

    id: str
    args: dict[str, PredicateArg]
    expr: Any
    on_error: str

    def __init__(
        self,
        *,
        id: str | None = None,
        args: Mapping[str, PredicateArg],
        expr: Any,
        on_error: str | bool = "error",
        predicate_id: str | None = None,
    ) -> None:
        call = "Predicate"
        if (id is None) == (predicate_id is None):
            v.fail(call, "id", "must be given exactly once (as id= or predicate_id=)")
        argument = "id" if id is not None else "predicate_id"
        _set(self, "id", v.text(call, argument, id if id is not None else predicate_id))
        _set(self, "args", _args(call, args))
        if expr is None:
            v.fail(call, "expr", "is required (got None)")
        _set(self, "expr", v.plain(call, "expr", expr))
        _set(self, "on_error", _on_error(call, on_error))

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "id": self.id,
            "args": {name: arg.to_dict() for name, arg in self.args.items()},
            "expr": copy.deepcopy(self.expr),
        }
        if self.on_error == "false":
            result["on_error"] = False
        return result


def _args(call: str, value: object) -> dict[str, PredicateArg]:
    result: dict[str, PredicateArg] = {}
    for key, arg in v.mapping(call, "args", value).items():
        name = v.text(call, "args", key)
        if not v.ARG_NAME.match(name):
            v.fail(
                call,
                "args",
                f"has the name {name!r}; names must match [A-Za-z_][A-Za-z0-9_]*",
            )
        if name in result:
            v.fail(call, "args", f"names {name!r} twice (after trimming)")
        if not isinstance(arg, PredicateArg):
            v.fail(call, f"args[{name!r}]", f"must be a PredicateArg, got {arg!r}")
        result[name] = arg
    if not result:
        v.fail(call, "args", "must name at least one argument")
    return result


def _on_error(call: str, value: object) -> str:
    if value is False:
        return "false"
    mode = v.text(call, "on_error", value)
    if mode not in ON_ERROR:
        v.fail(call, "on_error", f"must be 'error' or 'false'; got {mode!r}")
    return mode
