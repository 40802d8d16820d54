"""Predicates: parsing, compilation to closures, and evaluation with statistics.

Spec K9–K17, with these deliberate differences from upstream (spec §12):

* Q13: a string starting with ``$$`` is the literal text with one ``$`` removed
  (``"$$HOME"`` means the string ``"$HOME"``); any other ``$name`` is a reference.
* Q14: ``and`` / ``or`` evaluate their children left to right and stop as soon as
  the result is decided, so an error in a later child is not raised then.
* Q15: error reports and samples keep the arguments resolved before the failure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from geryon.errors import ConfigError
from geryon.plan.model import ArgSpec, Compiled, Option, Predicate
from geryon.plan.values import type_name

ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LOGICAL = ("and", "or", "not")
COMPARISONS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "not_in", "between")
SAMPLE_LIMIT = 64


class EvaluationError(Exception):
    """A predicate could not be evaluated for one combination."""


_MISSING = object()


def parse_predicates(
    raw: Any, *, file: str, pack_names: set[str]
) -> tuple[Predicate, ...]:
    """K9–K13: validate every predicate and compile its expression."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ConfigError(
            f"expected a list of predicates, got {type_name(raw)}",
            file=file,
            key_path="constraints.predicates",
        )
    parsed: list[Predicate] = []
    for index, item in enumerate(raw):
        predicate = _Parser(file, index).predicate(item)
        if any(p.id == predicate.id for p in parsed):
            raise ConfigError(
                f"duplicate predicate id {predicate.id!r}",
                file=file,
                key_path=f"constraints.predicates[{index}].id",
                hint="Give every predicate its own id",
            )
        parsed.append(predicate)
    return tuple(parsed)


