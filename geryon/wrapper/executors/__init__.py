"""The three ways a wrapper runs commands: ``process``, ``tmux`` and ``pylauncher``.

Each executor starts *units*: one command for ``process`` and ``tmux``, a whole
wave for ``pylauncher``. The wave loop (:mod:`geryon.wrapper.loop`) owns the
policies common to all of them: concurrency, core claims, timeouts, interrupts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from geryon.layout import RunLayout
from geryon.settings import RunSettings
from geryon.wrapper.launch import Launch, Outcome
from geryon.wrapper.watchdog import Watchdog


@dataclass(frozen=True)
class ExecContext:
    """What every executor needs besides the launches themselves."""

    layout: RunLayout
    settings: RunSettings
    cwd: Path
    base_env: dict[str, str]
    watchdog: Watchdog
    task_dir: Path
    stop_marker: Path | None


class Unit(Protocol):
    """Running work: one command, or one PyLauncher wave."""

    @property
    def launches(self) -> list[Launch]: ...

    @property
    def cores(self) -> list[int]: ...

    @property
    def started(self) -> float:
        """``time.monotonic()`` at start; timeouts count from here."""

    @property
    def own_timeout(self) -> bool:
        """True when the unit enforces the command timeout itself (PyLauncher)."""

    @property
    def pid(self) -> int | None: ...

    @property
    def session(self) -> str | None: ...

    def poll(self) -> list[Outcome]:
        """Outcomes that finished since the last call."""

    def finished(self) -> bool:
        """True when every launch has an outcome or was dropped."""

    def dropped(self) -> list[Launch]:
        """Launches that never ran (a PyLauncher driver saw the fail-fast stop)."""

    def terminate(self) -> None: ...

    def kill(self) -> None: ...


class Executor(Protocol):
    name: str
    whole_wave: bool
    poll_interval_sec: float

    def start(self, launches: list[Launch], cores: list[int]) -> Unit: ...


def make_executor(name: str, context: ExecContext) -> Executor:
    if name == "tmux":
        from geryon.wrapper.executors.tmux import TmuxExecutor

        return TmuxExecutor(context)
    if name == "pylauncher":
        from geryon.wrapper.executors.pyl import PylauncherExecutor

        return PylauncherExecutor(context)
    from geryon.wrapper.executors.process import ProcessExecutor

    return ProcessExecutor(context)
