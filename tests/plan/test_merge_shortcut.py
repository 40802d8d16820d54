"""The planner's plain-insert shortcuts give what the full merge gives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from geryon.errors import ConfigError
from geryon.plan import normalise
from geryon.plan.merge import MergeContext, initial_state, merge_option, merge_order

from .conftest import FILE, merged_params, packs_doc, stream_of

KEYS = st.sampled_from(["a", "b", "c"])
LEAVES = st.one_of(st.integers(0, 2), st.just("__delete__"))
NESTED = st.dictionaries(
    KEYS, st.one_of(LEAVES, st.dictionaries(KEYS, LEAVES, max_size=2)), max_size=2
)
PARAMS = st.dictionaries(KEYS, st.one_of(LEAVES, NESTED), max_size=3)
STRATEGIES = st.dictionaries(
    st.sampled_from(["a", "b", "a.b"]),
    st.sampled_from(["error", "replace", "deep_merge"]),
    max_size=2,
)


def full_merges(document: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    """Params and event count of every combination, by merge_option alone."""
    experiment = normalise(document, FILE)
    context = MergeContext(experiment.merge, str(FILE))
    results = []
    for first in experiment.packs[0].options:
        for last in experiment.packs[1].options:
            combo = (first, last)
            state = initial_state(experiment.default_params)
            for option in merge_order(list(combo)):
                state = merge_option(context, state, option, combo)
            results.append((state.params, len(state.events)))
    return results


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(PARAMS, min_size=1, max_size=3),
    st.lists(PARAMS, min_size=1, max_size=3),
    STRATEGIES,
    st.integers(0, 1),
)
def test_stream_merges_like_merge_option(
    first: list[dict[str, Any]],
    last: list[dict[str, Any]],
    strategies: dict[str, str],
    priority: int,
) -> None:
    document = packs_doc(
        [{"id": f"o{i}", "tag": f"f{i}", "params": p} for i, p in enumerate(first)],
        [{"id": f"o{i}", "tag": f"l{i}", "params": p} for i, p in enumerate(last)],
        defaults={"params": {"a": {"d": 1}}},
        merge={"strategies": strategies},
    )
    document["packs"][1]["priority"] = priority
    try:
        expected = full_merges(document)
    except ConfigError:
        event("rejected")
        with pytest.raises(ConfigError):
            stream_of(document)
        return
    event("planned")
    stream = stream_of(document)
    planned = [
        {k: v for k, v in c["params"].items() if k != "wandb"}
        for c in stream.result.preview
    ]
    assert planned == [params for params, _ in expected]
    counters = stream.merge_stats.counters
    assert sum(counters.values()) == sum(count for _, count in expected)


def test_last_option_adding_inside_a_shared_mapping_keeps_both() -> None:
    """The bench's shape: the last pack adds a new key inside ``shared``."""
    document = packs_doc(
        [{"id": "x", "tag": "x", "params": {"shared": {"p0": {"flag": True}}}}],
        [
            {"id": "y", "tag": "y", "params": {"shared": {"p1": {"flag": False}}}},
            {"id": "z", "tag": "z", "params": {"shared": {"p0": {"flag": False}}}},
        ],
    )
    document["packs"][1]["priority"] = 1
    assert merged_params(document) == [
        {"shared": {"p0": {"flag": True}, "p1": {"flag": False}}},
        {"shared": {"p0": {"flag": False}}},
    ]


def test_strategy_on_the_shared_key_still_applies_to_the_last_option() -> None:
    document = packs_doc(
        [{"id": "x", "tag": "x", "params": {"s": {"a": 1}}}],
        [{"id": "y", "tag": "y", "params": {"s": {"b": 2}}}],
        merge={"strategies": {"s": "error"}},
    )
    with pytest.raises(ConfigError, match=r"blocked by merge\.strategies"):
        stream_of(document)
