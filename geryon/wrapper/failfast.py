"""Run-wide fail-fast for one execution of a selection (fixes Q31 and Q32).

Every wrapper process of the execution shares the counters in
``exec/state/<selection_id>/<execution_key>/failfast.json``, updated under an
``flock`` on ``failfast.lock`` in the same directory. The first wrapper whose
update trips a rule writes the stop marker ``stop`` there (JSON with the reason);
every wrapper checks the marker before launching a command, so the stop holds
across batches and across concurrent Snakemake jobs. A new execution of the same
batches (same selection id, rewritten selection file) starts with fresh counters.

Decisions against upstream: the scope is the whole execution, not one task payload
(Q32); the failure-rate rule needs ``fail_fast_min_finished`` terminal outcomes
before it can trip (Q31); and launches that have not started when the stop marker
appears are not run (upstream still ran the rest of the wave, E30); they are
counted in ``skipped_fail_fast`` and reported with ``fail_fast_drop_pending``.
Commands already running finish normally.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon.layout import RunLayout
from geryon.settings import RunSettings
from geryon.storage import write_json_atomic


@dataclass(frozen=True)
class Trigger:
    """The first fail-fast trip of the selection, as counted when it happened."""

    reason: str
    terminal_total: int
    terminal_failed: int

    @property
    def failure_rate(self) -> float:
        return (
            self.terminal_failed / self.terminal_total if self.terminal_total else 0.0
        )


class FailFast:
    """Counters of terminal outcomes (spec E27) for the whole selection."""

    def __init__(self, state_dir: Path, settings: RunSettings):
        self.max_failures = settings.max_failures
        self.max_failure_rate = settings.fail_fast_threshold
        self.min_finished = settings.fail_fast_min_finished
        self.state_dir = state_dir
        self.counters_path = self.state_dir / "failfast.json"
        self.stop_path = self.state_dir / "stop"

    @property
    def enabled(self) -> bool:
        return self.max_failures is not None or self.max_failure_rate is not None

    def stopped(self) -> bool:
        """True once any wrapper of the selection has tripped fail-fast."""
        return self.enabled and self.stop_path.exists()

    def stop_reason(self) -> str | None:
        try:
            data = json.loads(self.stop_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return str(data.get("reason")) if isinstance(data, dict) else None

    def record_terminal(self, failed: bool) -> Trigger | None:
        """Count one terminal outcome; return the trigger if *this* call tripped it."""
        if not self.enabled:
            return None
        self.state_dir.mkdir(parents=True, exist_ok=True)
        lock_fd = os.open(
            self.state_dir / "failfast.lock", os.O_RDWR | os.O_CREAT, 0o644
        )
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            counters = self._read_counters()
            counters["terminal_total"] += 1
            counters["terminal_failed"] += int(failed)
            write_json_atomic(self.counters_path, counters)
            if self.stop_path.exists():
                return None
            reason = self._rule_tripped(counters)
            if reason is None:
                return None
            trigger = Trigger(
                reason, counters["terminal_total"], counters["terminal_failed"]
            )
            write_json_atomic(self.stop_path, self._stop_payload(trigger))
            return trigger
        finally:
            os.close(lock_fd)

    def _read_counters(self) -> dict[str, int]:
        try:
            data: Any = json.loads(self.counters_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        return {
            "terminal_total": int(data.get("terminal_total", 0)),
            "terminal_failed": int(data.get("terminal_failed", 0)),
        }

    def _rule_tripped(self, counters: dict[str, int]) -> str | None:
        total, failed = counters["terminal_total"], counters["terminal_failed"]
        if self.max_failures is not None and failed >= self.max_failures:
            return "max_failures"
        rate = self.max_failure_rate
        # Q31: the rate needs a minimum sample; one early failure is not a trend.
        if rate is not None and total >= self.min_finished and failed / total >= rate:
            return "max_failure_rate"
        return None

    def _stop_payload(self, trigger: Trigger) -> dict[str, Any]:
        return {
            "reason": trigger.reason,
            "terminal_total": trigger.terminal_total,
            "terminal_failed": trigger.terminal_failed,
            "failure_rate": trigger.failure_rate,
            "pid": os.getpid(),
        }

    @staticmethod
    def state_dir_for(layout: RunLayout, selection_id: str, execution_key: str) -> Path:
        return layout.state_dir / selection_id / execution_key
