"""Validate a composed experiment document and build an :class:`Experiment`.

Rules: spec S5, S7–S10, P1–P9, M1–M3, K1–K8 (predicates: :mod:`.predicates`).
Validation order follows P3: merge → command → packs → defaults → constraints →
unknown references. Every error is a :class:`ConfigError` naming the experiment
file and the key path inside the composed document (``packs[2].options[0].id``).

Deliberate differences from upstream (spec §12):

* Q3: pack priorities must be integers; YAML booleans are rejected.
* Q8: ``command.args`` items must be strings. Upstream stringified them with
  Python conventions (``True``, ``None``, ``1e-05``); geryon asks the user to quote
  them so the command says exactly what the file says. Relative paths in
  ``args`` are **not rewritten**: commands run in their execution work
  directory, and ``run.json`` records the experiment directory
  (``experiment_dir``) for the execution stage to start from.
* Q12: an include/exclude rule with an empty ``when`` is rejected.
* Q17: parameter values without a JSON form (YAML dates) are rejected here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from geryon import canonical
from geryon.errors import ConfigError
from geryon.plan.model import (
    DEFAULT_SENTINEL,
    MERGE_MODES,
    STRATEGIES,
    Experiment,
    MergeSpec,
    Option,
    Pack,
    Rule,
)
from geryon.plan.predicates import parse_predicates
from geryon.plan.values import check_params, type_name

# A Hydra config group path, as the app's defaults list names it.
_GROUP_PATH_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:/[A-Za-z_][A-Za-z0-9_-]*)*")

TOP_LEVEL_KEYS = ("schema", "command", "defaults", "constraints", "merge", "packs")


class _Checker:
    """Small helpers that raise errors naming the experiment file."""

    def __init__(self, file: Path) -> None:
        self.file = str(file)

    def fail(self, path: str, message: str, hint: str | None = None) -> ConfigError:
        return ConfigError(message, file=self.file, key_path=path, hint=hint)

    def mapping(
        self, value: Any, path: str, allowed: tuple[str, ...]
    ) -> dict[str, Any]:
        """``value`` as a mapping (null = empty) with only ``allowed`` keys."""
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {type_name(value)}")
        unknown = sorted(str(key) for key in value if key not in allowed)
        if unknown:
            raise self.fail(
                path,
                f"unknown keys {', '.join(unknown)}",
                f"Allowed keys: {', '.join(allowed)}",
            )
        return value

    def list_of(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {type_name(value)}")
        return value

    def text(self, value: Any, path: str, what: str) -> str:
        """A non-empty string, trimmed."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(
                path,
                f"{what} must be a non-empty string, got {_shown(value)}",
                "Quote numbers in YAML, e.g. id: '1'",
            )
        return value.strip()

    def integer(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, f"expected an integer, got {_shown(value)}")
        return value


def _shown(value: Any) -> str:
    return f"{type_name(value)} {value!r}" if value is not None else "null"


def normalise(document: dict[str, Any], experiment_path: Path) -> Experiment:
    """Validate the composed ``document`` (spec C30) of ``experiment_path``."""
    check = _Checker(experiment_path)
    _check_top_level(check, document)
    merge_input = document.get("merge")
    merge = _merge_spec(check, merge_input)
    program, args, groups = _command(check, document.get("command"))
    packs, packs_diag = _packs(check, document.get("packs"), merge.mode)
    default_params, default_tags = _defaults(check, document.get("defaults"))
    _check_group_params(check, groups, default_params, packs)
    includes, excludes, predicates, constraints_diag = _constraints(
        check, document.get("constraints"), packs
    )
    return Experiment(
        path=experiment_path,
        program=program,
        args=args,
        base_command=shlex.join([program, *args]),
        default_params=default_params,
        default_tags=default_tags,
        merge=merge,
        merge_input=merge_input if merge_input is not None else {},
        packs=packs,
        includes=includes,
        excludes=excludes,
        predicates=predicates,
        packs_diagnostics=packs_diag,
        constraints_diagnostics=constraints_diag,
        config_groups=frozenset(groups),
    )