class _Parser:
    def __init__(self, file: str, index: int) -> None:
        self.file = file
        self.index = index
        self.base = f"constraints.predicates[{index}]"
        self.arg_names: set[str] = set()

    def fail(self, path: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, file=self.file, key_path=path, hint=hint)

    def predicate(self, raw: Any) -> Predicate:
        if not isinstance(raw, dict):
            raise self.fail(
                self.base, f"a predicate must be a mapping, got {type_name(raw)}"
            )
        unknown = sorted(
            str(k) for k in raw if k not in ("id", "args", "expr", "on_error")
        )
        if unknown:
            raise self.fail(
                self.base,
                f"unknown keys {', '.join(unknown)}",
                "Allowed keys: id, args, expr, on_error",
            )
        pred_id = raw.get("id")
        if not isinstance(pred_id, str) or not pred_id.strip():
            raise self.fail(
                f"{self.base}.id", "a predicate needs a non-empty string id"
            )
        args = self.args(raw.get("args"))
        if "expr" not in raw:
            raise self.fail(f"{self.base}.expr", "'expr' is required")
        compiled = self.expr(raw["expr"], f"{self.base}.expr")
        return Predicate(
            id=pred_id.strip(),
            index=self.index,
            args=args,
            expr=raw["expr"],
            compiled=compiled,
            on_error=self.on_error(raw.get("on_error", "error")),
        )

    def args(self, raw: Any) -> tuple[ArgSpec, ...]:
        where = f"{self.base}.args"
        if not isinstance(raw, dict) or not raw:
            raise self.fail(
                where,
                "'args' must be a non-empty mapping",
                "Declare args such as bs: {param: train.batch_size}",
            )
        specs = []
        for key, spec in raw.items():
            name = str(key).strip()
            if not ARG_NAME.match(name):
                raise self.fail(
                    f"{where}.{key}",
                    f"invalid arg name {str(key)!r}",
                    "Use letters, digits and _ (not starting with a digit)",
                )
            if name in self.arg_names:
                raise self.fail(f"{where}.{key}", f"duplicate arg name {name!r}")
            self.arg_names.add(name)
            specs.append(self.arg(name, spec, f"{where}.{key}"))
        return tuple(specs)

    def arg(self, name: str, raw: Any, where: str) -> ArgSpec:
        if not isinstance(raw, dict):
            raise self.fail(where, "an arg must be a mapping with pack_id or param")
        unknown = sorted(
            str(k) for k in raw if k not in ("pack_id", "param", "default")
        )
        if unknown:
            raise self.fail(
                where,
                f"unknown keys {', '.join(unknown)}",
                "Allowed: pack_id, param, default",
            )
        if ("pack_id" in raw) == ("param" in raw):
            raise self.fail(where, "an arg needs exactly one of 'pack_id' and 'param'")
        source_key = "pack_id" if "pack_id" in raw else "param"
        source = raw[source_key]
        if not isinstance(source, str) or not source.strip():
            raise self.fail(f"{where}.{source_key}", "must be a non-empty string")
        source = source.strip()
        param = None
        if source_key == "param":
            param = tuple(source.split("."))
            if any(not part for part in param):
                raise self.fail(
                    f"{where}.param",
                    f"invalid param path {source!r}",
                    "Use a dotted path without empty parts, e.g. train.batch_size",
                )
        return ArgSpec(
            name=name,
            pack=source if source_key == "pack_id" else None,
            param=param,
            has_default="default" in raw,
            default=raw.get("default"),
        )

    def on_error(self, raw: Any) -> str:
        if raw is False:
            return "false"
        if raw is True:
            return "error"
        text = raw.strip() if isinstance(raw, str) else raw
        if text not in ("error", "false"):
            raise self.fail(
                f"{self.base}.on_error",
                f"on_error must be 'error' or 'false', got {raw!r}",
            )
        return str(text)

    def expr(self, raw: Any, where: str) -> Compiled:
        """K12: an operator node, or a leaf that must evaluate to a boolean."""
        if isinstance(raw, dict):
            return self.node(raw, where)
        value = self.operand(raw, where)

        def leaf(args: Mapping[str, Any]) -> Any:
            result = value(args)
            if not isinstance(result, bool):
                raise EvaluationError(
                    f"expression at {where} evaluated to {result!r}, not a boolean"
                )
            return result

        return leaf

    def node(self, raw: dict[Any, Any], where: str) -> Compiled:
        if len(raw) != 1:
            raise self.fail(
                where,
                f"an operator node needs exactly one key, got {len(raw)}",
                f"Use one of {', '.join(LOGICAL + COMPARISONS)}",
            )
        op, body = next(iter(raw.items()))
        path = f"{where}.{op}"
        if op in ("and", "or"):
            if not isinstance(body, list) or not body:
                raise self.fail(path, f"'{op}' needs a non-empty list of expressions")
            children = [
                self.expr(child, f"{path}[{i}]") for i, child in enumerate(body)
            ]
            return _all_of(children) if op == "and" else _any_of(children)
        if op == "not":
            child = self.expr(body, path)
            return lambda args: not child(args)
        if op in COMPARISONS:
            return self.comparison(str(op), body, path)
        raise self.fail(
            where,
            f"unknown operator {op!r}",
            f"Use one of {', '.join(LOGICAL + COMPARISONS)}",
        )

    def comparison(self, op: str, body: Any, path: str) -> Compiled:
        count = 3 if op == "between" else 2
        if not isinstance(body, list) or len(body) != count:
            raise self.fail(path, f"'{op}' needs a list of exactly {count} operands")
        operands = [self.operand(item, f"{path}[{i}]") for i, item in enumerate(body)]
        return _COMPARE[op](operands, path)

    def operand(self, raw: Any, where: str) -> Callable[[Mapping[str, Any]], Any]:
        if isinstance(raw, dict):
            raise self.fail(where, "an operand cannot be a mapping")
        if isinstance(raw, list):
            items = [self.operand(item, f"{where}[{i}]") for i, item in enumerate(raw)]
            return lambda args: [item(args) for item in items]
        if isinstance(raw, str) and raw.startswith("$"):
            if raw.startswith("$$"):
                literal = raw[1:]
                return lambda args: literal
            return self.reference(raw[1:], where)
        return lambda args: raw

    def reference(self, name: str, where: str) -> Callable[[Mapping[str, Any]], Any]:
        if not ARG_NAME.match(name):
            raise self.fail(
                where,
                f"invalid reference '${name}'",
                "Write $name for an arg, or $$text for a literal starting with $",
            )
        if name not in self.arg_names:
            raise self.fail(
                where,
                f"unknown arg '${name}'",
                f"Declared args: {', '.join(sorted(self.arg_names))}",
            )
        return lambda args: args[name]


