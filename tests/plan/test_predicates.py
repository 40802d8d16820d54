"""Predicates: K9–K17 with the Q13, Q14 and Q15 decisions."""

from __future__ import annotations

from typing import Any

import pytest

from geryon.errors import ConfigError
from geryon.plan import normalise

from .conftest import FILE, packs_doc, stream_of

BS = [{"id": f"b{n}", "params": {"train": {"bs": n}}} for n in (16, 32)]
OPT = [
    {"id": "sgd", "params": {"opt": "sgd"}},
    {"id": "adam", "params": {"opt": "adam"}},
]


def with_predicates(*predicates: dict[str, Any]) -> dict[str, Any]:
    return packs_doc(BS, OPT, constraints={"predicates": list(predicates)})


def selected(stream: Any) -> list[tuple[str, str]]:
    return [
        (c["selected_options"]["p0"], c["selected_options"]["p1"])
        for c in stream.result.preview
    ]


SPEC_EXAMPLE = {
    "id": "no_small_batch_sgd",
    "args": {
        "bs": {"param": "train.bs"},
        "opt": {"pack_id": "p1"},
        "wd": {"param": "wd", "default": 0.0},
    },
    "expr": {"not": {"and": [{"eq": ["$bs", 16]}, {"eq": ["$opt", "sgd"]}]}},
}


def test_spec_example_drops_one_combination_with_sample() -> None:
    stream = stream_of(with_predicates(SPEC_EXAMPLE))
    assert selected(stream) == [("b16", "adam"), ("b32", "sgd"), ("b32", "adam")]
    stats = stream.predicate_stats.to_json()
    assert (stats["evaluated"], stats["passed"], stats["failed"]) == (4, 3, 1)
    assert stats["dropped_candidates"] == 1
    assert stats["drop_samples"] == [
        {
            "reason": "predicate:no_small_batch_sgd",
            "predicate_id": "no_small_batch_sgd",
            "selected_options": {"p0": "b16", "p1": "sgd"},
            "resolved_args": {"bs": 16, "opt": "sgd", "wd": 0.0},
            "expr": SPEC_EXAMPLE["expr"],
        }
    ]


def test_k16_later_predicates_not_evaluated_after_a_failure() -> None:
    first = {
        "id": "a",
        "args": {"o": {"pack_id": "p1"}},
        "expr": {"eq": ["$o", "adam"]},
    }
    second = {"id": "b", "args": {"o": {"pack_id": "p1"}}, "expr": True}
    stats = stream_of(with_predicates(first, second)).predicate_stats.to_json()
    assert stats["per_predicate"]["a"] == {
        "evaluated": 4,
        "passed": 2,
        "failed": 2,
        "errors": 0,
    }
    assert stats["per_predicate"]["b"]["evaluated"] == 2


@pytest.mark.parametrize(
    ("expr", "kept"),
    [
        ({"in": ["$o", ["adam", "rmsprop"]]}, 2),
        ({"not_in": ["$o", ["adam"]]}, 2),
        ({"between": ["$bs", 10, 20]}, 2),
        ({"gt": ["$bs", 16]}, 2),
        ({"gte": ["$bs", 16]}, 4),
        ({"lt": ["$bs", 16]}, 0),
        ({"lte": ["$bs", 32]}, 4),
        ({"ne": ["$o", "sgd"]}, 2),
        ({"or": [{"eq": ["$o", "sgd"]}, {"eq": ["$bs", 32]}]}, 3),
        ({"in": ["da", "$o"]}, 2),
    ],
)
def test_k14_operators(expr: dict[str, Any], kept: int) -> None:
    predicate = {
        "id": "p",
        "args": {"bs": {"param": "train.bs"}, "o": {"pack_id": "p1"}},
        "expr": expr,
        "on_error": False,
    }
    if kept == 0:
        with pytest.raises(ConfigError, match="zero configurations"):
            stream_of(with_predicates(predicate))
        return
    assert len(stream_of(with_predicates(predicate)).result.preview) == kept


def test_k14_error_aborts_with_predicate_and_selection_q15_keeps_args() -> None:
    predicate = {
        "id": "cmp",
        "args": {"o": {"pack_id": "p1"}, "bs": {"param": "train.bs"}},
        "expr": {"lt": ["$o", "$bs"]},
    }
    with pytest.raises(ConfigError) as caught:
        stream_of(with_predicates(predicate))
    text = str(caught.value)
    assert caught.value.key_path == "constraints.predicates[0]"
    assert "Predicate evaluation failed: predicate 'cmp'" in text
    assert "{'p0': 'b16', 'p1': 'sgd'}" in text
    assert "resolved args {'o': 'sgd', 'bs': 16}" in text


def test_k14_on_error_false_drops_and_counts_error() -> None:
    predicate = {
        "id": "m",
        "args": {"x": {"param": "missing.path"}, "o": {"pack_id": "p1"}},
        "expr": {"eq": ["$x", 1]},
        "on_error": "false",
    }
    document = with_predicates(predicate)
    document["packs"][1]["options"][1]["params"]["missing"] = {"path": 1}
    stream = stream_of(document)
    assert selected(stream) == [("b16", "adam"), ("b32", "adam")]
    stats = stream.predicate_stats.to_json()
    assert stats["per_predicate"]["m"] == {
        "evaluated": 4,
        "passed": 2,
        "failed": 2,
        "errors": 2,
    }
    assert stats["error_samples"][0]["error"] == "arg 'x': missing.path is missing"
    assert stats["error_samples"][0]["resolved_args"] == {}


