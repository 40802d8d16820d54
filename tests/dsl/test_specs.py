"""Spec value objects (spec Y1–Y10): normalisation, output shape, refusals."""

from __future__ import annotations

import dataclasses
import re

import pytest

from geryon.dsl import (
    DefaultsSpec,
    MergeSpec,
    Option,
    OptionSource,
    Pack,
    PackSelector,
    RunSetSpec,
)
from geryon.errors import ConfigError


def raises(pattern: str) -> pytest.RaisesContext[ConfigError]:
    return pytest.raises(ConfigError, match=re.escape(pattern))


def test_option_source_trims_drops_blanks_and_repeats() -> None:
    source = OptionSource(ref=" lib.seeds ", include_ids=[" a", "b", "", "a", "  "])
    assert source.to_dict() == {"ref": "lib.seeds", "include_ids": ["a", "b"]}


def test_option_source_omits_empty_id_lists() -> None:
    assert OptionSource(ref="s", exclude_ids=("x",)).to_dict() == {
        "ref": "s",
        "exclude_ids": ["x"],
    }


@pytest.mark.parametrize("ref", ["", "   "])
def test_option_source_rejects_blank_ref(ref: str) -> None:
    with raises("OptionSource: argument 'ref' must be a non-empty string"):
        OptionSource(ref=ref)


def test_option_source_rejects_a_bare_string_id_list() -> None:
    with raises("OptionSource: argument 'include_ids' must be a list or tuple"):
        OptionSource(ref="s", include_ids="abc")


def test_option_source_rejects_non_string_ids() -> None:
    with raises("OptionSource: argument 'exclude_ids[1]' must be a string, got 3"):
        OptionSource(ref="s", exclude_ids=["a", 3])


def test_option_renders_id_params_and_tag() -> None:
    option = Option(id=" small ", params={"model": {"width": 64}}, tag=" s ")
    assert option.to_dict() == {
        "id": "small",
        "params": {"model": {"width": 64}},
        "tag": "s",
    }


def test_option_id_alias_and_no_tag() -> None:
    assert Option(option_id="x", params={}).to_dict() == {"id": "x", "params": {}}


@pytest.mark.parametrize("kwargs", [{}, {"id": "a", "option_id": "a"}])
def test_option_needs_exactly_one_id(kwargs: dict[str, str]) -> None:
    with raises("Option: argument 'id' must be given exactly once"):
        Option(params={}, **kwargs)


def test_option_deep_copies_params() -> None:
    params = {"a": {"b": [1, 2]}}
    option = Option(id="x", params=params)
    params["a"]["b"].append(3)
    rendered = option.to_dict()
    rendered["params"]["a"]["b"].append(4)
    assert option.to_dict()["params"] == {"a": {"b": [1, 2]}}


def test_option_rejects_dotted_keys_at_any_depth() -> None:
    with raises("Option: argument 'params' has a dotted key at params.a[0].b.c"):
        Option(id="x", params={"a": [{"b.c": 1}]})


def test_option_rejects_values_yaml_cannot_hold() -> None:
    with raises("Option: argument 'params' holds set {1} at params.a"):
        Option(id="x", params={"a": {1}})


def test_option_rejects_blank_tag() -> None:
    with raises("Option: argument 'tag' must be a non-empty string"):
        Option(id="x", params={}, tag=" ")


def test_option_rejects_non_string_id() -> None:
    with raises("Option: argument 'id' must be a string, got int 1"):
        Option(id=1, params={})  # type: ignore[arg-type]