def _all_of(children: list[Compiled]) -> Compiled:
    return lambda args: all(child(args) for child in children)


def _any_of(children: list[Compiled]) -> Compiled:
    return lambda args: any(child(args) for child in children)


def _ordered(test: Callable[[Any, Any], bool], symbol: str) -> Callable[..., Compiled]:
    def build(
        operands: list[Callable[[Mapping[str, Any]], Any]], path: str
    ) -> Compiled:
        left, right = operands

        def compare(args: Mapping[str, Any]) -> bool:
            a, b = left(args), right(args)
            try:
                return test(a, b)
            except TypeError as err:
                raise EvaluationError(
                    f"cannot compare {a!r} {symbol} {b!r} at {path}"
                ) from err

        return compare

    return build


def _membership(negate: bool) -> Callable[..., Compiled]:
    def build(
        operands: list[Callable[[Mapping[str, Any]], Any]], path: str
    ) -> Compiled:
        item_of, container_of = operands

        def member(args: Mapping[str, Any]) -> bool:
            item, container = item_of(args), container_of(args)
            if not isinstance(container, (list, str, dict)):
                raise EvaluationError(
                    f"second operand of membership at {path} must be a list or "
                    f"string, got {container!r}"
                )
            try:
                found = item in container
            except TypeError as err:
                raise EvaluationError(f"cannot test {item!r} in {container!r}") from err
            return found != negate

        return member

    return build


def _between(operands: list[Callable[[Mapping[str, Any]], Any]], path: str) -> Compiled:
    value_of, low_of, high_of = operands

    def between(args: Mapping[str, Any]) -> bool:
        value, low, high = value_of(args), low_of(args), high_of(args)
        try:
            return bool(low <= value <= high)
        except TypeError as err:
            raise EvaluationError(
                f"cannot compare {value!r} with bounds {low!r}, {high!r} at {path}"
            ) from err

    return between


_COMPARE: dict[str, Callable[..., Compiled]] = {
    "eq": _ordered(lambda a, b: a == b, "=="),
    "ne": _ordered(lambda a, b: a != b, "!="),
    "lt": _ordered(lambda a, b: a < b, "<"),
    "lte": _ordered(lambda a, b: a <= b, "<="),
    "gt": _ordered(lambda a, b: a > b, ">"),
    "gte": _ordered(lambda a, b: a >= b, ">="),
    "in": _membership(negate=False),
    "not_in": _membership(negate=True),
    "between": _between,
}


