"""Validation of the composed document: S5, S7–S10, P1–P9, M1–M3, K1–K13."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from geryon.errors import ConfigError
from geryon.plan import normalise

from .conftest import FILE, WORKED_EXAMPLE, packs_doc


def opt(option_id: str, **params: Any) -> dict[str, Any]:
    return {"id": option_id, "params": params}


def fails(document: dict[str, Any], key_path: str, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        normalise(document, FILE)
    error = caught.value
    assert error.file == str(FILE)
    assert error.key_path == key_path
    assert text in str(error)
    return error


def test_worked_example_normalises() -> None:
    experiment = normalise(WORKED_EXAMPLE, FILE)
    assert experiment.base_command == "python train.py"
    assert [p.name for p in experiment.packs] == ["model", "seed"]
    assert experiment.default_tags == ("base",)
    assert experiment.num_constraints == 1


def test_s5_unknown_top_level_key() -> None:
    fails({**packs_doc([opt("a")]), "select": {}}, "select", "unknown top-level keys")


def test_s7_command_required_and_program_non_empty() -> None:
    document = packs_doc([opt("a")])
    del document["command"]
    fails(document, "command", "'command' is required")
    fails({**document, "command": {"program": "  "}}, "command.program", "non-empty")
    fails(
        {**document, "command": {"program": "p", "env": 1}},
        "command",
        "unknown keys env",
    )


@pytest.mark.parametrize("arg", [True, None, 1e-05, 3])
def test_q8_command_args_must_be_strings(arg: Any) -> None:
    document = {
        **packs_doc([opt("a")]),
        "command": {"program": "p", "args": ["x", arg]},
    }
    error = fails(document, "command.args[1]", "command arguments must be strings")
    assert "Quote it" in str(error)


def test_s8_base_command_is_shell_quoted() -> None:
    document = {
        **packs_doc([opt("a")]),
        "command": {"program": "python", "args": ["my script.py", "it's"]},
    }
    assert (
        normalise(document, FILE).base_command == "python 'my script.py' 'it'\"'\"'s'"
    )


def test_s9_default_tags_keep_spaces_and_drop_empty() -> None:
    document = {**packs_doc([opt("a")]), "defaults": {"tags": [" x ", "", "  ", 1]}}
    assert normalise(document, FILE).default_tags == (" x ", "1")


@pytest.mark.parametrize(
    ("params", "key_path"),
    [
        ({"a.b": 1}, "packs[0].options[0].params.a.b"),
        ({"a": {"b.c": 1}}, "packs[0].options[0].params.a.b.c"),
        ({"a": [{"x.y": 1}]}, "packs[0].options[0].params.a[0].x.y"),
    ],
)
def test_s10_dotted_keys_rejected_at_any_depth(params: Any, key_path: str) -> None:
    fails(packs_doc([{"id": "a", "params": params}]), key_path, "dotted keys")


def test_s10_dotted_default_params_rejected() -> None:
    document = {**packs_doc([opt("a")]), "defaults": {"params": {"x": {"y.z": 1}}}}
    fails(document, "defaults.params.x.y.z", "dotted keys")


def test_q17_yaml_date_rejected_naming_the_option() -> None:
    document = packs_doc([{"id": "a", "params": {"when": datetime.date(2024, 1, 1)}}])
    error = fails(document, "packs[0].options[0].params.when", "no JSON form")
    assert "Quote it" in str(error)


def test_p1_packs_must_be_non_empty() -> None:
    fails({"command": {"program": "p"}, "packs": []}, "packs", "non-empty list")


def test_p2_pack_shape() -> None:
    fails(
        {"command": {"program": "p"}, "packs": [{"name": "", "options": [opt("a")]}]},
        "packs[0].name",
        "non-empty string",
    )
    fails(
        {"command": {"program": "p"}, "packs": [{"name": "x", "options": []}]},
        "packs[0].options",
        "non-empty options",
    )


def test_q3_boolean_priority_rejected() -> None:
    document = packs_doc([opt("a")])
    document["packs"][0]["priority"] = True
    fails(document, "packs[0].priority", "expected an integer")


def test_p4_duplicate_packs_error_under_mode_none() -> None:
    document = packs_doc([opt("a")], [opt("b")], merge={"mode": "none"})
    document["packs"][1]["name"] = "p0"
    fails(document, "packs[1].name", "duplicate pack name 'p0'")


def test_p4_p9_duplicate_packs_merge_keeping_occurrence_priority() -> None:
    document = packs_doc([opt("a", x=1)], [opt("z", y=1)], [opt("b", x=2)])
    document["packs"][2]["name"] = "p0"
    document["packs"][2]["priority"] = 5
    experiment = normalise(document, FILE)
    assert [p.name for p in experiment.packs] == ["p0", "p1"]
    merged = experiment.packs[0]
    assert [(o.id, o.index, o.priority) for o in merged.options] == [
        ("a", 0, 0),
        ("b", 1, 5),
    ]
    assert merged.priority == 5
    assert experiment.packs_diagnostics["duplicate_pack_names"] == [
        {"pack": "p0", "pack_indices": [0, 2]}
    ]


def test_p5_identical_options_dropped_and_recorded() -> None:
    experiment = normalise(packs_doc([opt("a", x=1), opt("b"), opt("a", x=1)]), FILE)
    assert [o.id for o in experiment.packs[0].options] == ["a", "b"]
    assert experiment.packs_diagnostics["duplicate_options_removed"] == [
        {
            "pack": "p0",
            "canonical_pack_index": 0,
            "canonical_option_index": 0,
            "duplicate_pack_index": 0,
            "duplicate_option_index": 2,
            "option_id": "a",
            "tag": None,
        }
    ]


def test_p6_duplicate_ids_error_and_duplicate_tags_recorded() -> None:
    fails(
        packs_doc([opt("a", x=1), opt("a", x=2)]),
        "packs[0].options[1].id",
        "Duplicate option ids",
    )
    tagged = packs_doc(
        [{"id": "a", "tag": "t", "params": {}}, {"id": "b", "tag": "t", "params": {}}]
    )
    diag = normalise(tagged, FILE).packs_diagnostics
    assert diag["duplicate_tags"] == [
        {"pack": "p0", "tag": "t", "option_indices": [0, 1]}
    ]


@pytest.mark.parametrize(
    ("option", "key_path", "text"),
    [
        ({"id": 1, "params": {}}, "packs[0].options[0].id", "non-empty string"),
        ({"id": "a"}, "packs[0].options[0].params", "'params' is required"),
        (
            {"id": "a", "params": [1]},
            "packs[0].options[0].params",
            "expected a mapping",
        ),
        ({"id": "a", "params": {}, "x": 1}, "packs[0].options[0]", "unknown keys x"),
        ({"id": "a", "tag": 3, "params": {}}, "packs[0].options[0].tag", "string"),
    ],
)
def test_p7_option_shape(option: dict[str, Any], key_path: str, text: str) -> None:
    fails(packs_doc([option]), key_path, text)


def test_p7_ids_and_tags_are_trimmed() -> None:
    experiment = normalise(packs_doc([{"id": " a ", "tag": "  ", "params": {}}]), FILE)
    option = experiment.packs[0].options[0]
    assert (option.id, option.tag) == ("a", None)


@pytest.mark.parametrize(
    ("merge", "key_path", "text"),
    [
        ({"mode": "sometimes"}, "merge.mode", "unknown mode"),
        ({"strategies": {"a": "smash"}}, "merge.strategies.a", "unknown strategy"),
        ({"delete_sentinel": ""}, "merge.delete_sentinel", "non-empty"),
        ({"other": 1}, "merge", "unknown keys other"),
    ],
)
def test_m1_m2_merge_block(merge: dict[str, Any], key_path: str, text: str) -> None:
    fails(packs_doc([opt("a")], merge=merge), key_path, text)


def test_m3_merge_effective() -> None:
    document = packs_doc([opt("a")], merge={"strategies": {" a.b ": " replace "}})
    assert normalise(document, FILE).merge.to_json() == {
        "mode": "merge",
        "strategies": {"a.b": "replace"},
        "delete_sentinel": "__delete__",
    }


def test_q12_empty_when_rejected() -> None:
    document = packs_doc([opt("a")], constraints={"exclude": [{"when": {}}]})
    fails(document, "constraints.exclude[0].when", "empty 'when'")


def test_k2_rule_needs_when_mapping() -> None:
    document = packs_doc([opt("a")], constraints={"include": [{"if": {}}]})
    fails(document, "constraints.include[0]", "unknown keys if")


def test_k5_k6_unknown_references_are_fatal_and_all_listed() -> None:
    document = packs_doc(
        [opt("a")],
        constraints={
            "exclude": [{"when": {"nope": "a"}}, {"when": {"p0": ["a", "zz"]}}],
            "predicates": [
                {
                    "id": "q",
                    "args": {"v": {"pack_id": "ghost"}},
                    "expr": {"eq": ["$v", 1]},
                }
            ],
        },
    )
    error = fails(document, "constraints", "Unknown constraint references detected")
    text = str(error)
    assert "no pack named 'nope'" in text
    assert "has no option 'zz'" in text
    assert "arg 'v': no pack named 'ghost'" in text


def test_k2_numeric_when_values_match_text_ids() -> None:
    document = packs_doc(
        [opt("1"), opt("2")], constraints={"exclude": [{"when": {"p0": 1}}]}
    )
    rule = normalise(document, FILE).excludes[0]
    assert rule.when == ((0, frozenset({0})),)
