"""What a run command shows on stderr while Snakemake works.

geryon's users never need Snakemake's own output: it goes to
``exec/snakemake_logs/`` (``-v`` or ``--snakemake-output`` shows it live). In its
place a terminal gets one compact line, redrawn in place and built only from the
wrapper's task event files; anything else (a pipe, a CI log) gets a few plain
lines: start, the Snakemake command, end. Both are cosmetic: nothing depends on
them.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.text import Text

from geryon.engine.dashboard import EventTail
from geryon.engine.selection import Selection
from geryon.layout import RunLayout


class ProgressLine:
    """``batches 3/8 · configs 10 ok, 1 failed · 4.2 configs/s · 12s``, redrawn
    in place on a terminal. Same interface as the dashboard: :meth:`live` around
    the run, :meth:`refresh` on every tick."""

    def __init__(
        self, layout: RunLayout, selection: Selection, console: Console
    ) -> None:
        self.tail = EventTail(layout)
        self.total_batches = len(selection.batch_indices)
        self.batches_done: set[int] = set()
        self.ok = 0
        self.not_ok = 0
        self.console = console
        self.started = time.monotonic()
        self._live: Live | None = None

    @contextmanager
    def live(self) -> Iterator[None]:
        with Live(
            self.render(), console=self.console, auto_refresh=False, transient=True
        ) as live:
            self._live = live
            try:
                yield
            finally:
                self.refresh()
                self._live = None

    def refresh(self) -> None:
        for event in self.tail.read():
            self._apply(event)
        if self._live is not None:
            self._live.update(self.render(), refresh=True)

    def _apply(self, event: dict[str, object]) -> None:
        kind = event.get("event")
        if kind == "command_complete":
            if event.get("status") == "success":
                self.ok += 1
            else:
                self.not_ok += 1
        elif kind in ("batch_end", "batch_skipped_fail_fast"):
            index = event.get("batch_index")
            if isinstance(index, int):
                self.batches_done.add(index)

    def render(self) -> Text:
        elapsed = max(time.monotonic() - self.started, 1e-6)
        rate = (self.ok + self.not_ok) / elapsed
        return Text(
            f"batches {len(self.batches_done)}/{self.total_batches} · configs "
            f"{self.ok} ok, {self.not_ok} failed · {rate:.1f} configs/s · "
            f"{elapsed:.0f}s",
            style="bold",
        )


class PlainNotices:
    """The few plain lines a non-terminal stderr gets (no redrawing)."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.monotonic()

    def _say(self, text: str) -> None:
        self.console.print(f"geryon: {text}", highlight=False, soft_wrap=True)

    def start(self, num_batches: int, log_file: Path) -> None:
        self.started = time.monotonic()
        self._say(
            f"running {num_batches} batch(es) with Snakemake; its output goes to "
            f"{log_file}"
        )

    def command(self, command: list[str], saved_in: Path) -> None:
        self._say(f"snakemake command (saved in {saved_in}): {shlex.join(command)}")

    def end(self, exit_code: int) -> None:
        elapsed = time.monotonic() - self.started
        self._say(f"Snakemake finished with exit code {exit_code} after {elapsed:.1f}s")
