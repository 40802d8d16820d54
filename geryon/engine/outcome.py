"""Reading what an execution achieved from the attempt records (spec E34, O2).

A selected config succeeded when its latest attempt record has status
``success``; one without any record is ``missing``. "Latest" uses parsed times
(end, then start, then attempt id) so text precision never decides (Q33).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from geryon import timefmt
from geryon.engine.request import ConfigOutcome
from geryon.engine.selection import Selection
from geryon.layout import RunLayout
from geryon.planfiles import load_batch_configs, load_batches
from geryon.storage import read_jsonl

_EPOCH = datetime.min.isoformat()


def latest_attempt_key(record: dict[str, Any]) -> tuple[str, str, str]:
    """Sort key of an attempt record: parsed end time, start time, attempt id."""
    return (
        _normalised_time(record.get("end_time")),
        _normalised_time(record.get("start_time")),
        str(record.get("attempt_id") or ""),
    )


def _normalised_time(text: Any) -> str:
    if not isinstance(text, str) or not text:
        return _EPOCH
    try:
        return timefmt.iso_micro(timefmt.parse_iso(text))
    except ValueError:
        return _EPOCH


def selected_configs(layout: RunLayout, selection: Selection) -> list[dict[str, Any]]:
    """The planned records of the selection's configs, in plan order."""
    wanted = set(selection.include_config_ids)
    chosen = set(selection.batch_indices)
    configs: list[dict[str, Any]] = []
    for batch in load_batches(layout):
        if int(batch["batch_index"]) not in chosen:
            continue
        for record in load_batch_configs(layout, batch):
            if not wanted or record["config_id"] in wanted:
                configs.append(record)
    return configs


def latest_records(
    layout: RunLayout, config_ids: Iterable[str]
) -> dict[str, dict[str, Any]]:
    """The latest attempt record of each of ``config_ids`` that has one."""
    wanted = set(config_ids)
    latest: dict[str, dict[str, Any]] = {}
    for path in layout.result_files():
        for record in read_jsonl(path):
            config_id = record.get("config_id")
            if config_id not in wanted:
                continue
            best = latest.get(config_id)
            if best is None or latest_attempt_key(record) >= latest_attempt_key(best):
                latest[config_id] = record
    return latest


def outcomes(layout: RunLayout, selection: Selection) -> list[ConfigOutcome]:
    """One outcome per selected config, in plan order."""
    configs = selected_configs(layout, selection)
    latest = latest_records(layout, (c["config_id"] for c in configs))
    result = []
    for config in configs:
        record = latest.get(config["config_id"], {})
        result.append(
            ConfigOutcome(
                config_id=config["config_id"],
                batch_index=int(config["batch_index"]),
                line_index=int(config["line_index"]),
                status=str(record.get("status") or "missing"),
                stdout_path=record.get("stdout_path"),
                stderr_path=record.get("stderr_path"),
            )
        )
    return result


def count(items: list[ConfigOutcome]) -> dict[str, int]:
    counts = {"selected": len(items), "success": 0}
    for item in items:
        counts[item.status] = counts.get(item.status, 0) + 1
    return counts


def task_summaries(
    layout: RunLayout, since: str, batches: set[int]
) -> list[dict[str, Any]]:
    """``task_end`` summaries written by this execution's batch jobs (E37)."""
    summaries = []
    for events in sorted(layout.exec_dir.glob("batch_logs/task_*/task.events.jsonl")):
        for event in read_jsonl(events):
            # Compare whole seconds: the events' own time format may add a fraction.
            if (
                event.get("event") != "task_end"
                or str(event.get("time", ""))[:19] < since[:19]
            ):
                continue
            summary = event.get("summary")
            if (
                isinstance(summary, dict)
                and set(summary.get("batches") or []) <= batches
            ):
                summaries.append(summary)
    return summaries
