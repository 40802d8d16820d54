"""Predicates written for you: allow-lists of id pairs and requirements (Y18, Y19)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from geryon.dsl import _values as v
from geryon.dsl.predicates import Predicate, PredicateArg

# Operators of spec K12 a `require` constraint may use.
COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "between")

_ARG_RUN = re.compile(r"[^A-Za-z0-9]+")


def match_ids(
    *,
    left_pack: str,
    right_pack: str,
    pairs: Sequence[tuple[str, str]],
    predicate_id: str | None = None,
    left_arg: str = "left",
    right_arg: str = "right",
    on_error: str | bool = "error",
) -> Predicate:
    """Keep only the listed ``(left id, right id)`` pairings (spec Y18).

    Every combination whose ids in ``left_pack`` and ``right_pack`` are not one of
    ``pairs`` is dropped. The default predicate id is
    ``match_<left_pack>_<right_pack>`` (sanitised).
    """
    call = "match_ids"
    left = v.text(call, "left_pack", left_pack)
    right = v.text(call, "right_pack", right_pack)
    names = [
        _arg_name(call, "left_arg", left_arg),
        _arg_name(call, "right_arg", right_arg),
    ]
    if names[0] == names[1]:
        v.fail(call, "right_arg", f"must differ from left_arg (both are {names[0]!r})")
    listed = _pairs(call, pairs)
    branches = [
        {"and": [_eq(call, names[0], lid), _eq(call, names[1], rid)]}
        for lid, rid in listed
    ]
    return Predicate(
        id=predicate_id or f"match_{v.token(left)}_{v.token(right)}",
        args={
            names[0]: PredicateArg.pack_id(left),
            names[1]: PredicateArg.pack_id(right),
        },
        expr={"or": branches},
        on_error=on_error,
    )


def require(
    *,
    rules: Sequence[tuple[Mapping[str, str], Mapping[str, Any]]],
    predicate_id: str = "require",
    on_error: str | bool = "error",
) -> Predicate:
    """An allow-list of ``(when, then)`` rules (spec Y19).

    ``when`` maps pack name → option id; ``then`` maps a dotted param path → a
    constraint: a bare value (equality), ``("between", low, high)``,
    ``("in", values)``, ``("not_in", values)`` or ``(operator, value)`` with an
    operator of ``eq ne lt lte gt gte``. Only tuples are read as constraints; a list
    is a value compared for equality.

    A combination survives only if it satisfies *some* rule completely, so a
    combination that matches no rule's ``when`` is dropped: this is not an
    implication. Every arg is resolved before the expression is evaluated, so a
    ``then`` path missing from a combination's parameters is an evaluation error
    even where that rule's ``when`` does not match; set the path in
    ``defaults.params`` or pass ``on_error="false"`` to drop such combinations.
    """
    call = "require"
    listed = v.sequence(call, "rules", rules)
    if not listed:
        v.fail(call, "rules", "must hold at least one (when, then) pair")
    names = _ArgNames()
    branches = [
        _rule_branch(call, index, rule, names) for index, rule in enumerate(listed)
    ]
    return Predicate(
        id=predicate_id, args=names.args, expr={"or": branches}, on_error=on_error
    )


class _ArgNames:
    """One predicate arg per distinct pack / param path, named ``pack_<X>`` / ``param_<X>``."""

    def __init__(self) -> None:
        self.args: dict[str, PredicateArg] = {}
        self._by_source: dict[tuple[str, str], str] = {}

    def name_for(self, kind: str, key: str) -> str:
        known = self._by_source.get((kind, key))
        if known is not None:
            return known
        stem = f"{'pack' if kind == 'pack_id' else 'param'}_{_ARG_RUN.sub('_', key).strip('_')}"
        name, counter = stem, 1
        while name in self.args:
            counter += 1
            name = f"{stem}_{counter}"
        self._by_source[(kind, key)] = name
        self.args[name] = PredicateArg(source_kind=kind, source_key=key)
        return name


def _rule_branch(
    call: str, index: int, rule: object, names: _ArgNames
) -> dict[str, Any]:
    argument = f"rules[{index}]"
    if not isinstance(rule, list | tuple) or len(rule) != 2:
        v.fail(call, argument, f"must be a (when, then) pair, got {rule!r}")
    when, then = rule
    terms = [
        _eq(call, names.name_for("pack_id", pack), option_id)
        for pack, option_id in _when(call, f"{argument}.when", when).items()
    ]
    for path, constraint in _then(call, f"{argument}.then", then).items():
        name = names.name_for("param", path)
        terms.append(_constraint(call, f"{argument}.then[{path!r}]", name, constraint))
    return {"and": terms}


def _when(call: str, argument: str, value: object) -> dict[str, str]:
    entries = v.mapping(call, argument, value)
    if not entries:
        v.fail(call, argument, "must name at least one pack")
    return {
        v.text(call, argument, pack): v.text(call, f"{argument}[{pack!r}]", option_id)
        for pack, option_id in entries.items()
    }


def _then(call: str, argument: str, value: object) -> dict[str, Any]:
    entries = v.mapping(call, argument, value)
    if not entries:
        v.fail(call, argument, "must constrain at least one param path")
    result: dict[str, Any] = {}
    for key, constraint in entries.items():
        path = v.text(call, argument, key)
        if "" in path.split("."):
            v.fail(call, argument, f"has a param path with an empty segment: {path!r}")
        result[path] = constraint
    return result


def _constraint(
    call: str, argument: str, name: str, constraint: object
) -> dict[str, Any]:
    ref = f"${name}"
    if not isinstance(constraint, tuple):
        return {"eq": [ref, literal(call, argument, constraint)]}
    operator = constraint[0] if constraint else None
    if operator not in COMPARISONS:
        choices = ", ".join(COMPARISONS)
        v.fail(
            call,
            argument,
            f"starts with {operator!r}; the operator must be one of {choices}",
        )
    operands = [literal(call, argument, item) for item in constraint[1:]]
    expected = 2 if operator == "between" else 1
    if len(operands) != expected:
        shape = "(op, low, high)" if operator == "between" else "(op, value)"
        v.fail(
            call,
            argument,
            f"must be the tuple {shape} for {operator!r}; got {constraint!r}",
        )
    if operator in ("in", "not_in") and not isinstance(operands[0], list):
        v.fail(call, argument, f"needs a list or tuple of values for {operator!r}")
    return {operator: [ref, *operands]}


def _eq(call: str, name: str, option_id: str) -> dict[str, Any]:
    return {"eq": [f"${name}", literal(call, "option id", option_id)]}


def _pairs(call: str, pairs: object) -> list[tuple[str, str]]:
    listed: list[tuple[str, str]] = []
    for index, pair in enumerate(v.sequence(call, "pairs", pairs)):
        argument = f"pairs[{index}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            v.fail(call, argument, f"must be a (left id, right id) pair, got {pair!r}")
        item = (v.text(call, argument, pair[0]), v.text(call, argument, pair[1]))
        if item not in listed:
            listed.append(item)
    if not listed:
        v.fail(call, "pairs", "must hold at least one pair")
    return listed


def _arg_name(call: str, argument: str, value: object) -> str:
    name = v.text(call, argument, value)
    if not v.ARG_NAME.match(name):
        v.fail(call, argument, f"is {name!r}; names must match [A-Za-z_][A-Za-z0-9_]*")
    return name


def literal(call: str, argument: str, value: object) -> Any:
    """A constant operand of an expression, as plain data.

    A string starting with ``$`` would be read as an argument reference (spec K12);
    it is escaped by doubling the ``$`` (the planner reads ``$$x`` as the literal
    ``$x``, Q13).
    """
    plain = v.plain(call, argument, value)
    return _escape(plain)


def _escape(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return "$" + value
    if isinstance(value, list):
        return [_escape(item) for item in value]
    return value
