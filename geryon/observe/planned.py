"""The planned configs a status needs (spec O1, O3), read fast from ``plan/configs.jsonl``.

The planner writes canonical JSON, whose first keys are ``batch_index``,
``command``, ``config_id``, ``line_index``; one regular expression takes those from
each line without building the (large) ``params`` objects. Lines it does not match
are parsed with ``json.loads``. Selected options are read only when a grouping
(``--by-pack``) needs them.
"""

from __future__ import annotations

import json
import mmap
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geryon.errors import ConfigError
from geryon.layout import RunLayout
from geryon.storage import read_jsonl

_HEAD = re.compile(
    rb'^\{"batch_index":(\d+),"command":"[^\n]*?","config_id":"([^"\\\n]*)",'
    rb'"line_index":(\d+),',
)
_ID_KEY = b'","config_id":"'
_ID_END = b'","line_index":'
_OPTIONS = re.compile(rb'[^\n]*,"selected_options":(\{[^{}\n]*\})')


@dataclass
class PlannedConfigs:
    """Planned configs in plan order (batch, line, id); duplicates merged (O3, Q16)."""

    config_ids: list[str] = field(default_factory=list)
    batch_of: list[int] = field(default_factory=list)
    position: dict[str, int] = field(default_factory=dict)
    # Extra (batch, line) places of a config id planned more than once.
    extra_places: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    line_of: list[int] = field(default_factory=list)
    options: list[dict[str, str]] | None = None
    num_batches: int = 0

    def __len__(self) -> int:
        return len(self.config_ids)

    def batches_of(self, index: int) -> list[int]:
        batches = [self.batch_of[index]]
        for batch, _line in self.extra_places.get(index, ()):
            if batch not in batches:
                batches.append(batch)
        return batches

    def pack_names(self) -> list[str]:
        names: dict[str, None] = {}
        for options in self.options or ():
            names.update(dict.fromkeys(options))
        return sorted(names)


def load_planned(layout: RunLayout, *, with_options: bool = False) -> PlannedConfigs:
    """Read ``plan/configs.jsonl`` (error when missing, spec O1)."""
    path = layout.configs_jsonl
    if not path.is_file():
        raise ConfigError(
            "Planned configs not found",
            file=path,
            hint="Has 'plan' been run for this run directory? Run "
            "'geryon plan --experiment <yaml> --out <dir> --batch-size <n>' first",
        )
    if not with_options:
        fast = _fast_planned(layout)
        if fast is not None:
            return fast
    planned = PlannedConfigs(options=[] if with_options else None)
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                _add_line(planned, line, number, path_text=str(path))
    planned.num_batches = _count_batches(layout, planned)
    return planned


def _fast_planned(layout: RunLayout) -> PlannedConfigs | None:
    """Config ids by ``bytes.find`` alone, batch and line indices from ``batches.jsonl``.

    The planner writes configs in batch and line order (spec I19), so the n-th id
    of a batch of ``num_commands`` configs has line n. Any surprise (an id that is
    not 40 characters followed by ``line_index``, counts that disagree, a
    duplicate id) returns None and the caller reads every line.
    """
    try:
        batches = [
            (int(b["batch_index"]), int(b["num_commands"]))
            for b in read_jsonl(layout.batches_jsonl, strict=True)
        ]
    except (OSError, KeyError, TypeError, ValueError, ConfigError):
        return None
    ids = _ids_in_file_order(layout.configs_jsonl)
    if ids is None or len(ids) != sum(count for _, count in batches):
        return None
    planned = PlannedConfigs(config_ids=ids)
    planned.position = {config_id: n for n, config_id in enumerate(ids)}
    if len(planned.position) != len(ids):
        return None
    for batch, count in batches:
        planned.batch_of.extend([batch] * count)
        planned.line_of.extend(range(count))
    planned.num_batches = _count_batches(layout, planned)
    return planned


def _ids_in_file_order(path: Path) -> list[str] | None:
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return []
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    with data:
        find = data.find
        ids = []
        pos = find(_ID_KEY)
        while pos >= 0:
            start = pos + len(_ID_KEY)
            if data[start + 40 : start + 40 + len(_ID_END)] != _ID_END:
                return None
            ids.append(data[start : start + 40].decode("ascii"))
            pos = find(_ID_KEY, start + 40)
    return ids


def _add_line(
    planned: PlannedConfigs, line: bytes, number: int, path_text: str
) -> None:
    match = _HEAD.match(line)
    if match is not None:
        batch, line_index = int(match.group(1)), int(match.group(3))
        config_id = match.group(2).decode("utf-8")
        options = _options_of(line) if planned.options is not None else None
    else:
        record = _parse(line, number, path_text)
        config_id = str(record.get("config_id", ""))
        batch = int(record.get("batch_index", 0))
        line_index = int(record.get("line_index", 0))
        raw = record.get("selected_options")
        options = (
            {str(k): str(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        )
    known = planned.position.get(config_id)
    if known is not None:
        planned.extra_places.setdefault(known, []).append((batch, line_index))
        return
    planned.position[config_id] = len(planned.config_ids)
    planned.config_ids.append(config_id)
    planned.batch_of.append(batch)
    planned.line_of.append(line_index)
    if planned.options is not None:
        planned.options.append(options or {})


def _options_of(line: bytes) -> dict[str, str]:
    match = _OPTIONS.match(line)
    if match is not None:
        value = json.loads(match.group(1))
    else:
        value = json.loads(line).get("selected_options")
    if not isinstance(value, dict):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _parse(line: bytes, number: int, path_text: str) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except ValueError as err:
        raise ConfigError(
            f"line {number} is not a complete JSON object",
            file=path_text,
            hint="The plan is damaged; plan the experiment again",
        ) from err
    if not isinstance(value, dict):
        raise ConfigError(
            f"line {number} is not a JSON object",
            file=path_text,
            hint="The plan is damaged; plan the experiment again",
        )
    return value


def _count_batches(layout: RunLayout, planned: PlannedConfigs) -> int:
    """Number of planned batches: run.json's ``num_batches``, else the highest index + 1."""
    if layout.run_json.is_file():
        try:
            value = layout.run_info().get("num_batches")
        except (OSError, ValueError):
            value = None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return max(planned.batch_of, default=-1) + 1
