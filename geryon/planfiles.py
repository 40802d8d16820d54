"""Readers of a finished plan (``plan/configs.jsonl``, ``plan/batches.jsonl``).

``batches.jsonl`` records carry, besides the spec's ``batch_index``, ``path`` and
``num_commands``, the byte range of the batch's lines in ``configs.jsonl``
(``configs_offset``, ``configs_bytes``), so a batch job reads only its own configs
even when the plan has a million of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from geryon.layout import RunLayout
from geryon.storage import read_jsonl


def load_batches(layout: RunLayout) -> list[dict[str, Any]]:
    """Every batch record, in batch order."""
    return list(read_jsonl(layout.batches_jsonl, strict=True))


def iter_configs(layout: RunLayout) -> Iterator[dict[str, Any]]:
    """Every planned config record (spec A2), in plan order."""
    return read_jsonl(layout.configs_jsonl, strict=True)


def load_batch_configs(
    layout: RunLayout, batch: dict[str, Any]
) -> list[dict[str, Any]]:
    """The config records of one batch (a record of :func:`load_batches`)."""
    offset = batch.get("configs_offset")
    size = batch.get("configs_bytes")
    if offset is None or size is None:
        index = batch["batch_index"]
        return [c for c in iter_configs(layout) if c["batch_index"] == index]
    with Path(layout.configs_jsonl).open("rb") as handle:
        handle.seek(int(offset))
        data = handle.read(int(size))
    return [json.loads(line) for line in data.splitlines() if line.strip()]
