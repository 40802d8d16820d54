"""geryon.schemas and `geryon schema`: structural validation with useful messages."""

from __future__ import annotations

import json
from typing import Any

import pytest

from geryon.cli.main import main
from geryon.errors import ConfigError, GeryonError
from geryon.schemas import load_schema, validate

FULL = {
    "schema": {"version": 4, "unknown_key_behavior": "warn"},
    "imports": [
        {"path": "defs/a.yaml", "package": "lib"},
        {"path": "b.yaml", "package": None},
    ],
    "option_sets": {"s": [{"id": "a", "tag": None, "params": {"x": [{"y": 1}]}}]},
    "packs": {
        "p": {
            "name": "p",
            "options_from": [{"ref": "s", "include_ids": ["a"]}],
            "priority": -1,
        }
    },
    "groups": {"g": [{"group": "h"}, {"ref": "p", "filter": {"exclude_ids": None}}]},
    "command": {"program": "python", "args": ["-m", "app", 1, 1.5, True, None]},
    "select": {
        "groups": ["g"],
        "packs": [{"name": "q", "options": [{"id": "1", "params": {}}]}],
    },
    "defaults": {"params": {"a": {"b": 1}}, "tags": ["t", 1]},
    "constraints": {
        "include": [{"when": {"p": ["a", 1]}}],
        "exclude": [{"when": {"p": "a"}}],
        "predicates": [
            {
                "id": "small",
                "args": {
                    "bs": {"param": "train.batch_size"},
                    "opt": {"pack_id": "p", "default": None},
                },
                "expr": {
                    "not": {
                        "and": [{"eq": ["$bs", 16]}, {"in": ["$opt", ["sgd", "$$lit"]]}]
                    }
                },
                "on_error": False,
            },
            {
                "id": "leaf",
                "args": {"f": {"param": "flag"}},
                "expr": "$f",
                "on_error": " error ",
            },
            {
                "id": "rng",
                "args": {"x": {"param": "x"}},
                "expr": {"between": ["$x", 0, 1]},
            },
        ],
    },
    "merge": {
        "mode": " none ",
        "strategies": {"a.b": "append_unique"},
        "delete_sentinel": "__del__",
    },
    "run_sets": {
        "fast": {
            "extends": ["base"],
            "append": {"defaults": {"tags": ["fast"]}},
            "replace": {"select": {"groups": []}, "merge": None},
            "patch_packs": {
                "q": {"options": [{"id": "z", "params": {}}]},
                "r": {"ref": "p"},
            },
        }
    },
}


