"""The planned configs a status needs (spec O1, O3), read fast from ``plan/configs.jsonl``.

The planner writes canonical JSON, whose first keys are ``batch_index``,
``command``, ``config_id``, ``line_index``. Without a grouping, one ``findall``
over the mapped file takes every 40-character id and ``batches.jsonl`` gives the
batch and line of each (a million configs in about half a second); otherwise, or
when the counts disagree, one regular expression takes those keys from each line
without building the (large) ``params`` objects, and lines it does not match are
parsed with ``json.loads``. Selected options are read only when a grouping
(``--by-pack``) needs them.
"""

from __future__ import annotations

import itertools
import json
import mmap
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geryon.errors import ConfigError
from geryon.layout import RunLayout

_HEAD = re.compile(
    rb'^\{"batch_index":(\d+),"command":"[^\n]*?","config_id":"([^"\\\n]*)",'
    rb'"line_index":(\d+),',
)
_ID = re.compile(rb'","config_id":"([^"\\\n]{40})","line_index":\d')
_BATCH_LINE = re.compile(
    rb'\{"batch_index":(\d+),(?:"configs_bytes":\d+,"configs_offset":\d+,)?'
    rb'"num_commands":(\d+),"path":"[^"\\]*"\}\Z'
)
_OPTIONS = re.compile(rb'[^\n]*,"selected_options":(\{[^{}\n]*\})')
# The same, for every line of a file at once.
_ALL_OPTIONS = re.compile(b"^" + _OPTIONS.pattern, re.M)
_STRINGS = frozenset({str})


@dataclass
class PlannedConfigs:
    """Planned configs in plan order (batch, line, id); duplicates merged (O3, Q16)."""

    config_ids: list[str] = field(default_factory=list)
    batch_of: list[int] = field(default_factory=list)
    # Config id -> position; built on first use (see ``position``).
    positions: dict[str, int] | None = None
    # Extra (batch, line) places of a config id planned more than once.
    extra_places: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    line_of: list[int] = field(default_factory=list)
    options: list[dict[str, str]] | None = None
    num_batches: int = 0
    # The ids as UTF-8 bytes, the scanner's keys (filled by the fast reader).
    raw_ids: list[bytes] | None = None

    def __len__(self) -> int:
        return len(self.config_ids)

    @property
    def position(self) -> dict[str, int]:
        """Config id -> its position in plan order (a quarter second for 1M ids,
        so only built when a caller looks ids up one by one)."""
        if self.positions is None:
            ids = self.config_ids
            self.positions = dict(zip(ids, range(len(ids)), strict=True))
        return self.positions

    def id_bytes(self) -> list[bytes]:
        """The config ids as bytes, in plan order (for bulk record lookups)."""
        if self.raw_ids is None:
            self.raw_ids = [config_id.encode("utf-8") for config_id in self.config_ids]
        return self.raw_ids

    def batches_of(self, index: int) -> list[int]:
        batches = [self.batch_of[index]]
        for batch, _line in self.extra_places.get(index, ()):
            if batch not in batches:
                batches.append(batch)
        return batches

    def pack_names(self) -> list[str]:
        return sorted(set(itertools.chain.from_iterable(self.options or ())))


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
    fast = _fast_planned(layout, with_options)
    if fast is not None:
        return fast
    planned = PlannedConfigs(options=[] if with_options else None)
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                _add_line(planned, line, number, path_text=str(path))
    planned.num_batches = _count_batches(layout, planned)
    return planned


def _fast_planned(layout: RunLayout, with_options: bool) -> PlannedConfigs | None:
    """Config ids by one pattern, batch and line indices from ``batches.jsonl``,
    and (``with_options``) every line's selected options by one more pattern.

    The planner writes configs in batch and line order (spec I19), so the n-th id
    of a batch of ``num_commands`` configs has line n. Any surprise (an id that is
    not 40 characters followed by ``line_index``, counts that disagree, a
    duplicate id, a line whose options the pattern misses) returns None and the
    caller reads every line.
    """
    batches = _batch_sizes(layout.batches_jsonl)
    if batches is None:
        return None
    raw = _ids_in_file_order(layout.configs_jsonl)
    if len(raw) != sum(count for _, count in batches):
        return None
    ids = _decoded(raw)
    if ids is None:
        return None
    if len(set(raw)) != len(raw):
        return None
    options = None
    if with_options:
        options = _all_options(layout.configs_jsonl, len(raw))
        if options is None:
            return None
    planned = PlannedConfigs(config_ids=ids, raw_ids=raw, options=options)
    for batch, count in batches:
        planned.batch_of.extend([batch] * count)
        planned.line_of.extend(range(count))
    planned.num_batches = _count_batches(layout, planned)
    return planned


def _batch_sizes(path: Path) -> list[tuple[int, int]] | None:
    """``(batch_index, num_commands)`` of every line of ``batches.jsonl``.

    Canonical lines are read by one pattern (a json.loads per batch costs a
    quarter of a second on a million configs); other lines by ``json.loads``.
    """
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return None
    sizes = []
    for line in lines:
        match = _BATCH_LINE.match(line)
        if match is not None:
            sizes.append((int(match.group(1)), int(match.group(2))))
        elif line.strip():
            try:
                value = json.loads(line)
                sizes.append((int(value["batch_index"]), int(value["num_commands"])))
            except (KeyError, TypeError, ValueError):
                return None
    return sizes


def _ids_in_file_order(path: Path) -> list[bytes]:
    # An id of another form is not found here; the caller then sees fewer ids
    # than batches.jsonl counts and reads every line instead.
    return _find_all(path, _ID)


def _find_all(path: Path, pattern: re.Pattern[bytes]) -> list[bytes]:
    """``pattern.findall`` over the whole file, mapped rather than read."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            return []
        data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    with data:
        found: list[bytes] = pattern.findall(data)
    return found


def _all_options(path: Path, count: int) -> list[dict[str, str]] | None:
    """The ``selected_options`` of every line, in order: the objects are taken
    by one pattern (the last top-level one of each line, as ``_OPTIONS``) and
    parsed as one JSON array. None unless there are ``count`` of them."""
    found = _find_all(path, _ALL_OPTIONS)
    if len(found) != count:
        return None
    try:
        values = json.loads(b"[" + b",".join(found) + b"]")
    except ValueError:
        return None
    return [
        value if _STRINGS.issuperset(map(type, value.values())) else _as_text(value)
        for value in values
    ]


def _decoded(raw: list[bytes]) -> list[str] | None:
    """The ids as text, None when one is not UTF-8. The id pattern takes no
    escape, so the bytes of an id are its JSON text."""
    try:
        return list(map(bytes.decode, raw))
    except UnicodeDecodeError:
        return None


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
        options = _as_text(raw) if isinstance(raw, dict) else {}
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
    return _as_text(value)


def _as_text(options: dict[Any, Any]) -> dict[str, str]:
    """Selected options with every key and value as text."""
    return {str(k): str(v) for k, v in options.items()}


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