def _check_top_level(check: _Checker, document: Any) -> None:
    if not isinstance(document, dict):
        raise check.fail("", "the composed experiment must be a mapping")
    unknown = sorted(str(key) for key in document if key not in TOP_LEVEL_KEYS)
    if unknown:
        raise check.fail(
            unknown[0],
            f"Composed experiment has unknown top-level keys: {', '.join(unknown)}",
            f"Allowed after composition: {', '.join(TOP_LEVEL_KEYS)}",
        )


def _merge_spec(check: _Checker, raw: Any) -> MergeSpec:
    """M1–M2."""
    block = check.mapping(raw, "merge", ("mode", "strategies", "delete_sentinel"))
    mode = check.text(block.get("mode", "merge"), "merge.mode", "mode")
    if mode not in MERGE_MODES:
        raise check.fail(
            "merge.mode", f"unknown mode {mode!r}", "Use 'merge' or 'none'"
        )
    strategies: dict[str, str] = {}
    raw_strategies = block.get("strategies")
    if raw_strategies is not None and not isinstance(raw_strategies, dict):
        raise check.fail("merge.strategies", "expected a mapping from path to strategy")
    for key, value in (raw_strategies or {}).items():
        path = str(key).strip()
        where = f"merge.strategies.{key}"
        if not path:
            raise check.fail(where, "strategy paths must be non-empty")
        name = check.text(value, where, "a strategy")
        if name not in STRATEGIES:
            raise check.fail(
                where,
                f"unknown strategy {name!r}",
                f"Use one of {', '.join(STRATEGIES)}",
            )
        strategies[path] = name
    sentinel = check.text(
        block.get("delete_sentinel", DEFAULT_SENTINEL),
        "merge.delete_sentinel",
        "delete_sentinel",
    )
    return MergeSpec(mode=mode, strategies=strategies, delete_sentinel=sentinel)


def _command(check: _Checker, raw: Any) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """S7 with the Q8 decision: every arg must already be a string.

    Also returns the dotted params keys of ``config_groups`` (a geryon extension).
    """
    if raw is None:
        raise check.fail(
            "command",
            "'command' is required",
            "Add command: {program: python, args: [train.py]}",
        )
    block = check.mapping(raw, "command", ("program", "args", "config_groups"))
    program = block.get("program")
    check.text(program, "command.program", "program")
    args = check.list_of(block.get("args"), "command.args")
    for index, arg in enumerate(args):
        if not isinstance(arg, str):
            raise check.fail(
                f"command.args[{index}]",
                f"command arguments must be strings, got {_shown(arg)}",
                f"Quote it in YAML: '{arg}'",
            )
    groups = _config_groups(check, block.get("config_groups"))
    return str(program), tuple(args), groups


def _config_groups(check: _Checker, raw: Any) -> tuple[str, ...]:
    """``command.config_groups``: Hydra group paths, as dotted params keys."""
    keys: dict[str, int] = {}
    for index, item in enumerate(check.list_of(raw, "command.config_groups")):
        if not isinstance(item, str) or not _GROUP_PATH_RE.fullmatch(item):
            raise check.fail(
                f"command.config_groups[{index}]",
                "expected a Hydra config group path (names of ASCII letters, digits, "
                "'_' and '-', each starting with a letter or '_', joined by '/'), "
                f"got {_shown(item)}",
                "Write the group as the app's defaults list names it, e.g. "
                "model or model/encoder",
            )
        keys.setdefault(item.replace("/", "."), index)
    for key, index in keys.items():
        outer = next((k for k in keys if key.startswith(k + ".")), None)
        if outer is not None:
            raise check.fail(
                f"command.config_groups[{index}]",
                f"config group {key.replace('.', '/')} lies inside config group "
                f"{outer.replace('.', '/')}, whose parameter is an option name, so "
                "it can never be set",
                "List only one of the two groups",
            )
    return tuple(keys)


