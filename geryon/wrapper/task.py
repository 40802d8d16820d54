"""One wrapper invocation: the batches of one Snakemake job (spec E11–E13, §8.6).

For each batch: filter (selection, resume), launch the selected configs in waves
(wave k+1 holds the retries scheduled in wave k), record every attempt and event,
and stop launching as soon as fail-fast stops the selection anywhere in the run.
"""

from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon.attempt_index import append_record
from geryon.errors import ConfigError, GeryonError
from geryon.layout import RunLayout
from geryon.planfiles import load_batch_configs, load_batches
from geryon.wrapper.cores import CoreClaims, core_pool
from geryon.wrapper.events import EventLog
from geryon.wrapper.executors import ExecContext, Unit, make_executor
from geryon.wrapper.failfast import FailFast
from geryon.wrapper.history import AttemptHistory
from geryon.wrapper.launch import (
    Launch,
    Outcome,
    environment_prefix,
    new_launch,
    resolve_env_script,
)
from geryon.wrapper.loop import WaveLoop
from geryon.wrapper.records import Counters, attempt_record, policy
from geryon.wrapper.selection import Selection, load_selection, task_identity
from geryon.wrapper.waker import Waker
from geryon.wrapper.watchdog import Watchdog

log = logging.getLogger("geryon.wrapper.task")


@dataclass
class BatchTally:
    """What the one-line stderr summary of a batch reports."""

    index: int
    selected: int = 0
    resumed: int = 0
    not_selected: int = 0
    success: int = 0
    failed: int = 0
    terminated: int = 0
    dropped: int = 0
    note: str = ""

    def line(self) -> str:
        text = (
            f"geryon: batch {self.index}: {self.selected} selected "
            f"({self.resumed} already succeeded, {self.not_selected} not selected); "
            f"{self.success} success, {self.failed} failed, {self.terminated} terminated"
        )
        if self.dropped:
            text += f", {self.dropped} not run (fail-fast)"
        return text + (f"; {self.note}" if self.note else "")


def run_batches(
    layout: RunLayout, selection_path: Path, batch_indices: list[int]
) -> int:
    """Run the given batches of a selection; return the exit code (0 when every
    selected config of these batches ended in ``success``, resumed ones included;
    1 otherwise; 128+N when stopped by signal N). Bad input raises ConfigError."""
    selection = load_selection(Path(selection_path))
    indices = sorted(dict.fromkeys(batch_indices or selection.batch_indices))
    return Task(layout, selection, indices).run()


