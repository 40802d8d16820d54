"""The live dashboard of ``run-local`` (``progress: true``, table output on a tty).

It is built only from the task event streams the batch wrappers append to
(``exec/batch_logs/task_*/task.events.jsonl``), read incrementally while
Snakemake runs; Snakemake's own output goes to its log file meanwhile. The view
is cosmetic (spec E39): nothing depends on it.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from geryon.engine.selection import Selection
from geryon.layout import RunLayout

RECENT = 6


@dataclass
class _Running:
    batch_index: int
    line_index: int
    config_id: str
    cores: str
    tmux_session: str
    started: float


@dataclass
class DashboardState:
    """What the events said so far."""

    running: dict[str, _Running] = field(default_factory=dict)
    starts: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT))
    completions: deque[str] = field(default_factory=lambda: deque(maxlen=RECENT))
    by_status: dict[str, int] = field(default_factory=dict)
    launched: int = 0

    def apply(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "command_start":
            self._start(event)
        elif kind == "command_complete":
            self._complete(event)

    def _start(self, event: dict[str, Any]) -> None:
        cores = event.get("assigned_cores") or []
        entry = _Running(
            batch_index=int(event.get("batch_index", -1)),
            line_index=int(event.get("line_index", -1)),
            config_id=str(event.get("config_id", "")),
            cores=",".join(str(c) for c in cores) or "-",
            tmux_session=str(event.get("tmux_session") or "-"),
            started=time.monotonic(),
        )
        self.running[str(event.get("attempt_id"))] = entry
        self.launched += 1
        self.starts.appendleft(_short(event))

    def _complete(self, event: dict[str, Any]) -> None:
        self.running.pop(str(event.get("attempt_id")), None)
        status = str(event.get("status", "unknown"))
        self.by_status[status] = self.by_status.get(status, 0) + 1
        self.completions.appendleft(f"{_short(event)} {status}")


def _short(event: dict[str, Any]) -> str:
    return (
        f"batch {event.get('batch_index')} line {event.get('line_index')} "
        f"{str(event.get('config_id', ''))[:12]}"
    )


class EventTail:
    """Reads the new complete lines of every task event file since the last call."""

    def __init__(self, layout: RunLayout, *, from_end: bool = True) -> None:
        self.root = layout.exec_dir / "batch_logs"
        self.offsets: dict[Path, int] = {}
        if from_end:
            for path in self._files():
                self.offsets[path] = path.stat().st_size

    def _files(self) -> list[Path]:
        return sorted(self.root.glob("task_*/task.events.jsonl"))

    def read(self) -> Iterator[dict[str, Any]]:
        for path in self._files():
            yield from self._read_file(path)

    def _read_file(self, path: Path) -> Iterator[dict[str, Any]]:
        offset = self.offsets.get(path, 0)
        with path.open("rb") as handle:
            handle.seek(offset)
            data = handle.read()
        end = data.rfind(b"\n") + 1
        self.offsets[path] = offset + end
        for line in data[:end].splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict):
                yield event


class Dashboard:
    """A rich ``Live`` view refreshed by :meth:`refresh` while Snakemake runs."""

    def __init__(
        self, layout: RunLayout, selection: Selection, console: Console | None = None
    ) -> None:
        self.selection = selection
        self.tail = EventTail(layout)
        self.state = DashboardState()
        self.console = console or Console()
        self.started = time.monotonic()
        self._live: Live | None = None

    @contextmanager
    def live(self) -> Iterator[None]:
        with Live(
            self.render(), console=self.console, refresh_per_second=4, transient=False
        ) as live:
            self._live = live
            try:
                yield
            finally:
                self.refresh()
                self._live = None

    def refresh(self) -> None:
        for event in self.tail.read():
            self.state.apply(event)
        if self._live is not None:
            self._live.update(self.render())

    def render(self) -> Group:
        return Group(self._header(), self._running_table(), self._recent_table())

    def _header(self) -> Text:
        state = self.state
        done = sum(state.by_status.values())
        elapsed = max(time.monotonic() - self.started, 1e-6)
        statuses = "  ".join(f"{k}: {v}" for k, v in sorted(state.by_status.items()))
        return Text(
            f"geryon run {self.selection.run_id}  selection {self.selection.selection_id}"
            f"  batches {len(self.selection.batch_indices)}\n"
            f"running {len(state.running)}  started {state.launched}  finished {done}"
            f"  ({done / elapsed:.1f}/s)  {statuses}",
            style="bold",
        )

    def _running_table(self) -> Table:
        table = Table(title="Running commands", expand=False)
        for column in ("batch", "line", "config", "cores", "tmux session", "for"):
            table.add_column(column)
        now = time.monotonic()
        for entry in list(self.state.running.values())[:20]:
            table.add_row(
                str(entry.batch_index),
                str(entry.line_index),
                entry.config_id[:12],
                entry.cores,
                entry.tmux_session,
                f"{now - entry.started:.0f}s",
            )
        return table

    def _recent_table(self) -> Table:
        table = Table(title="Recent", expand=False)
        table.add_column("started")
        table.add_column("finished")
        starts, ends = list(self.state.starts), list(self.state.completions)
        for index in range(max(len(starts), len(ends))):
            table.add_row(
                starts[index] if index < len(starts) else "",
                ends[index] if index < len(ends) else "",
            )
        return table