def _check_group_params(
    check: _Checker,
    groups: tuple[str, ...],
    default_params: dict[str, Any],
    packs: tuple[Pack, ...],
) -> None:
    """The parameter at a config group's key must be an option name (a string)."""
    if not groups:
        return
    sources = [("defaults.params", default_params)]
    sources += [
        (f"{option.key_path}.params", option.params)
        for pack in packs
        for option in pack.options
    ]
    for where, params in sources:
        for key in groups:
            value = _at_dotted(params, key)
            if value is not _ABSENT and (not isinstance(value, str) or not value):
                raise check.fail(
                    f"{where}.{key}",
                    f"{key} is the Hydra config group {key.replace('.', '/')} "
                    "(command.config_groups), so its value must be the name of one "
                    f"of the group's options, a non-empty string; got {_shown(value)}",
                    "Set the group's own fields in the option's config file, or "
                    "remove the group from command.config_groups to pass a mapping "
                    "with ++ overrides",
                )


_ABSENT = object()


def _at_dotted(params: dict[str, Any], key: str) -> Any:
    """The value at dotted ``key`` of ``params``, or ``_ABSENT``."""
    node: Any = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _defaults(check: _Checker, raw: Any) -> tuple[dict[str, Any], tuple[str, ...]]:
    """S9. Sentinels in default params stay literal (M4)."""
    block = check.mapping(raw, "defaults", ("params", "tags"))
    params = block.get("params")
    default_params = (
        {}
        if params is None
        else check_params(params, file=check.file, path="defaults.params")
    )
    tags: list[str] = []
    for item in check.list_of(block.get("tags"), "defaults.tags"):
        text = str(item)
        if text.strip():
            tags.append(text)
    return default_params, tuple(tags)


def _packs(
    check: _Checker, raw: Any, mode: str
) -> tuple[tuple[Pack, ...], dict[str, Any]]:
    """P1–P9: validate, merge duplicate names, de-duplicate options, re-index."""
    if not isinstance(raw, list) or not raw:
        raise check.fail(
            "packs",
            "'packs' must be a non-empty list",
            "Select at least one pack with select.packs or select.groups",
        )
    occurrences: dict[str, list[int]] = {}
    grouped: dict[str, list[tuple[int, int, dict[str, Any]]]] = {}
    priorities: dict[str, int] = {}
    for pack_index, pack in enumerate(raw):
        name, priority, options = _pack(check, pack, pack_index)
        if name in occurrences and mode == "none":
            raise check.fail(
                f"packs[{pack_index}].name",
                f"duplicate pack name {name!r} (first at packs[{occurrences[name][0]}])",
                "Rename one pack, or set merge.mode: merge to merge their options",
            )
        occurrences.setdefault(name, []).append(pack_index)
        grouped.setdefault(name, []).extend(options)
        priorities[name] = priority
    diag: dict[str, Any] = {
        "duplicate_pack_names": [
            {"pack": name, "pack_indices": indices}
            for name, indices in occurrences.items()
            if len(indices) > 1
        ],
        "duplicate_options_removed": [],
        "duplicate_option_ids": [],
        "duplicate_tags": [],
        "pack_catalog": {},
    }
    packs = tuple(
        _merged_pack(check, name, priorities[name], entries, diag)
        for name, entries in grouped.items()
    )
    return packs, diag


def _pack(
    check: _Checker, raw: Any, pack_index: int
) -> tuple[str, int, list[tuple[int, int, dict[str, Any]]]]:
    where = f"packs[{pack_index}]"
    pack = check.mapping(raw, where, ("name", "options", "priority"))
    if not pack:
        raise check.fail(where, "expected a mapping with name and options")
    name = check.text(pack.get("name"), f"{where}.name", "pack name")
    priority = check.integer(pack.get("priority", 0), f"{where}.priority")
    options = pack.get("options")
    if not isinstance(options, list) or not options:
        raise check.fail(
            f"{where}.options", f"pack {name!r} needs a non-empty options list"
        )
    normalised = [
        (
            pack_index,
            option_index,
            _option(check, option, f"{where}.options[{option_index}]"),
        )
        for option_index, option in enumerate(options)
    ]
    for entry in normalised:
        entry[2]["priority"] = priority
    return name, priority, normalised