def error_of(instance: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        validate(instance, "experiment", file="exp.yaml")
    return caught.value


def test_every_key_of_a_full_experiment_is_accepted() -> None:
    validate(FULL, "experiment", file="exp.yaml")


def test_every_property_has_a_description_for_editors() -> None:
    schema = load_schema("experiment")
    definitions = schema["$defs"]
    missing = []

    def described(node: dict[str, Any]) -> bool:
        if "description" in node:
            return True
        ref = node.get("$ref", "")
        return "description" in definitions.get(ref.rsplit("/", 1)[-1], {})

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if not described(sub):
                    missing.append(f"{where}.{name}")
            for key, sub in node.items():
                walk(sub, f"{where}/{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk(schema, "#")
    assert missing == []


@pytest.mark.parametrize(
    ("patch", "key_path", "message"),
    [
        (
            {"command": {"program": "", "args": []}},
            "command.program",
            "expected a non-empty string, found the string ''",
        ),
        ({"command": {"args": []}}, "command", "missing required key 'program'"),
        (
            {"command": {"program": "x", "args": [[1]]}},
            "command.args[0]",
            "expected a string",
        ),
        ({"merge": {"mode": "merged"}}, "merge.mode", "expected 'merge' or 'none'"),
        (
            {"merge": {"strategies": {"a": "union"}}},
            "merge.strategies.a",
            "expected one of error, replace, deep_merge, append_unique, set_union",
        ),
        ({"defaults": {"tags": "t"}}, "defaults.tags", "expected a list or null"),
        (
            {"defaults": {"params": {"a.b": 1}}},
            "defaults.params",
            "key 'a.b' contains '.'",
        ),
        (
            {"constraints": {"include": [{}]}},
            "constraints.include[0]",
            "missing required key 'when'",
        ),
        (
            {"constraints": {"exclude": [{"when": {}}]}},
            "constraints.exclude[0].when",
            "at least 1",
        ),
        (
            {"constraints": {"predicates": [{"id": "p"}]}},
            "constraints.predicates[0]",
            "missing",
        ),
    ],
)
def test_section_messages(patch: dict[str, Any], key_path: str, message: str) -> None:
    err = error_of({**FULL, **patch})
    assert err.key_path == key_path
    assert message in str(err)
    assert err.file == "exp.yaml"


@pytest.mark.parametrize(
    ("expr", "key_path", "message"),
    [
        ({"xor": [1, 2]}, "constraints.predicates[0].expr", "key 'xor' is not allowed"),
        (
            {"eq": [1]},
            "constraints.predicates[0].expr.eq",
            "a list of exactly 2 operands",
        ),
        (
            {"between": [1, 2]},
            "constraints.predicates[0].expr.between",
            "exactly 3 operands",
        ),
        (
            {"and": []},
            "constraints.predicates[0].expr.and",
            "a non-empty list of expressions",
        ),
        (
            {"eq": [1, 2], "ne": [1, 2]},
            "constraints.predicates[0].expr",
            "exactly one operator",
        ),
        (
            {"not": {"or": [{"eq": [{"a": 1}, 2]}]}},
            "constraints.predicates[0].expr.not.or[0].eq[0]",
            "a mapping cannot be an operand",
        ),
        ({}, "constraints.predicates[0].expr", "exactly one operator"),
    ],
)
def test_predicate_expression_grammar(expr: Any, key_path: str, message: str) -> None:
    predicate = {"id": "p", "args": {"a": {"param": "x"}}, "expr": expr}
    err = error_of({"constraints": {"predicates": [predicate]}})
    assert err.key_path == key_path
    assert message in str(err)


@pytest.mark.parametrize(
    ("args", "key_path", "message"),
    [
        ({}, "constraints.predicates[0].args", "a non-empty mapping"),
        ({"1x": {"param": "a"}}, "constraints.predicates[0].args", "an identifier"),
        (
            {"a": {"param": "a", "pack_id": "p"}},
            "constraints.predicates[0].args.a",
            "not both",
        ),
        (
            {"a": {"default": 1}},
            "constraints.predicates[0].args.a",
            "missing required key 'param'",
        ),
        (
            {"a": {"param": ".a"}},
            "constraints.predicates[0].args.a.param",
            "without empty",
        ),
        (
            {"a": {"param": "a", "dflt": 1}},
            "constraints.predicates[0].args.a.dflt",
            "unknown key",
        ),
    ],
)
def test_predicate_args(args: Any, key_path: str, message: str) -> None:
    predicate = {"id": "p", "args": args, "expr": True}
    err = error_of({"constraints": {"predicates": [predicate]}})
    assert err.key_path == key_path
    assert message in str(err)


def test_unknown_key_message_lists_allowed_keys_and_explains() -> None:
    err = error_of({"imports": [{"path": "a", "pakage": "x"}]})
    assert str(err) == (
        "exp.yaml at imports[0].pakage: unknown key 'pakage'. Allowed keys here: path, "
        "package. One imported file: its path (relative to the importing file's folder) "
        "and an optional package that prefixes the names it defines."
    )


def test_type_message_names_the_found_value_and_the_key_help() -> None:
    err = error_of({"imports": [{"path": ["a"]}]})
    assert str(err) == (
        "exp.yaml at imports[0].path: expected a non-empty string, found a list of 1 "
        "item(s). Path of the imported YAML file, relative to the folder of the file "
        "that imports it ('~' is not expanded)."
    )


def test_unicode_keys_in_messages() -> None:
    err = error_of({"packs": {"pâck ü": {"name": "p", "cølour": 1}}})
    assert err.key_path == "packs.pâck ü.cølour"


def test_integers_are_strict_in_every_schema() -> None:
    with pytest.raises(ConfigError, match=r"found the number 2\.0"):
        validate(
            {"packs": {"p": {"name": "p", "priority": 2.0}}}, "experiment", file=None
        )


def test_load_schema_unknown_name_is_a_runtime_error() -> None:
    with pytest.raises(GeryonError, match="no JSON Schema named 'nope'"):
        load_schema("nope")


def test_cli_prints_the_experiment_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "experiment"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == load_schema("experiment")
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_cli_prints_the_profiles_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "profiles"]) == 0
    assert json.loads(capsys.readouterr().out) == load_schema("profiles")


def test_cli_rejects_an_unknown_schema_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "bogus"]) == 2
    assert "'bogus' is not one of 'experiment', 'profiles'" in capsys.readouterr().err
