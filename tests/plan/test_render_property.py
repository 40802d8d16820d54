"""The incremental renderer gives exactly ``overrides.render_command``'s command and
canonical JSON, whatever the merge did (property test)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from geryon import canonical
from geryon.errors import ConfigError
from geryon.plan.overrides import render_command

from .conftest import packs_doc, stream_of

KEYS = st.sampled_from(["a", "b", "a-b", "a_b", "B", "wandb", "x1"])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.5, 1e-05, 1.0]),
    st.sampled_from(["s", "two words", "it's", "1", "__delete__", "é"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=2), st.dictionaries(KEYS, inner, max_size=3)
    ),
    max_leaves=6,
)
PARAMS = st.dictionaries(KEYS, VALUES, max_size=3)
PACK = st.lists(PARAMS, min_size=1, max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(PACK, min_size=1, max_size=3), st.lists(st.integers(0, 1), max_size=3))
def test_incremental_render_matches_render_command(
    packs: list[list[dict[str, Any]]], priorities: list[int]
) -> None:
    document = packs_doc(
        *[
            [{"id": f"o{i}", "tag": f"t{i}", "params": p} for i, p in enumerate(pack)]
            for pack in packs
        ],
        defaults={"params": {"a": {"d": 1}, "wandb": {"project": "p"}}},
    )
    for pack, priority in zip(document["packs"], priorities, strict=False):
        pack["priority"] = priority
    sink = Capture()
    try:
        configs = stream_of(document, sink=sink).result.preview
    except ConfigError:
        event("rejected")
        return  # conflicts, duplicates and bad wandb values are covered elsewhere
    event("planned")
    assert len(configs) == len(sink.params_json)
    for config, params_json in zip(configs, sink.params_json, strict=True):
        assert config["command"] == render_command("python app.py", config["params"])
        assert params_json == canonical.dumps(config["params"])


class Capture:
    """A sink that keeps the params JSON the writer would write."""

    def __init__(self) -> None:
        self.params_json: list[str] = []

    def add(self, *record: Any) -> None:
        self.params_json.append(record[4])