def _option(check: _Checker, raw: Any, where: str) -> dict[str, Any]:
    """P7."""
    if not isinstance(raw, dict):
        raise check.fail(where, f"an option must be a mapping, got {type_name(raw)}")
    option = check.mapping(raw, where, ("id", "tag", "params"))
    option_id = check.text(option.get("id"), f"{where}.id", "option id")
    tag = option.get("tag")
    if tag is not None and not isinstance(tag, str):
        raise check.fail(f"{where}.tag", f"tag must be a string, got {_shown(tag)}")
    if "params" not in option:
        raise check.fail(
            f"{where}.params", "'params' is required", "Use params: {} for none"
        )
    params = check_params(option["params"], file=check.file, path=f"{where}.params")
    return {
        "id": option_id,
        "tag": (tag.strip() or None) if tag is not None else None,
        "params": params,
        "key_path": where,
    }


def _merged_pack(
    check: _Checker,
    name: str,
    priority: int,
    entries: list[tuple[int, int, dict[str, Any]]],
    diag: dict[str, Any],
) -> Pack:
    kept = _dedupe_options(name, entries, diag)
    _check_option_ids(check, name, kept)
    options = tuple(
        Option(
            pack=name,
            index=index,
            id=data["id"],
            tag=data["tag"],
            params=data["params"],
            priority=data["priority"],
            key_path=data["key_path"],
        )
        for index, (_, _, data) in enumerate(kept)
    )
    _record_tags(name, options, diag)
    diag["pack_catalog"][name] = [
        {"index": o.index, "id": o.id, "tag": o.tag, "priority": o.priority}
        for o in options
    ]
    return Pack(name=name, priority=priority, options=options)


def _dedupe_options(
    name: str, entries: list[tuple[int, int, dict[str, Any]]], diag: dict[str, Any]
) -> list[tuple[int, int, dict[str, Any]]]:
    """P5: later options identical in ``{id, tag, params}`` are dropped."""
    seen: dict[str, tuple[int, int]] = {}
    kept = []
    for pack_index, option_index, data in entries:
        identity = canonical.dumps(
            {"id": data["id"], "tag": data["tag"], "params": data["params"]}
        )
        first = seen.get(identity)
        if first is None:
            seen[identity] = (pack_index, option_index)
            kept.append((pack_index, option_index, data))
            continue
        diag["duplicate_options_removed"].append(
            {
                "pack": name,
                "canonical_pack_index": first[0],
                "canonical_option_index": first[1],
                "duplicate_pack_index": pack_index,
                "duplicate_option_index": option_index,
                "option_id": data["id"],
                "tag": data["tag"],
            }
        )
    return kept


def _check_option_ids(
    check: _Checker, name: str, kept: list[tuple[int, int, dict[str, Any]]]
) -> None:
    """P6: the same id twice in one pack (after de-duplication) is an error."""
    first_seen: dict[str, str] = {}
    pairs = []
    duplicates = []
    for _, _, data in kept:
        first = first_seen.setdefault(data["id"], data["key_path"])
        if first != data["key_path"]:
            duplicates.append(f"{data['key_path']}.id")
            pairs.append(f"{first} and {data['key_path']} (id {data['id']!r})")
    if pairs:
        raise check.fail(
            duplicates[0],
            f"Duplicate option ids detected in pack {name!r}: {'; '.join(pairs)}",
            "Give each option of a pack its own id",
        )


def _record_tags(name: str, options: tuple[Option, ...], diag: dict[str, Any]) -> None:
    by_tag: dict[str, list[int]] = {}
    for option in options:
        if option.tag is not None:
            by_tag.setdefault(option.tag, []).append(option.index)
    for tag, indices in by_tag.items():
        if len(indices) > 1:
            diag["duplicate_tags"].append(
                {"pack": name, "tag": tag, "option_indices": indices}
            )


