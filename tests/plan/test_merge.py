"""Parameter merge (M4–M8) with the Q10, Q11 and Q43 decisions."""

from __future__ import annotations

from typing import Any

import pytest

from geryon.errors import ConfigError

from .conftest import merged_params, packs_doc, stream_of


def one(option_id: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": option_id, "params": params}]


def doc(*params: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """One pack per params mapping, one option each."""
    return packs_doc(*(one(f"o{i}", p) for i, p in enumerate(params)), **extra)


def test_m4_defaults_start_and_are_overridden_also_under_mode_none() -> None:
    document = doc(
        {"a": {"x": 2}},
        defaults={"params": {"a": {"x": 1, "y": 1}, "keep": "__delete__"}},
        merge={"mode": "none"},
    )
    assert merged_params(document) == [{"a": {"x": 2, "y": 1}, "keep": "__delete__"}]
    counters = stream_of(document).merge_stats.counters
    assert counters["override_default"] == 1


def test_m5_lower_priority_merges_first_and_higher_wins() -> None:
    document = doc({"lr": 1}, {"lr": 2})
    document["packs"][0]["priority"] = 5
    assert merged_params(document) == [{"lr": 1}]
    stats = stream_of(document).merge_stats
    assert stats.counters["priority_override"] == 1
    assert stats.samples["priority_override"][0] == {
        "path": "lr",
        "previous_source": "p1[0]",
        "current_source": "p0[0]",
        "previous_value": 2,
        "current_value": 1,
    }


def test_m6_equal_priority_conflict_names_sources_and_selection() -> None:
    with pytest.raises(ConfigError) as caught:
        stream_of(doc({"lr": 1}, {"lr": 2}))
    text = str(caught.value)
    assert "Parameter conflict at equal priority at 'lr'" in text
    assert "p0[0] (priority 0) set 1" in text
    assert "selected options: p0=o0, p1=o1" in text
    assert caught.value.key_path == "packs[1].options[0].params.lr"


def test_m6_equal_values_are_an_equal_overlap() -> None:
    stats = stream_of(doc({"lr": 1}, {"lr": 1})).merge_stats
    assert stats.counters["equal_overlap"] == 1
    assert stats.top_paths("equal_overlap") == [{"path": "lr", "count": 1}]


def test_equal_means_same_json_value() -> None:
    with pytest.raises(ConfigError, match="equal priority"):
        stream_of(doc({"flag": 1}, {"flag": True}))


def test_m6_mode_none_rejects_even_equal_values() -> None:
    with pytest.raises(ConfigError, match=r"merge\.mode=none does not allow overlaps"):
        stream_of(doc({"lr": 1}, {"lr": 1}, merge={"mode": "none"}))


def test_m7_mode_none_allows_sibling_keys() -> None:
    document = doc({"a": {"x": 1}}, {"a": {"y": 2}}, merge={"mode": "none"})
    assert merged_params(document) == [{"a": {"x": 1, "y": 2}}]


def test_m6_delete_applied_and_noop() -> None:
    document = doc(
        {"a": {"x": 1, "y": 2}, "b": 1},
        {"a": {"x": "__delete__"}, "c": "__delete__"},
    )
    assert merged_params(document) == [{"a": {"y": 2}, "b": 1}]
    counters = stream_of(document).merge_stats.counters
    assert (counters["delete_applied"], counters["delete_noop"]) == (1, 1)


def test_m7_subtree_emptied_by_deletes_stays_as_empty_mapping() -> None:
    document = doc({"a": {"x": 1}}, {"a": {"x": "__delete__"}})
    assert merged_params(document) == [{"a": {}}]


def test_custom_delete_sentinel() -> None:
    document = doc({"a": 1}, {"a": "DROP"}, merge={"delete_sentinel": "DROP"})
    assert merged_params(document) == [{}]


def test_m7_delete_order_depends_on_merge_order() -> None:
    set_then_delete = doc({"a": 1}, {"a": "__delete__"})
    delete_then_set = doc({"a": "__delete__"}, {"a": 1})
    assert merged_params(set_then_delete) == [{}]
    assert merged_params(delete_then_set) == [{"a": 1}]


def test_q10_sentinel_inside_new_mapping_is_interpreted() -> None:
    document = doc({"a": {"x": "__delete__", "y": 1}})
    assert merged_params(document) == [{"a": {"y": 1}}]
    assert stream_of(document).merge_stats.counters["delete_noop"] == 1


def test_q10_sentinel_inside_list_is_a_value() -> None:
    assert merged_params(doc({"a": ["__delete__"]})) == [{"a": ["__delete__"]}]


def test_strategy_error_blocks_even_defaults_and_equal_values() -> None:
    document = doc(
        {"a": 1},
        defaults={"params": {"a": 1}},
        merge={"strategies": {"a": "error"}},
    )
    with pytest.raises(ConfigError, match=r"blocked by merge\.strategies"):
        stream_of(document)


def test_strategy_replace_ignores_priority() -> None:
    document = doc({"a": [1]}, {"a": [2]}, merge={"strategies": {"a": "replace"}})
    assert merged_params(document) == [{"a": [2]}]
    assert stream_of(document).merge_stats.counters["strategy_replace"] == 1


def test_strategy_deep_merge_recurses_and_checks_types() -> None:
    merged = doc(
        {"a": {"b": {"x": 1}}},
        {"a": {"b": {"y": 2}}},
        merge={"strategies": {"a": "deep_merge"}},
    )
    assert merged_params(merged) == [{"a": {"b": {"x": 1, "y": 2}}}]
    wrong = doc({"a": {"x": 1}}, {"a": 3}, merge={"strategies": {"a": "deep_merge"}})
    with pytest.raises(ConfigError, match="deep_merge at 'a' needs two mappings"):
        stream_of(wrong)


def test_strategy_append_unique_keeps_first_occurrences() -> None:
    document = doc(
        {"cb": [1, 1, {"k": 1}]},
        {"cb": [{"k": 1}, 2, 1]},
        merge={"strategies": {"cb": "append_unique"}},
    )
    assert merged_params(document) == [{"cb": [1, {"k": 1}, 2]}]


def test_q11_set_union_sorts_numbers_numerically() -> None:
    document = doc(
        {"s": [10, 2, 1]},
        {"s": [3, "b", "a"]},
        merge={"strategies": {"s": "set_union"}},
    )
    assert merged_params(document) == [{"s": [1, 2, 3, 10, "a", "b"]}]
    bad = doc({"s": [1]}, {"s": 2}, merge={"strategies": {"s": "set_union"}})
    with pytest.raises(ConfigError, match="needs two lists"):
        stream_of(bad)


def test_strategy_path_is_exact_and_applies_to_nested_keys() -> None:
    document = doc(
        {"t": {"cb": [1]}},
        {"t": {"cb": [2]}},
        merge={"strategies": {"t.cb": "append_unique"}},
    )
    assert merged_params(document) == [{"t": {"cb": [1, 2]}}]


def test_q43_pack_leaf_inside_default_mapping_cannot_be_wiped_silently() -> None:
    document = doc({"a": {"c": 1}}, {"a": 5}, defaults={"params": {"a": {"b": 1}}})
    with pytest.raises(ConfigError, match="equal priority at 'a'"):
        stream_of(document)
    under_none = {**document, "merge": {"mode": "none"}}
    with pytest.raises(ConfigError, match="mode=none"):
        stream_of(under_none)


def test_q43_higher_priority_may_replace_the_mapping() -> None:
    document = doc({"a": {"c": 1}}, {"a": 5}, defaults={"params": {"a": {"b": 1}}})
    document["packs"][1]["priority"] = 1
    assert merged_params(document) == [{"a": 5}]


def test_m8_counters_cover_every_combination_and_samples_are_capped() -> None:
    options = [{"id": f"o{i}", "params": {"x": i}} for i in range(100)]
    document = packs_doc(options, defaults={"params": {"x": -1}})
    stats = stream_of(document).merge_stats
    assert stats.counters["override_default"] == 100
    assert len(stats.samples["override_default"]) == 64
    assert stats.samples["override_default"][0]["previous_source"] == "defaults"


def test_nested_provenance_of_a_new_mapping_is_kept() -> None:
    with pytest.raises(ConfigError) as caught:
        stream_of(doc({"a": {"b": {"x": 1}}}, {"a": {"b": {"x": 2}}}))
    assert "at 'a.b.x': p0[0] (priority 0) set 1" in str(caught.value)