def lookup(params: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path`` in merged params, or ``_MISSING`` (K11)."""
    value: Any = params
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def selected_ids(combo: tuple[Option, ...]) -> dict[str, str]:
    return {option.pack: option.id for option in combo}


class PredicateStats:
    """Runs predicates for each merged combination and keeps K17 diagnostics."""

    def __init__(self, predicates: tuple[Predicate, ...], file: str) -> None:
        self.predicates = predicates
        self.file = file
        self.totals = dict.fromkeys(
            ("evaluated", "passed", "failed", "errors", "dropped_candidates"), 0
        )
        self.per_predicate = {
            p.id: dict.fromkeys(("evaluated", "passed", "failed", "errors"), 0)
            for p in predicates
        }
        self.drop_samples: list[dict[str, Any]] = []
        self.error_samples: list[dict[str, Any]] = []

    def passes(self, combo: tuple[Option, ...], merged: Mapping[str, Any]) -> bool:
        """K16: True when every predicate holds; stops at the first that fails."""
        for predicate in self.predicates:
            if not self._one(predicate, combo, merged):
                self.totals["dropped_candidates"] += 1
                return False
        return True

    def _one(
        self, predicate: Predicate, combo: tuple[Option, ...], merged: Mapping[str, Any]
    ) -> bool:
        counts = self.per_predicate[predicate.id]
        counts["evaluated"] += 1
        self.totals["evaluated"] += 1
        resolved: dict[str, Any] = {}
        try:
            _resolve(predicate, combo, merged, resolved)
            result = bool(predicate.compiled(resolved))
        except EvaluationError as err:
            self._error(predicate, combo, resolved, str(err))
            return False
        outcome = "passed" if result else "failed"
        counts[outcome] += 1
        self.totals[outcome] += 1
        if not result:
            self._drop_sample(predicate, combo, resolved)
        return result

    def _error(
        self,
        predicate: Predicate,
        combo: tuple[Option, ...],
        resolved: dict[str, Any],
        message: str,
    ) -> None:
        if predicate.on_error == "error":
            raise ConfigError(
                f"Predicate evaluation failed: predicate {predicate.id!r} for selected "
                f"options {selected_ids(combo)}: {message} (resolved args {resolved}; "
                f"expr {predicate.expr!r})",
                file=self.file,
                key_path=predicate.key_path,
                hint="Give the arg a default, fix the expression, "
                "or set on_error: false to drop such combinations",
            )
        counts = self.per_predicate[predicate.id]
        counts["errors"] += 1
        counts["failed"] += 1
        self.totals["errors"] += 1
        self.totals["failed"] += 1
        _sample(
            self.error_samples,
            lambda: {
                "predicate_id": predicate.id,
                "selected_options": selected_ids(combo),
                "resolved_args": dict(resolved),
                "error": message,
                "on_error": predicate.on_error,
                "expr": predicate.expr,
            },
        )
        self._drop_sample(predicate, combo, resolved)

    def _drop_sample(
        self, predicate: Predicate, combo: tuple[Option, ...], resolved: dict[str, Any]
    ) -> None:
        _sample(
            self.drop_samples,
            lambda: {
                "reason": f"predicate:{predicate.id}",
                "predicate_id": predicate.id,
                "selected_options": selected_ids(combo),
                "resolved_args": dict(resolved),
                "expr": predicate.expr,
            },
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self.totals,
            "num_predicates": len(self.predicates),
            "per_predicate": self.per_predicate,
            "drop_samples": self.drop_samples,
            "error_samples": self.error_samples,
        }


def _resolve(
    predicate: Predicate,
    combo: tuple[Option, ...],
    merged: Mapping[str, Any],
    resolved: dict[str, Any],
) -> None:
    """K14 step 1; fills ``resolved`` in place so a failure keeps what was found."""
    for arg in predicate.args:
        if arg.pack is not None:
            value: Any = next((o.id for o in combo if o.pack == arg.pack), _MISSING)
        else:
            value = lookup(merged, arg.param or ())
        if value is _MISSING:
            if not arg.has_default:
                source = arg.pack or ".".join(arg.param or ())
                raise EvaluationError(f"arg {arg.name!r}: {source} is missing")
            value = arg.default
        resolved[arg.name] = value


def _sample(samples: list[dict[str, Any]], build: Callable[[], dict[str, Any]]) -> None:
    """Keep ``SAMPLE_LIMIT`` samples, then one truncation marker (K17)."""
    if len(samples) < SAMPLE_LIMIT:
        samples.append(build())
    elif len(samples) == SAMPLE_LIMIT:
        samples.append({"truncated": True})
