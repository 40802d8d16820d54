"""Artifact lines assembled from cached pieces are exactly the canonical texts.

Packs are listed out of name order and tags hold CSV and shell specials, so the
pieces joined around the last pack (``selected_options``, tag lists, CSV fields)
are checked against canonical JSON and Python's own CSV reader.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from geryon import canonical

from .conftest import packs_doc

TAGS = [None, 'a,"b', "it's", "é", "zz"]  # a0 has none, a1 "zz", a2 "é"


def _document() -> dict[str, Any]:
    document = packs_doc(
        [{"id": f"z{i}", "tag": TAGS[i], "params": {"z": i}} for i in range(3)],
        [{"id": "m0", "params": {"m": 0}}, {"id": "m1", "tag": "m", "params": {}}],
        [{"id": f"a{i}", "tag": TAGS[-i], "params": {"a": i}} for i in range(3)],
    )
    for pack, name in zip(document["packs"], ["zeta", "mid", "alpha"], strict=True):
        pack["name"] = name
    return document


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_lines_are_canonical_and_csv_matches_jsonl(plan_doc: Any) -> None:
    result = plan_doc(_document(), batch_size=4)
    plan = result.run_root / "plan"
    configs = [json.loads(line) for line in _lines(plan / "configs.jsonl")]
    assert len(configs) == 18
    for line, config in zip(_lines(plan / "configs.jsonl"), configs, strict=True):
        assert line == canonical.dumps(config) + "\n"
    first = configs[0]["selected_options"]
    assert list(first) == ["alpha", "mid", "zeta"]
    assert first == {"alpha": "a0", "mid": "m0", "zeta": "z0"}
    assert configs[-1]["selected_options"] == {"alpha": "a2", "mid": "m1", "zeta": "z2"}
    assert [] in [c["tags"] for c in configs]  # z0, m0 and a0: no tags at all
    assert _lines(plan / "manifest.jsonl") == [
        canonical.dumps(
            {
                "id": c["config_id"],
                "params": c["params"],
                "tags": c["tags"],
                "wandb_name": c["wandb_name"],
            }
        )
        + "\n"
        for c in configs
    ]
    with (plan / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["id", "wandb_name", "tags", "params"]
    assert rows[1:] == [
        [
            c["config_id"],
            c["wandb_name"],
            canonical.dumps(c["tags"]),
            canonical.dumps(c["params"]),
        ]
        for c in configs
    ]