def test_option_is_immutable() -> None:
    option = Option(id="x", params={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        option.id = "y"  # type: ignore[misc]


def test_specs_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        Pack("p", [Option(id="a", params={})])  # type: ignore[misc]


def test_pack_renders_sources_before_options_and_nonzero_priority() -> None:
    pack = Pack(
        name=" opt ",
        options=[Option(id="sgd", params={"opt": "sgd"})],
        options_from=[OptionSource(ref="lib.opts")],
        priority=2,
    )
    assert list(pack.to_dict()) == ["name", "options_from", "options", "priority"]
    assert pack.to_dict()["name"] == "opt"


def test_pack_omits_zero_priority() -> None:
    assert (
        "priority" not in Pack(name="p", options_from=[OptionSource(ref="s")]).to_dict()
    )


def test_pack_needs_options_or_sources() -> None:
    with raises("Pack: argument 'options' and 'options_from' are both empty"):
        Pack(name="p")


def test_pack_rejects_boolean_priority() -> None:
    with raises("Pack: argument 'priority' must be an integer, got bool True"):
        Pack(name="p", options=[Option(id="a", params={})], priority=True)


def test_pack_rejects_mapping_options() -> None:
    with raises("Pack: argument 'options[0]' must be an Option"):
        Pack(name="p", options=[{"id": "a", "params": {}}])  # type: ignore[list-item]


def test_pack_selector_renders_every_field() -> None:
    selector = PackSelector(
        ref="lib.arch",
        name="architecture",
        priority=0,
        replace_options=False,
        options_from=[OptionSource(ref="lib.more")],
        options=[Option(id="c", params={"m": "c"})],
        include_ids=["a", "c"],
        exclude_ids=["b"],
    )
    assert selector.to_dict() == {
        "ref": "lib.arch",
        "name": "architecture",
        "priority": 0,
        "replace_options": False,
        "options_from": [{"ref": "lib.more"}],
        "options": [{"id": "c", "params": {"m": "c"}}],
        "filter": {"include_ids": ["a", "c"], "exclude_ids": ["b"]},
    }


def test_pack_selector_minimal() -> None:
    assert PackSelector(ref="x").to_dict() == {"ref": "x"}


def test_pack_selector_rejects_non_bool_replace_options() -> None:
    with raises("PackSelector: argument 'replace_options' must be a boolean, got 1"):
        PackSelector(ref="x", replace_options=1)  # type: ignore[arg-type]


def test_defaults_spec_omits_empty_fields() -> None:
    assert DefaultsSpec().to_dict() == {}
    assert DefaultsSpec(tags=["b", " ", "b", "a"]).to_dict() == {"tags": ["b", "a"]}


def test_defaults_spec_checks_dotted_keys() -> None:
    with raises("DefaultsSpec: argument 'params' has a dotted key at params.train.lr"):
        DefaultsSpec(params={"train.lr": 1})


def test_merge_spec_only_given_fields() -> None:
    assert MergeSpec().to_dict() == {}
    spec = MergeSpec(
        mode="none", strategies={" a.b ": "append_unique"}, delete_sentinel="X"
    )
    assert spec.to_dict() == {
        "mode": "none",
        "strategies": {"a.b": "append_unique"},
        "delete_sentinel": "X",
    }


def test_merge_spec_rejects_unknown_strategy() -> None:
    with raises("MergeSpec: argument 'strategies['a']' must be one of error, replace"):
        MergeSpec(strategies={"a": "sum"})


def test_merge_spec_rejects_unknown_mode() -> None:
    with raises("MergeSpec: argument 'mode' must be one of merge, none; got 'strict'"):
        MergeSpec(mode="strict")


def test_run_set_spec_renders_only_non_empty_fields() -> None:
    spec = RunSetSpec(
        extends=["base"],
        append={
            "select": {"packs": [Pack(name="p", options=[Option(id="a", params={})])]}
        },
        patch_packs={"opt": PackSelector(ref="lib.opt", include_ids=["sgd"])},
    )
    assert spec.to_dict() == {
        "extends": ["base"],
        "append": {
            "select": {"packs": [{"name": "p", "options": [{"id": "a", "params": {}}]}]}
        },
        "patch_packs": {"opt": {"ref": "lib.opt", "filter": {"include_ids": ["sgd"]}}},
    }


def test_run_set_spec_rejects_unknown_roots() -> None:
    with raises(
        "RunSetSpec: argument 'replace' has the root 'command'; allowed roots are"
    ):
        RunSetSpec(replace={"command": {"program": "x"}})


def test_run_set_spec_rejects_non_mapping_patch() -> None:
    with raises(
        "RunSetSpec: argument 'patch_packs['opt']' must be a Pack, PackSelector"
    ):
        RunSetSpec(patch_packs={"opt": ["sgd"]})