def test_k11_default_used_for_missing_and_null_is_a_value() -> None:
    predicate = {
        "id": "d",
        "args": {"x": {"param": "nothing", "default": None}},
        "expr": {"eq": ["$x", None]},
    }
    assert len(stream_of(with_predicates(predicate)).result.preview) == 4


def test_q14_and_short_circuits_before_an_error() -> None:
    predicate = {
        "id": "sc",
        "args": {"o": {"pack_id": "p1"}},
        "expr": {"and": [{"eq": ["$o", "adam"]}, {"lt": ["$o", 1]}]},
    }
    with pytest.raises(ConfigError, match="cannot compare 'adam' < 1"):
        stream_of(with_predicates(predicate))
    guarded = {
        **predicate,
        "expr": {"or": [{"eq": ["$o", "sgd"]}, {"eq": ["$o", "adam"]}]},
    }
    assert len(stream_of(with_predicates(guarded)).result.preview) == 4


def test_q13_double_dollar_is_a_literal() -> None:
    document = packs_doc(
        [{"id": "a", "params": {"v": "$HOME"}}, {"id": "b", "params": {"v": "x"}}],
        constraints={
            "predicates": [
                {
                    "id": "lit",
                    "args": {"v": {"param": "v"}},
                    "expr": {"eq": ["$v", "$$HOME"]},
                }
            ]
        },
    )
    assert [
        c["selected_options"]["p0"] for c in stream_of(document).result.preview
    ] == ["a"]


def test_k14_leaf_must_be_boolean() -> None:
    predicate = {"id": "leaf", "args": {"o": {"pack_id": "p1"}}, "expr": "$o"}
    with pytest.raises(ConfigError, match="not a boolean"):
        stream_of(with_predicates(predicate))


@pytest.mark.parametrize(
    ("predicate", "key_path", "text"),
    [
        (
            {"id": "x", "args": {}, "expr": True},
            "constraints.predicates[0].args",
            "non-empty",
        ),
        (
            {"id": "x", "args": {"1a": {"pack_id": "p0"}}, "expr": True},
            "constraints.predicates[0].args.1a",
            "invalid arg name",
        ),
        (
            {"id": "x", "args": {"a": {"pack_id": "p0", "param": "q"}}, "expr": True},
            "constraints.predicates[0].args.a",
            "exactly one",
        ),
        (
            {"id": "x", "args": {"a": {"param": "a..b"}}, "expr": True},
            "constraints.predicates[0].args.a.param",
            "invalid param path",
        ),
        (
            {"id": "x", "args": {"a": {"pack_id": "p0"}}},
            "constraints.predicates[0].expr",
            "'expr' is required",
        ),
        (
            {"id": "x", "args": {"a": {"pack_id": "p0"}}, "expr": {"eq": ["$b", 1]}},
            "constraints.predicates[0].expr.eq[0]",
            "unknown arg '$b'",
        ),
        (
            {
                "id": "x",
                "args": {"a": {"pack_id": "p0"}},
                "expr": {"and": [True, {"xor": []}]},
            },
            "constraints.predicates[0].expr.and[1]",
            "unknown operator",
        ),
        (
            {"id": "x", "args": {"a": {"pack_id": "p0"}}, "expr": {"eq": [1]}},
            "constraints.predicates[0].expr.eq",
            "exactly 2 operands",
        ),
        (
            {
                "id": "x",
                "args": {"a": {"pack_id": "p0"}},
                "expr": {"eq": [{"a": 1}, 1]},
            },
            "constraints.predicates[0].expr.eq[0]",
            "cannot be a mapping",
        ),
        (
            {"id": "x", "args": {"a": {"pack_id": "p0"}}, "expr": {"and": []}},
            "constraints.predicates[0].expr.and",
            "non-empty list",
        ),
        (
            {
                "id": "x",
                "args": {"a": {"pack_id": "p0"}},
                "expr": True,
                "on_error": "skip",
            },
            "constraints.predicates[0].on_error",
            "on_error must be",
        ),
        (
            {"id": "", "args": {"a": {"pack_id": "p0"}}, "expr": True},
            "constraints.predicates[0].id",
            "non-empty string id",
        ),
    ],
)
def test_k9_k13_validation(predicate: dict[str, Any], key_path: str, text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        normalise(with_predicates(predicate), FILE)
    assert caught.value.key_path == key_path
    assert text in str(caught.value)
    assert str(FILE) in str(caught.value)


def test_k10_duplicate_predicate_ids() -> None:
    predicate = {"id": "x", "args": {"a": {"pack_id": "p0"}}, "expr": True}
    with pytest.raises(ConfigError, match="duplicate predicate id 'x'"):
        normalise(with_predicates(predicate, predicate), FILE)


def test_k13_on_error_boolean_spellings() -> None:
    base = {"id": "x", "args": {"a": {"pack_id": "p0"}}, "expr": True}
    assert (
        normalise(with_predicates({**base, "on_error": True}), FILE)
        .predicates[0]
        .on_error
        == "error"
    )
    assert (
        normalise(with_predicates({**base, "on_error": False}), FILE)
        .predicates[0]
        .on_error
        == "false"
    )


def test_k17_samples_keep_64_then_a_truncation_marker() -> None:
    options = [{"id": f"o{i}", "params": {"n": i}} for i in range(80)]
    document = packs_doc(
        options,
        [{"id": "keep", "params": {}}],
        constraints={
            "predicates": [
                {"id": "few", "args": {"n": {"param": "n"}}, "expr": {"lt": ["$n", 5]}}
            ]
        },
    )
    samples = stream_of(document).predicate_stats.to_json()["drop_samples"]
    assert len(samples) == 65
    assert samples[-1] == {"truncated": True}