def _constraints(
    check: _Checker, raw: Any, packs: tuple[Pack, ...]
) -> tuple[tuple[Rule, ...], tuple[Rule, ...], tuple[Any, ...], dict[str, Any]]:
    """K1–K8 and K9–K13 (via :func:`parse_predicates`), then the K5/K6 check."""
    block = check.mapping(raw, "constraints", ("include", "exclude", "predicates"))
    unknown: dict[str, list[Any]] = {
        "unknown_constraint_packs": [],
        "unknown_constraint_values": [],
        "unknown_predicate_pack_refs": [],
    }
    rules = {
        kind: tuple(
            _rule(check, rule, f"constraints.{kind}[{i}]", packs, unknown)
            for i, rule in enumerate(
                check.list_of(block.get(kind), f"constraints.{kind}")
            )
        )
        for kind in ("include", "exclude")
    }
    predicates = parse_predicates(
        block.get("predicates"), file=check.file, pack_names={p.name for p in packs}
    )
    for predicate in predicates:
        for arg in predicate.args:
            if arg.pack is not None and arg.pack not in {p.name for p in packs}:
                unknown["unknown_predicate_pack_refs"].append(
                    {"predicate_id": predicate.id, "arg": arg.name, "pack": arg.pack}
                )
    _raise_unknown_references(check, unknown, packs)
    diag = {**unknown, "predicate_ids": [p.id for p in predicates]}
    return rules["include"], rules["exclude"], predicates, diag


def _rule(
    check: _Checker,
    raw: Any,
    where: str,
    packs: tuple[Pack, ...],
    unknown: dict[str, list[Any]],
) -> Rule:
    rule = check.mapping(raw, where, ("when",))
    when = rule.get("when")
    if not isinstance(when, dict):
        raise check.fail(f"{where}.when", "a rule needs a 'when' mapping of pack → ids")
    if not when:
        raise check.fail(
            f"{where}.when",
            "an empty 'when' would match every combination",
            "Name at least one pack and option id, or delete the rule",
        )
    positions = {pack.name: pos for pos, pack in enumerate(packs)}
    compiled = []
    for key, value in when.items():
        name = str(key)
        wanted = [str(item) for item in (value if isinstance(value, list) else [value])]
        if name not in positions:
            unknown["unknown_constraint_packs"].append({"rule": where, "pack": name})
            continue
        pack = packs[positions[name]]
        ids = {option.id: option.index for option in pack.options}
        for value_id in wanted:
            if value_id not in ids:
                unknown["unknown_constraint_values"].append(
                    {"rule": where, "pack": name, "value": value_id}
                )
        allowed = frozenset(ids[v] for v in wanted if v in ids)
        compiled.append((positions[name], allowed))
    return Rule(key_path=where, when=tuple(compiled))


def _raise_unknown_references(
    check: _Checker, unknown: dict[str, list[Any]], packs: tuple[Pack, ...]
) -> None:
    """K6: unknown packs or option ids in rules and predicates are fatal."""
    if not any(unknown.values()):
        return
    lines = []
    for entry in unknown["unknown_constraint_packs"]:
        lines.append(f"{entry['rule']}: no pack named {entry['pack']!r}")
    for entry in unknown["unknown_constraint_values"]:
        lines.append(
            f"{entry['rule']}: pack {entry['pack']!r} has no option {entry['value']!r}"
        )
    for entry in unknown["unknown_predicate_pack_refs"]:
        lines.append(
            f"predicate {entry['predicate_id']!r} arg {entry['arg']!r}: "
            f"no pack named {entry['pack']!r}"
        )
    catalog = "; ".join(
        f"{p.name}: {', '.join(o.id for o in p.options)}" for p in packs
    )
    raise check.fail(
        "constraints",
        "Unknown constraint references detected: " + "; ".join(lines),
        f"Known packs and option ids: {catalog}",
    )
