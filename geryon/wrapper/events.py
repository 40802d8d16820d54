"""The two event streams of a task (spec E36): ``task.events.jsonl`` and one
``batch_<B>.jsonl`` per batch, each record validated before it is appended."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geryon.layout import batch_name
from geryon.storage import append_jsonl
from geryon.timefmt import iso_seconds
from geryon.wrapper.event_schema import SCHEMA_VERSION, validate_event


class EventLog:
    """Appends events of one task; ``enabled=False`` (dry run) writes nothing (Q27)."""

    def __init__(
        self,
        task_dir: Path,
        *,
        run_id: str,
        job_id: str,
        array_task_id: str,
        submission_id: str | None,
        enabled: bool = True,
    ) -> None:
        self.task_dir = task_dir
        self.task_path = task_dir / "task.events.jsonl"
        self.enabled = enabled
        self._common = {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "job_id": job_id,
            "array_task_id": array_task_id,
            "submission_id": submission_id,
        }

    def batch_path(self, batch_index: int) -> Path:
        return self.task_dir / f"{batch_name(batch_index)}.jsonl"

    def task(self, event: str, time: str | None = None, **fields: Any) -> None:
        self._write("task", self.task_path, event, time, fields)

    def batch(self, event: str, time: str | None = None, **fields: Any) -> None:
        path = self.batch_path(int(fields["batch_index"]))
        self._write("batch", path, event, time, fields)

    def both(self, event: str, time: str | None = None, **fields: Any) -> None:
        """Batch stream first, then task stream (spec E25 order)."""
        self.batch(event, time, **fields)
        self.task(event, time, **fields)

    def _write(
        self,
        stream: str,
        path: Path,
        event: str,
        time: str | None,
        fields: dict[str, Any],
    ) -> None:
        record = {
            **self._common,
            **fields,
            "event": event,
            "time": time or iso_seconds(),
        }
        validate_event(stream, record)
        if self.enabled:
            append_jsonl(path, record)
