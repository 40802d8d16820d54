"""Attempt history: which attempt of a config is the latest, and which configs succeeded.

One ordering decides "the latest attempt" everywhere (the wrapper's resume here,
``status`` and ``collect`` in :mod:`geryon.observe`): :func:`latest_attempt_key`.
It compares *parsed* times, so upstream records whose fraction was omitted at zero
microseconds order correctly (Q33), and it uses one tie-break for every reader (Q35).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from geryon.layout import RunLayout
from geryon.storage import read_jsonl
from geryon.timefmt import parse_iso

_NEVER = datetime.min.replace(tzinfo=UTC)


def _parsed(value: Any) -> datetime:
    if not isinstance(value, str) or not value:
        return _NEVER
    try:
        return parse_iso(value)
    except ValueError:
        return _NEVER


def latest_attempt_key(record: dict[str, Any]) -> tuple[datetime, datetime, str]:
    """Sort key of an attempt record: parsed ``end_time``, then ``start_time``, then
    ``attempt_id``. The record with the largest key is the config's latest attempt.

    Missing or unparsable times sort first, so a complete record always wins.
    """
    return (
        _parsed(record.get("end_time")),
        _parsed(record.get("start_time")),
        str(record.get("attempt_id") or ""),
    )


_CONFIG_ID_KEY = b'"config_id":"'


def _mentions_any(config_ids: set[str]) -> Callable[[bytes], bool]:
    """A pre-filter for result lines: keep a line only if its ``config_id`` is one
    of ours. Every wrapper reads every result file, so for a giant run this skips
    parsing almost all lines. Lines not in geryon's compact form are kept (and
    parsed), so nothing is missed; a torn line is still reported by the reader."""
    wanted = {cid.encode("ascii", "replace") for cid in config_ids}

    def keep(line: bytes) -> bool:
        start = line.find(_CONFIG_ID_KEY)
        if start < 0:
            return True
        start += len(_CONFIG_ID_KEY)
        end = line.find(b'"', start)
        return end < 0 or line[start:end] in wanted

    return keep


class AttemptHistory:
    """The attempt records of a set of configs, read from every result file.

    Only ``exec/results/task_*.jsonl`` is read, with torn lines skipped (a crash can
    cut the last line of a file). Records appended by this process are added with
    :meth:`add`, so attempt indices and parents stay right within one task.
    """

    def __init__(self, records: dict[str, list[dict[str, Any]]]) -> None:
        self._records = records

    @classmethod
    def load(cls, layout: RunLayout, config_ids: Iterable[str]) -> AttemptHistory:
        wanted = set(config_ids)
        records: dict[str, list[dict[str, Any]]] = {cid: [] for cid in wanted}
        keep = _mentions_any(wanted)
        for path in layout.result_files():
            for record in read_jsonl(path, keep_line=keep):
                config_id = record.get("config_id")
                if config_id in wanted:
                    records[config_id].append(record)
        return cls(records)

    def count(self, config_id: str) -> int:
        return len(self._records.get(config_id, ()))

    def latest(self, config_id: str) -> dict[str, Any] | None:
        records = self._records.get(config_id)
        if not records:
            return None
        return max(records, key=latest_attempt_key)

    def succeeded(self, config_id: str) -> bool:
        """True when the config's latest attempt has status ``success`` (spec E9)."""
        latest = self.latest(config_id)
        return latest is not None and latest.get("status") == "success"

    def add(self, record: dict[str, Any]) -> None:
        self._records.setdefault(str(record["config_id"]), []).append(record)