class Task:
    """The batches of one wrapper invocation, with the task identity, streams and
    counters they share. :meth:`run` is the whole life of the task."""

    def __init__(
        self, layout: RunLayout, selection: Selection, batch_indices: list[int]
    ):
        self.layout = layout
        self.selection = selection
        self.settings = selection.settings
        self.batch_indices = batch_indices
        self.identity = task_identity(batch_indices)
        info = layout.run_info()
        self.run_id = str(info.get("run_id") or layout.root.name)
        self.cwd = _working_directory(layout, info)
        self.task_dir = layout.task_dir(
            self.identity.job_id, self.identity.array_task_id
        )
        self.result_path = layout.result_file(
            self.identity.job_id, self.identity.array_task_id
        )
        self.events = EventLog(
            self.task_dir,
            run_id=self.run_id,
            job_id=self.identity.job_id,
            array_task_id=self.identity.array_task_id,
            submission_id=selection.submission_id,
            enabled=not selection.dry_run,
        )
        self.counters = Counters()
        self.final: dict[str, str] = {}
        self.tallies: dict[int, BatchTally] = {}

    # ----------------------------------------------------------------- top level
    def run(self) -> int:
        batches = self._load_batches()
        ids = [c["config_id"] for configs in batches.values() for c in configs]
        self.history = AttemptHistory.load(self.layout, ids)
        self.prefix = environment_prefix(
            self.settings, resolve_env_script(self.settings, self.selection.path)
        )
        if self.selection.dry_run:
            return self._dry_run(batches)
        self.task_dir.mkdir(parents=True, exist_ok=True)
        for name in ("task.stdout.log", "task.stderr.log"):
            (self.task_dir / name).touch()
        self.result_path.parent.mkdir(parents=True, exist_ok=True)
        return self._execute(batches)

    def _load_batches(self) -> dict[int, list[dict[str, Any]]]:
        records = {int(b["batch_index"]): b for b in load_batches(self.layout)}
        missing = [i for i in self.batch_indices if i not in records]
        if missing:
            raise ConfigError(
                f"batch index {missing[0]} is not in the plan (batches 0-{len(records) - 1})",
                file=self.layout.batches_jsonl,
                hint="Pass --batch values listed in plan/batches.jsonl",
            )
        loaded = {}
        for index in self.batch_indices:
            configs = load_batch_configs(self.layout, records[index])
            loaded[index] = sorted(configs, key=lambda c: int(c["line_index"]))
        return loaded

    def _execute(self, batches: dict[int, list[dict[str, Any]]]) -> int:
        settings = self.settings
        # Forked first, so it holds none of the lock or signal descriptors below.
        self.watchdog = Watchdog(settings.kill_grace_sec)
        self.waker = Waker()
        claims: CoreClaims | None = None
        try:
            claims = CoreClaims(
                self.layout,
                core_pool(settings.cores, settings.max_total_cores),
                settings.cores_per_task,
            )
            self._setup_run(claims)
            self._task_start()
            self._run_all(batches)
        finally:
            self.waker.close()
            if claims is not None:
                claims.close()
            self.watchdog.close()
        return self._finish()

    def _setup_run(self, claims: CoreClaims) -> None:
        settings = self.settings
        state_dir = FailFast.state_dir_for(
            self.layout, self.selection.selection_id, self.selection.execution_key
        )
        self.failfast = FailFast(state_dir, settings)
        context = ExecContext(
            layout=self.layout,
            settings=settings,
            cwd=self.cwd,
            base_env=dict(os.environ),
            watchdog=self.watchdog,
            task_dir=self.task_dir,
            stop_marker=self.failfast.stop_path if self.failfast.enabled else None,
        )
        self.executor = make_executor(settings.executor, context)
        slots = min(
            settings.max_concurrent_tasks, len(claims.pool) // settings.cores_per_task
        )
        if settings.max_total_cores is not None:
            slots = min(slots, settings.max_total_cores // settings.cores_per_task)
        self.slots = max(1, slots)
        self.loop = WaveLoop(
            self.executor,
            claims,
            slots=self.slots,
            timeout_sec=settings.command_timeout_sec,
            grace_sec=settings.kill_grace_sec,
            waker=self.waker,
            on_outcome=self._on_outcome,
            on_start=self._on_start,
            stopped=self.failfast.stopped,
        )

    def _run_all(self, batches: dict[int, list[dict[str, Any]]]) -> None:
        try:
            for index, configs in batches.items():
                self._run_batch(index, configs)
                if self.waker.stop_signal is not None:
                    break
        except Exception as err:
            self._abort(err)
            raise

    def _abort(self, err: Exception) -> None:
        error = repr(err)
        try:
            self.events.task("executor_error", error=error)
            self.events.task("task_end", summary=self.summary(), executor_error=error)
        except GeryonError:
            log.exception("could not record the executor error")

    def summary(self) -> dict[str, Any]:
        """The task summary (spec E37); ``task_end`` carries all of it."""
        settings = self.settings
        return {
            **self.counters.as_dict(),
            "run_id": self.run_id,
            "submission_id": self.selection.submission_id,
            "selection_id": self.selection.selection_id,
            "job_id": self.identity.job_id,
            "array_task_id": self.identity.array_task_id,
            "executor": settings.executor,
            "batches": self.batch_indices,
            "result_path": str(self.result_path),
            "dry_run": self.selection.dry_run,
            "resume": self.selection.resume,
            "selected_config_ids": list(self.selection.include_config_ids),
            "concurrency": {
                "cores_per_task": settings.cores_per_task,
                "max_concurrent_tasks": settings.max_concurrent_tasks,
                "max_total_cores": settings.max_total_cores,
            },
            "policy": policy(settings),
            "task_events_path": str(self.events.task_path),
            "task_stdout_log": str(self.task_dir / "task.stdout.log"),
            "task_stderr_log": str(self.task_dir / "task.stderr.log"),
        }

    def _finish(self) -> int:
        self.events.task("task_end", summary=self.summary())
        for tally in self.tallies.values():
            print(tally.line(), file=sys.stderr, flush=True)
        if self.waker.stop_signal is not None:
            return 128 + self.waker.stop_signal
        return 0 if all(status == "success" for status in self.final.values()) else 1

    def _task_start(self) -> None:
        self.events.task(
            "task_start",
            executor=self.settings.executor,
            batches=self.batch_indices,
            resume=self.selection.resume,
            selected_config_ids=list(self.selection.include_config_ids),
            policy=policy(self.settings),
        )

    # -------------------------------------------------------------------- batches
    def _select(
        self, index: int, configs: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Spec E12.3 with Q26: explicit ids are never skipped by resume."""
        include = set(self.selection.include_config_ids)
        tally = self.tallies[index] = BatchTally(index)
        selected = []
        for config in configs:
            config_id = config["config_id"]
            if include and config_id not in include:
                tally.not_selected += 1
            elif (
                self.selection.resume
                and config_id not in self.selection.explicit_config_ids
                and self.history.succeeded(config_id)
            ):
                tally.resumed += 1
                self.final[config_id] = "success"
            else:
                selected.append(config)
                self.final[config_id] = "missing"
        tally.selected = len(selected) + tally.resumed
        self.counters.skipped_not_selected += tally.not_selected
        self.counters.skipped_resume += tally.resumed
        return selected

    def _run_batch(self, index: int, configs: list[dict[str, Any]]) -> None:
        if not configs:
            raise GeryonError(
                f"batch {index} has no planned configs in plan/configs.jsonl"
            )
        self.events.both(
            "batch_start",
            batch_index=index,
            num_commands=len(configs),
            executor=self.settings.executor,
        )
        selected = self._select(index, configs)
        tally = self.tallies[index]
        self.events.both(
            "batch_filter",
            batch_index=index,
            planned_commands=len(configs),
            selected_commands=len(selected),
            skipped_not_selected=tally.not_selected,
            skipped_resume=tally.resumed,
        )
        if not selected:
            self.events.batch("batch_end", batch_index=index, status="skipped")
            self.events.task(
                "batch_skipped",
                batch_index=index,
                skipped_not_selected=tally.not_selected,
                skipped_resume=tally.resumed,
            )
            return
        if self.failfast.stopped():
            self._skip_fail_fast(index, len(selected))
            return
        self._run_waves(index, [self._prepare(config, 1) for config in selected])

    def _skip_fail_fast(self, index: int, count: int) -> None:
        reason = self.failfast.stop_reason() or "fail_fast"
        self.counters.skipped_fail_fast += count
        self.tallies[index].dropped += count
        self.events.batch(
            "batch_end", batch_index=index, status="skipped_fail_fast", reason=reason
        )
        self.events.task(
            "batch_skipped_fail_fast",
            batch_index=index,
            num_commands=count,
            reason=reason,
        )

    def _prepare(
        self, config: dict[str, Any], wave_index: int, retry_count: int = 0
    ) -> Launch:
        launch = new_launch(
            self.layout,
            self.identity,
            config,
            self.prefix,
            wave_index=wave_index,
            retry_count=retry_count,
        )
        launch.workdir.mkdir(parents=True, exist_ok=True)
        return launch

    def _run_waves(self, index: int, launches: list[Launch]) -> None:
        wave_index = 1
        while launches:
            self.events.task(
                "batch_launch",
                batch_index=index,
                wave_index=wave_index,
                num_commands=len(launches),
            )
            self.retries: list[Launch] = []
            result = self.loop.run(launches)
            if result.interrupted:
                self.tallies[index].note = "interrupted"
                self.events.both("batch_end", batch_index=index, status="interrupted")
                return
            dropped = result.dropped + (self.retries if self.failfast.stopped() else [])
            if dropped:
                self._drop(index, wave_index, dropped)
                break
            launches, wave_index = self.retries, wave_index + 1
        status = "fail_fast_stop" if self.failfast.stopped() else "completed"
        self.events.both("batch_end", batch_index=index, status=status)

    def _drop(self, index: int, wave_index: int, dropped: list[Launch]) -> None:
        reason = self.failfast.stop_reason() or "fail_fast"
        self.counters.skipped_fail_fast += len(dropped)
        self.tallies[index].dropped += len(dropped)
        self.events.both(
            "fail_fast_drop_pending",
            reason=reason,
            dropped_commands=len(dropped),
            wave_index=wave_index,
            batch_index=index,
        )

    # ------------------------------------------------------------------- attempts
    def _on_start(self, launch: Launch, unit: Unit) -> None:
        self.counters.total += 1
        self.events.both(
            "command_start",
            batch_index=launch.batch_index,
            line_index=launch.line_index,
            config_id=launch.config_id,
            attempt_id=launch.attempt_id,
            wave_index=launch.wave_index,
            executor=self.settings.executor,
            pid=unit.pid,
            tmux_session=unit.session,
            assigned_cores=list(unit.cores),
        )

    def _on_outcome(self, outcome: Outcome) -> None:
        """Spec E25 order: record, ``command_complete``, ``timeout_kill``, counters,
        retry decision, fail-fast."""
        launch = outcome.launch
        record = self._record(outcome)
        status = record["status"]
        self._complete_events(record, outcome)
        self.counters.count_status(status)
        tally = self.tallies[launch.batch_index]
        setattr(tally, status, getattr(tally, status) + 1)
        self.final[launch.config_id] = status
        if self._should_retry(status, launch):
            self._schedule_retry(launch, record)
            return
        trigger = self.failfast.record_terminal(status != "success")
        if trigger is not None:
            self._fail_fast_stop(launch, trigger)

    def _record(self, outcome: Outcome) -> dict[str, Any]:
        config_id = outcome.launch.config_id
        parent = self.history.latest(config_id)
        record = attempt_record(
            outcome,
            run_id=self.run_id,
            task=self.identity,
            executor=self.settings.executor,
            attempt_index=self.history.count(config_id),
            parent_attempt_id=parent.get("attempt_id") if parent else None,
        )
        append_record(self.result_path, record)
        self.history.add(record)
        return record

    def _complete_events(self, record: dict[str, Any], outcome: Outcome) -> None:
        fields = {
            key: record[key]
            for key in (
                "batch_index",
                "line_index",
                "config_id",
                "status",
                "attempt_id",
                "attempt_index",
                "status_reason",
                "exit_code",
                "parent_attempt_id",
                "pid",
                "tmux_session",
                "assigned_cores",
                "signal",
            )
        }
        end = record["end_time"]
        self.events.batch("command_complete", end, **fields)
        self.events.task(
            "command_complete", end, duration_sec=record["duration_sec"], **fields
        )
        if record["status_reason"] == "timeout_kill":
            self.events.task(
                "timeout_kill",
                end,
                **{
                    key: record[key]
                    for key in (
                        "batch_index",
                        "line_index",
                        "config_id",
                        "attempt_id",
                        "attempt_index",
                    )
                },
            )

    def _should_retry(self, status: str, launch: Launch) -> bool:
        return (
            status in self.settings.retry_on_status
            and launch.retry_count < self.settings.max_retries
            and not self.failfast.stopped()
            and self.waker.stop_signal is None
        )

    def _schedule_retry(self, launch: Launch, record: dict[str, Any]) -> None:
        retry = self._prepare(
            launch.config, launch.wave_index + 1, launch.retry_count + 1
        )
        self.retries.append(retry)
        self.counters.retry_scheduled += 1
        common = {
            "batch_index": launch.batch_index,
            "line_index": launch.line_index,
            "config_id": launch.config_id,
            "retry_count": retry.retry_count,
            "max_retries": self.settings.max_retries,
            "status": record["status"],
        }
        self.events.batch("retry_scheduled", **common)
        self.events.task(
            "retry_scheduled",
            previous_attempt_id=launch.attempt_id,
            next_attempt_index=record["attempt_index"] + 1,
            **common,
        )

    def _fail_fast_stop(self, launch: Launch, trigger: Any) -> None:
        self.counters.fail_fast_triggered = True
        self.counters.fail_fast_reason = trigger.reason
        counts = {
            "reason": trigger.reason,
            "terminal_total": trigger.terminal_total,
            "terminal_failed": trigger.terminal_failed,
        }
        self.events.batch("fail_fast_stop", batch_index=launch.batch_index, **counts)
        self.events.task(
            "fail_fast_stop",
            batch_index=launch.batch_index,
            line_index=launch.line_index,
            config_id=launch.config_id,
            failure_rate=trigger.failure_rate,
            max_failures=self.settings.max_failures,
            max_failure_rate=self.settings.fail_fast_threshold,
            **counts,
        )

    # -------------------------------------------------------------------- dry run
    def _dry_run(self, batches: dict[int, list[dict[str, Any]]]) -> int:
        """Q27: count what would run; create, write and start nothing."""
        for index, configs in batches.items():
            selected = self._select(index, configs)
            self.counters.total += len(selected)
            self.tallies[index].note = "dry run"
        for tally in self.tallies.values():
            print(tally.line(), file=sys.stderr, flush=True)
        return 0


def _working_directory(layout: RunLayout, info: dict[str, Any]) -> Path:
    """``experiment_dir`` from run.json (relative paths in commands resolve against
    the experiment file), else the run root."""
    experiment_dir = info.get("experiment_dir")
    if not experiment_dir:
        return layout.root
    path = Path(str(experiment_dir))
    if not path.is_dir():
        raise ConfigError(
            f"experiment_dir {str(path)!r} does not exist",
            file=layout.run_json,
            key_path="experiment_dir",
            hint="Commands run there; restore the directory or re-plan the run",
        )
    return path
