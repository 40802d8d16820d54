"""Rules, predicate args, predicates and the predicate helpers (spec Y5–Y7, Y18–Y19)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from geryon.dsl import ConstraintRule, Predicate, PredicateArg, match_ids, require
from geryon.errors import ConfigError


def raises(pattern: str) -> pytest.RaisesContext[ConfigError]:
    return pytest.raises(ConfigError, match=re.escape(pattern))


def test_rule_turns_scalars_into_lists() -> None:
    rule = ConstraintRule(
        when={" model ": " large", "batch": ["b64", "b64", " ", "b32"]}
    )
    assert rule.mode == "exclude"
    assert rule.to_dict() == {"when": {"model": ["large"], "batch": ["b64", "b32"]}}


def test_rule_rejects_empty_when_q12() -> None:
    with raises("ConstraintRule: argument 'when' must name at least one pack"):
        ConstraintRule(when={}, mode="include")


def test_rule_rejects_ids_that_normalise_to_nothing() -> None:
    with raises(
        "ConstraintRule: argument 'when['m']' must list at least one non-blank"
    ):
        ConstraintRule(when={"m": [" "]})


def test_rule_rejects_non_string_ids() -> None:
    with raises("ConstraintRule: argument 'when['m'][0]' must be a string, got 1"):
        ConstraintRule(when={"m": [1]})  # type: ignore[list-item]


def test_rule_rejects_unknown_mode() -> None:
    with raises("ConstraintRule: argument 'mode' must be 'include' or 'exclude'"):
        ConstraintRule(when={"m": "a"}, mode="drop")


def test_arg_factories() -> None:
    assert PredicateArg.pack_id("optimizer").to_dict() == {"pack_id": "optimizer"}
    assert PredicateArg.param("train.wd", default=0.0).to_dict() == {
        "param": "train.wd",
        "default": 0.0,
    }


def test_null_default_needs_has_default() -> None:
    assert PredicateArg.param("a", default=None).to_dict() == {"param": "a"}
    assert PredicateArg.param("a", has_default=True).to_dict() == {
        "param": "a",
        "default": None,
    }


def test_arg_constructor_is_explicit_about_defaults() -> None:
    with raises(
        "PredicateArg: argument 'default_value' is given but has_default is False"
    ):
        PredicateArg(source_kind="param", source_key="a", default_value=3)


@pytest.mark.parametrize("path", ["a..b", ".a", "a."])
def test_param_path_without_empty_segments(path: str) -> None:
    with raises(
        "PredicateArg: argument 'source_key' is a param path with an empty segment"
    ):
        PredicateArg.param(path)


def test_arg_rejects_unknown_kind() -> None:
    with raises("PredicateArg: argument 'source_kind' must be 'pack_id' or 'param'"):
        PredicateArg(source_kind="tag", source_key="a")


def predicate(**overrides: Any) -> Predicate:
    arguments: dict[str, Any] = {
        "id": "p",
        "args": {"bs": PredicateArg.param("train.bs")},
        "expr": {"gt": ["$bs", 8]},
        **overrides,
    }
    return Predicate(**arguments)


def test_predicate_renders_on_error_only_when_false() -> None:
    assert predicate().to_dict() == {
        "id": "p",
        "args": {"bs": {"param": "train.bs"}},
        "expr": {"gt": ["$bs", 8]},
    }
    assert predicate(on_error=False).to_dict()["on_error"] is False
    assert predicate(on_error=" false ").to_dict()["on_error"] is False


def test_predicate_id_alias() -> None:
    assert (
        Predicate(predicate_id="q", args={"a": PredicateArg.pack_id("m")}, expr=True).id
        == "q"
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"args": {}}, "argument 'args' must name at least one argument"),
        (
            {"args": {"1x": PredicateArg.pack_id("m")}},
            "argument 'args' has the name '1x'",
        ),
        (
            {
                "args": {
                    "a": PredicateArg.pack_id("m"),
                    " a ": PredicateArg.pack_id("n"),
                }
            },
            "argument 'args' names 'a' twice",
        ),
        (
            {"args": {"a": {"pack_id": "m"}}},
            "argument 'args['a']' must be a PredicateArg",
        ),
        ({"expr": None}, "argument 'expr' is required"),
        ({"on_error": "warn"}, "argument 'on_error' must be 'error' or 'false'"),
        ({"id": " "}, "argument 'id' must be a non-empty string"),
    ],
)
def test_predicate_refusals(overrides: dict[str, Any], message: str) -> None:
    with raises(f"Predicate: {message}"):
        predicate(**overrides)


def test_match_ids_is_an_or_of_pair_conjunctions() -> None:
    made = match_ids(
        left_pack="model",
        right_pack="data set",
        pairs=[("small", "cifar"), (" small", "cifar "), ("large", "imagenet")],
    )
    assert made.to_dict() == {
        "id": "match_model_data_set",
        "args": {"left": {"pack_id": "model"}, "right": {"pack_id": "data set"}},
        "expr": {
            "or": [
                {"and": [{"eq": ["$left", "small"]}, {"eq": ["$right", "cifar"]}]},
                {"and": [{"eq": ["$left", "large"]}, {"eq": ["$right", "imagenet"]}]},
            ]
        },
    }


def test_match_ids_custom_names() -> None:
    made = match_ids(
        left_pack="a",
        right_pack="b",
        pairs=[("1", "2")],
        predicate_id="pairs",
        left_arg="x",
        right_arg="y",
        on_error="false",
    ).to_dict()
    assert made["id"] == "pairs"
    assert list(made["args"]) == ["x", "y"]
    assert made["on_error"] is False


def test_match_ids_escapes_dollar_ids_q13() -> None:
    made = match_ids(left_pack="a", right_pack="b", pairs=[("$x", "y")]).to_dict()
    assert made["expr"]["or"][0]["and"][0] == {"eq": ["$left", "$$x"]}


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([], "argument 'pairs' must hold at least one pair"),
        ([("a",)], "argument 'pairs[0]' must be a (left id, right id) pair"),
        ([("a", " ")], "argument 'pairs[0]' must be a non-empty string"),
    ],
)
def test_match_ids_refusals(pairs: list[Any], message: str) -> None:
    with raises(f"match_ids: {message}"):
        match_ids(left_pack="a", right_pack="b", pairs=pairs)


def test_match_ids_needs_distinct_arg_names() -> None:
    with raises("match_ids: argument 'right_arg' must differ from left_arg"):
        match_ids(left_pack="a", right_pack="b", pairs=[("1", "2")], left_arg="right")


def test_require_builds_one_arg_per_source_and_every_operator() -> None:
    made = require(
        rules=[
            (
                {"optimizer": "sgd"},
                {"train.lr": ("between", 0.01, 0.1), "train.bs": ("in", (32, 64))},
            ),
            ({"optimizer": "adam", "model-size": "s"}, {"train.lr": ("lte", 0.001)}),
            ({"model size": "l"}, {"train.tags": ["a"], "train.bs": ("not_in", [8])}),
        ]
    ).to_dict()
    assert made["id"] == "require"
    assert made["args"] == {
        "pack_optimizer": {"pack_id": "optimizer"},
        "param_train_lr": {"param": "train.lr"},
        "param_train_bs": {"param": "train.bs"},
        "pack_model_size": {"pack_id": "model-size"},
        "pack_model_size_2": {"pack_id": "model size"},
        "param_train_tags": {"param": "train.tags"},
    }
    assert made["expr"] == {
        "or": [
            {
                "and": [
                    {"eq": ["$pack_optimizer", "sgd"]},
                    {"between": ["$param_train_lr", 0.01, 0.1]},
                    {"in": ["$param_train_bs", [32, 64]]},
                ]
            },
            {
                "and": [
                    {"eq": ["$pack_optimizer", "adam"]},
                    {"eq": ["$pack_model_size", "s"]},
                    {"lte": ["$param_train_lr", 0.001]},
                ]
            },
            {
                "and": [
                    {"eq": ["$pack_model_size_2", "l"]},
                    {"eq": ["$param_train_tags", ["a"]]},
                    {"not_in": ["$param_train_bs", [8]]},
                ]
            },
        ]
    }


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ([], "argument 'rules' must hold at least one (when, then) pair"),
        ([({"m": "a"},)], "argument 'rules[0]' must be a (when, then) pair"),
        ([({}, {"x": 1})], "argument 'rules[0].when' must name at least one pack"),
        (
            [({"m": "a"}, {})],
            "argument 'rules[0].then' must constrain at least one param",
        ),
        (
            [({"m": "a"}, {"x": ("like", 1)})],
            "starts with 'like'; the operator must be one of",
        ),
        ([({"m": "a"}, {"x": ("between", 1)})], "must be the tuple (op, low, high)"),
        ([({"m": "a"}, {"x": ("in", 1)})], "needs a list or tuple of values for 'in'"),
        ([({"m": "a"}, {"a..b": 1})], "has a param path with an empty segment: 'a..b'"),
    ],
)
def test_require_refusals(rules: list[Any], message: str) -> None:
    with raises(message):
        require(rules=rules)
