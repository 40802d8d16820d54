"""The incremental renderer gives exactly ``overrides.render_command``'s command and
canonical JSON, whatever the merge did (property test)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from geryon import canonical
from geryon.errors import ConfigError
from geryon.plan.identity import config_tags, wandb_name
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
TAG = st.sampled_from([None, "t", "it's", "é", "two words", "1", "~z", "[x]", "-"])
PACK = st.lists(st.tuples(PARAMS, TAG), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(PACK, min_size=1, max_size=3),
    st.lists(st.integers(0, 1), max_size=3),
    st.lists(st.sampled_from(["t", "base", "é"]), max_size=2),
)
def test_incremental_render_matches_render_command(
    packs: list[list[tuple[dict[str, Any], str | None]]],
    priorities: list[int],
    default_tags: list[str],
) -> None:
    document = packs_doc(
        *[
            [
                {"id": f"o{i}", "tag": tag, "params": p}
                for i, (p, tag) in enumerate(pack)
            ]
            for pack in packs
        ],
        defaults={
            "params": {"a": {"d": 1}, "wandb": {"project": "p"}},
            "tags": default_tags,
        },
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
        chosen = [
            document["packs"][int(pack[1:])]["options"][int(option_id[1:])]["tag"]
            for pack, option_id in config["selected_options"].items()
        ]
        tags = config_tags(default_tags, chosen)
        assert config["tags"] == config["params"]["wandb"]["tags"] == tags
        assert config["wandb_name"] == wandb_name(tags, config["config_id"])


class Capture:
    """A sink that keeps the params JSON the writer would write."""

    def __init__(self) -> None:
        self.params_json: list[str] = []

    def add(self, *record: Any) -> None:
        self.params_json.append(record[4])


def test_copied_mapping_reuses_pieces_only_for_the_same_children() -> None:
    """A merge's copy of a mapping renders like the original; a copy whose child
    changed renders the new child (the renderer caches pieces by child objects)."""
    from geryon.plan.render import Renderer

    renderer = Renderer("python train.py", {"shared"})
    inner = {"flag": True}
    first = {"deep0": inner, "deep3": {"flag": False}}
    copy = dict(first)
    changed = {**first, "deep3": {"flag": True}}
    fragment, group = renderer.pieces("shared", first)
    assert renderer.pieces("shared", copy) == (fragment, group)
    assert fragment == '"shared":{"deep0":{"flag":true},"deep3":{"flag":false}}'
    new_fragment, new_group = renderer.pieces("shared", changed)
    assert new_fragment == '"shared":{"deep0":{"flag":true},"deep3":{"flag":true}}'
    assert new_group.text == ("++shared.deep0.flag=true ++shared.deep3.flag=true")
