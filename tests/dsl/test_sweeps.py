"""Pack helpers (spec Y14–Y17, Q42)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geryon.dsl import (
    TaggedParams,
    pack_map,
    pack_param_linspace,
    pack_param_logspace,
    pack_param_values,
)
from geryon.errors import ConfigError


def ids(pack_dict: dict[str, Any]) -> list[str]:
    return [option["id"] for option in pack_dict["options"]]


def raises(pattern: str) -> pytest.RaisesContext[ConfigError]:
    return pytest.raises(ConfigError, match=re.escape(pattern))


def test_values_nest_under_the_param_path() -> None:
    pack = pack_param_values(
        pack_name="lr", param_path="train..lr.", values=[0.1]
    ).to_dict()
    assert pack == {
        "name": "lr",
        "options": [{"id": "0.1", "params": {"train": {"lr": 0.1}}}],
    }


@pytest.mark.parametrize(
    ("value", "option_id"),
    [
        (0.001, "0.001"),
        (1e-05, "1e-05"),
        (1e8, "1e_08"),
        (1 / 3, "0.333333"),
        (True, "True"),
        (None, "None"),
        (7, "7"),
        ("a b", "a_b"),
        ("  ", "v"),
        ("__x__", "x"),
        ("naïve/ü", "na_ve"),
    ],
)
def test_value_tokens(value: object, option_id: str) -> None:
    pack = pack_param_values(pack_name="p", param_path="x", values=[value]).to_dict()
    assert ids(pack) == [option_id]


def test_prefixes_and_repeated_ids_get_the_position() -> None:
    pack = pack_param_values(
        pack_name="bs",
        param_path="train.batch_size",
        values=[16, 32, 16.0, "16"],
        id_prefix="bs",
        tag_prefix="batch",
    ).to_dict()
    assert ids(pack) == ["bs_16", "bs_32", "bs_16_02", "bs_16_03"]
    assert [option["tag"] for option in pack["options"]] == [
        "batch:16",
        "batch:32",
        "batch:16",
        "batch:16",
    ]


def test_tags_are_prefix_colon_token() -> None:
    pack = pack_param_values(
        pack_name="p", param_path="x", values=[1, 2, 1], tag_prefix="x"
    ).to_dict()
    assert [option["tag"] for option in pack["options"]] == ["x:1", "x:2", "x:1"]


def test_blank_id_prefix_means_none() -> None:
    pack = pack_param_values(pack_name="p", param_path="x", values=[1], id_prefix=" ")
    assert ids(pack.to_dict()) == ["1"]


def test_value_to_id_is_sanitised() -> None:
    pack = pack_param_values(
        pack_name="m",
        param_path="model",
        values=[{"w": 1}],
        value_to_id=lambda v: "w=1",
    ).to_dict()
    assert pack["options"] == [{"id": "w_1", "params": {"model": {"w": 1}}}]


def test_ids_that_still_collide_are_refused() -> None:
    with raises("pack_param_values: argument 'values' give the option id 'a_02' twice"):
        pack_param_values(pack_name="p", param_path="x", values=["a_02", "a", "a"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"values": []}, "argument 'values' must not be empty"),
        ({"values": "abc"}, "argument 'values' must be a list or tuple"),
        (
            {"values": [1], "param_path": ".."},
            "argument 'param_path' must name a parameter",
        ),
        (
            {"values": [1], "pack_name": ""},
            "argument 'pack_name' must be a non-empty string",
        ),
    ],
)
def test_values_refusals(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"pack_name": "p", "param_path": "x", **kwargs}
    with raises(f"pack_param_values: {message}"):
        pack_param_values(**arguments)


def test_linspace_keeps_exact_floats_and_rounds_ids() -> None:
    pack = pack_param_linspace(
        pack_name="w", param_path="wd", start=0, stop=1, num=4, id_prefix="wd"
    ).to_dict()
    assert ids(pack) == ["wd_0", "wd_0.333333", "wd_0.666667", "wd_1"]
    assert [o["params"]["wd"] for o in pack["options"]] == [0.0, 1 / 3, 2 / 3, 1.0]


def test_linspace_single_value_is_start() -> None:
    pack = pack_param_linspace(pack_name="w", param_path="wd", start=2, stop=9, num=1)
    assert pack.to_dict()["options"] == [{"id": "2", "params": {"wd": 2.0}}]


def test_linspace_rejects_non_positive_num() -> None:
    with raises("pack_param_linspace: argument 'num' must be positive; got 0"):
        pack_param_linspace(pack_name="w", param_path="wd", start=0, stop=1, num=0)


def test_logspace_values_and_ids() -> None:
    pack = pack_param_logspace(
        pack_name="lr",
        param_path="opt.lr",
        start_exp=-5,
        stop_exp=-3,
        num=3,
        tag_prefix="lr",
    ).to_dict()
    assert ids(pack) == ["1e-05", "0.0001", "0.001"]
    assert [o["params"]["opt"]["lr"] for o in pack["options"]] == [
        10.0**-5,
        10.0**-4,
        10.0**-3,
    ]
    assert [o["tag"] for o in pack["options"]] == ["lr:1e-05", "lr:0.0001", "lr:0.001"]


def test_logspace_base_two() -> None:
    pack = pack_param_logspace(
        pack_name="w", param_path="w", start_exp=4, stop_exp=6, num=3, base=2
    ).to_dict()
    assert [o["params"]["w"] for o in pack["options"]] == [16.0, 32.0, 64.0]


@pytest.mark.parametrize("base", [1.0, 1 + 1e-12, 0, -2])
def test_logspace_rejects_bad_base(base: float) -> None:
    with raises("pack_param_logspace: argument 'base' must be positive and not 1"):
        pack_param_logspace(
            pack_name="w", param_path="w", start_exp=0, stop_exp=1, num=2, base=base
        )


def test_pack_map_plain_mappings_are_params_and_get_prefixed_tags() -> None:
    pack = pack_map(
        pack_name="model",
        options={" small ": {"model": {"width": 64}}, "x y": {}},
        tag_prefix="m",
    ).to_dict()
    assert pack["options"] == [
        {"id": "small", "params": {"model": {"width": 64}}, "tag": "m:small"},
        {"id": "x y", "params": {}, "tag": "m:x_y"},
    ]


def test_pack_map_key_named_params_is_just_a_param_q42() -> None:
    pack = pack_map(
        pack_name="p", options={"a": {"params": {"x": 1}, "tag": "t"}}
    ).to_dict()
    assert pack["options"] == [{"id": "a", "params": {"params": {"x": 1}, "tag": "t"}}]


def test_pack_map_tagged_params_carry_their_own_tag() -> None:
    pack = pack_map(
        pack_name="p",
        options={"a": TaggedParams(params={"x": 1}, tag="mine"), "b": TaggedParams()},
        tag_prefix="ignored",
    ).to_dict()
    assert pack["options"] == [
        {"id": "a", "params": {"x": 1}, "tag": "mine"},
        {"id": "b", "params": {}},
    ]


def test_pack_map_refusals() -> None:
    with raises("pack_map: argument 'options' must not be empty"):
        pack_map(pack_name="p", options={})
    with raises("pack_map: argument 'options['a']' must be a mapping, got list"):
        pack_map(pack_name="p", options={"a": [1]})  # type: ignore[dict-item]
    with raises(
        "pack_map: argument 'options['a']' has a dotted key at options['a'].b.c"
    ):
        pack_map(pack_name="p", options={"a": {"b.c": 1}})


@settings(max_examples=80, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.integers(-3, 3), st.sampled_from(["a", "a_01", "a_02", "a b", " "])
        ),
        min_size=1,
        max_size=8,
    )
)
def test_generated_ids_are_unique_or_refused(values: list[Any]) -> None:
    try:
        pack = pack_param_values(pack_name="p", param_path="x", values=values)
    except ConfigError as err:
        assert "twice, even with the position suffix" in str(err)
        return
    option_ids = [option.id for option in pack.options]
    assert len(set(option_ids)) == len(values)
    assert [option.params["x"] for option in pack.options] == values
