"""The Experiment builder's document and YAML (spec Y11–Y12), without geryon checks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from geryon.dsl import (
    ConstraintRule,
    Experiment,
    MergeSpec,
    Option,
    OptionSource,
    Pack,
    PackSelector,
    RunSetSpec,
    match_ids,
)
from geryon.errors import ConfigError

HOSTILE_IDS = [
    "with space",
    "quote'single",
    'quote"double',
    "ünïcødé",
    "emoji 😀",
    "yes",
    "null",
    "~",
    "1e-3",
    "010",
    "0x10",
    "2024-01-01",
    "#hash",
    "- dash",
    "key: value",
    "$dollar",
    "back\\slash",
    "tab\there",
    "new\nline",
    "&anchor",
    "*alias",
    "!tag",
    "%percent",
    "@at",
    "`tick",
    "{brace}",
    "[bracket]",
    "a=b,c",
]


def raises(pattern: str) -> pytest.RaisesContext[ConfigError]:
    return pytest.raises(ConfigError, match=re.escape(pattern))


def one_option(option_id: str = "a") -> list[Option]:
    return [Option(id=option_id, params={"x": option_id})]


def test_new_experiment_has_only_the_schema_block() -> None:
    assert Experiment().document == {
        "schema": {"version": 4, "unknown_key_behavior": "error"}
    }
    assert Experiment("warn").document["schema"]["unknown_key_behavior"] == "warn"


def test_mutators_chain_and_keep_call_order() -> None:
    exp = (
        Experiment()
        .command("python", "app.py", "--flag")
        .add_import("defs/options.yaml", package="lib")
        .defaults(params={"seed": 0}, tags=["base"])
    )
    assert list(exp.document) == ["schema", "command", "imports", "defaults"]
    assert exp.document["command"] == {
        "program": "python",
        "args": ["app.py", "--flag"],
    }
    assert exp.document["imports"] == [{"path": "defs/options.yaml", "package": "lib"}]


def test_import_of_a_path_object_without_package() -> None:
    exp = Experiment().add_import(Path("defs") / "a.yaml")
    assert exp.document["imports"] == [{"path": "defs/a.yaml"}]


def test_command_arguments_must_be_strings_q8() -> None:
    with raises(
        "Experiment.command: argument 'args[1]' must be a string, got float 1e-05"
    ):
        Experiment().command("python", "--lr", 1e-5)  # type: ignore[arg-type]


def test_command_config_groups_are_written_and_pass_strict_validation() -> None:
    exp = Experiment().command("python", "app.py", config_groups=["model/encoder"])
    exp.add_pack(
        Pack(
            name="enc", options=[Option(id="vit", params={"model": {"encoder": "vit"}})]
        )
    )
    assert exp.to_dict(strict=True)["command"] == {
        "program": "python",
        "args": ["app.py"],
        "config_groups": ["model/encoder"],
    }


def test_command_config_groups_must_be_strings() -> None:
    with pytest.raises(ConfigError, match=r"config_groups\[0\]"):
        Experiment().command("python", config_groups=[3])  # type: ignore[list-item]


def test_schema_behavior_is_checked() -> None:
    with raises("Experiment.schema_unknown_key_behavior: argument 'behavior' must be"):
        Experiment("ignore")


def test_document_is_a_deep_copy() -> None:
    exp = Experiment().defaults(params={"a": {"b": 1}})
    exp.document["defaults"]["params"]["a"]["b"] = 2
    assert exp.document["defaults"] == {"params": {"a": {"b": 1}}}


def test_empty_defaults_and_merge_remove_the_block() -> None:
    exp = Experiment().defaults(tags=["t"]).merge(mode="none")
    assert exp.document["merge"] == {"mode": "none"}
    exp.defaults().merge(MergeSpec())
    assert "defaults" not in exp.document
    assert "merge" not in exp.document


def test_merge_takes_a_spec_or_fields_not_both() -> None:
    with raises(
        "Experiment.merge: argument 'spec' and keyword fields cannot both be given"
    ):
        Experiment().merge(MergeSpec(mode="none"), mode="merge")


def test_merge_refuses_unknown_fields() -> None:
    with raises("Experiment.merge: argument 'strategy' is not a merge field"):
        Experiment().merge(strategy={"a": "replace"})


def test_select_materialises_groups_and_packs() -> None:
    exp = Experiment().select_group("lib.core")
    assert exp.document["select"] == {"groups": ["lib.core"], "packs": []}
    exp.add_pack(Pack(name="p", options=one_option()))
    exp.add_pack_ref("lib.opt", name="optimizer", exclude_ids=["adam"])
    exp.add_pack_selector(PackSelector(ref="lib.seed"))
    assert exp.document["select"]["packs"] == [
        {"name": "p", "options": [{"id": "a", "params": {"x": "a"}}]},
        {"ref": "lib.opt", "name": "optimizer", "filter": {"exclude_ids": ["adam"]}},
        {"ref": "lib.seed"},
    ]


def test_constraints_materialise_all_three_lists() -> None:
    exp = Experiment().include({"model": "small"})
    assert exp.document["constraints"] == {
        "include": [{"when": {"model": ["small"]}}],
        "exclude": [],
        "predicates": [],
    }
    exp.exclude({"model": ["large", "huge"]})
    exp.add_constraint(ConstraintRule(when={"seed": "s1"}, mode="include"))
    exp.add_predicate(match_ids(left_pack="a", right_pack="b", pairs=[("1", "2")]))
    constraints = exp.document["constraints"]
    assert constraints["include"][1] == {"when": {"seed": ["s1"]}}
    assert constraints["exclude"] == [{"when": {"model": ["large", "huge"]}}]
    assert constraints["predicates"][0]["id"] == "match_a_b"


def test_definitions_materialise_all_three_maps() -> None:
    exp = Experiment().add_option_set("/seeds", one_option("s1"))
    assert exp.document["option_sets"] == {
        "/seeds": [{"id": "s1", "params": {"x": "s1"}}]
    }
    assert exp.document["packs"] == {}
    assert exp.document["groups"] == {}
    exp.add_pack_def(
        "seed", Pack(name="seed", options_from=[OptionSource(ref="/seeds")])
    )
    exp.add_pack_def("raw", {"name": "raw", "options": [{"id": "r", "params": {}}]})
    exp.add_group_def("core", [PackSelector(ref="seed"), {"group": "other"}])
    assert exp.document["packs"]["seed"] == {
        "name": "seed",
        "options_from": [{"ref": "/seeds"}],
    }
    assert exp.document["groups"]["core"] == [{"ref": "seed"}, {"group": "other"}]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda e: e.add_option_set("s", []),
            "Experiment.add_option_set: argument 'options' must hold at least one Option",
        ),
        (
            lambda e: e.add_group_def("g", []),
            "Experiment.add_group_def: argument 'selectors' must hold at least one selector",
        ),
        (
            lambda e: e.add_pack({"name": "p"}),
            "Experiment.add_pack: argument 'pack' must be a Pack",
        ),
        (
            lambda e: e.add_pack_def(" ", {}),
            "Experiment.add_pack_def: argument 'name' must be a non-empty string",
        ),
        (
            lambda e: e.add_run_set("r", {"extends": []}),
            "Experiment.add_run_set: argument 'spec' must be a RunSetSpec",
        ),
        (
            lambda e: e.add_import("x.yaml", package=" "),
            "Experiment.add_import: argument 'package' must be a non-empty string",
        ),
    ],
)
def test_builder_refusals(build: Any, message: str) -> None:
    with raises(message):
        build(Experiment())


def test_run_set_accepts_specs_inside() -> None:
    exp = Experiment().run_set(
        "fast",
        extends=["base"],
        append={"defaults": {"tags": ["fast"]}},
        patch_packs={"opt": Pack(name="opt", options=one_option("sgd"))},
    )
    exp.add_run_set("base", RunSetSpec(replace={"select": {"groups": ["lib.core"]}}))
    assert exp.document["run_sets"] == {
        "fast": {
            "extends": ["base"],
            "append": {"defaults": {"tags": ["fast"]}},
            "patch_packs": {
                "opt": {
                    "name": "opt",
                    "options": [{"id": "sgd", "params": {"x": "sgd"}}],
                }
            },
        },
        "base": {"replace": {"select": {"groups": ["lib.core"]}}},
    }


def test_variant_extends_and_replaces_the_selection() -> None:
    exp = Experiment().variant(
        "ablation",
        extends=["base"],
        append={"select": {"packs": [{"ref": "x"}]}, "defaults": {"tags": ["abl"]}},
        append_packs=[PackSelector(ref="y")],
        append_groups=["lib.extra"],
        replace_groups=[],
    )
    assert exp.document["run_sets"]["ablation"] == {
        "extends": ["base"],
        "append": {
            "select": {"packs": [{"ref": "x"}, {"ref": "y"}], "groups": ["lib.extra"]},
            "defaults": {"tags": ["abl"]},
        },
        "replace": {"select": {"groups": []}},
    }


def test_variant_without_selection_changes() -> None:
    exp = Experiment().variant("plain", replace={"merge": {"mode": "none"}})
    assert exp.document["run_sets"]["plain"] == {"replace": {"merge": {"mode": "none"}}}


def test_yaml_is_block_style_two_space_ascii() -> None:
    exp = Experiment().command("python", "é")
    exp.add_pack(Pack(name="p", options=one_option()))
    text = exp.to_yaml(strict=False)
    assert text.startswith(
        "schema:\n  version: 4\n  unknown_key_behavior: error\ncommand:\n"
    )
    assert '  args:\n    - "\\xE9"\n' in text
    assert text.isascii()
    assert "{" not in text


def test_yaml_sort_keys() -> None:
    text = Experiment().command("python").to_yaml(strict=False, sort_keys=True)
    assert text.splitlines()[0] == "command:"


def test_to_dict_without_strict_is_the_document() -> None:
    exp = Experiment().command("python")
    assert exp.to_dict(strict=False) == exp.document


@pytest.mark.parametrize("option_id", HOSTILE_IDS)
def test_hostile_ids_survive_the_yaml_round_trip(option_id: str) -> None:
    exp = Experiment().command("python", option_id)
    exp.add_pack(Pack(name=option_id, options=one_option(option_id)))
    exp.exclude({option_id: option_id})
    exp.add_predicate(
        match_ids(left_pack=option_id, right_pack="b", pairs=[(option_id, "x")])
    )
    loaded = yaml.safe_load(exp.to_yaml(strict=False))
    assert loaded == exp.document
    assert loaded["select"]["packs"][0]["options"][0]["id"] == option_id.strip()
    assert loaded["constraints"]["exclude"] == [
        {"when": {option_id.strip(): [option_id.strip()]}}
    ]


keys = st.text().filter(lambda k: "." not in k)
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(key=keys, value=plain_values)
def test_any_params_round_trip_through_yaml(key: str, value: Any) -> None:
    exp = Experiment().defaults(params={"p": {key: value}})
    assert yaml.safe_load(exp.to_yaml(strict=False)) == exp.document
