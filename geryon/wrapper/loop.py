"""The wave loop: start launches under the concurrency and core limits, watch them,
enforce timeouts and interrupts the same way for every executor, and hand each
outcome to the task as soon as it is known."""

from __future__ import annotations

import logging
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from geryon.errors import GeryonError
from geryon.wrapper.cores import CoreClaims
from geryon.wrapper.executors import Executor, Unit
from geryon.wrapper.launch import Launch, Outcome
from geryon.wrapper.waker import Waker

log = logging.getLogger("geryon.wrapper.loop")

# A killed command that has not exited this long after SIGKILL aborts the task
# (spec E23): something outside the wrapper's reach holds it.
KILL_ABORT_SEC = 10.0
# How often to retry claiming CPUs that other wrappers hold. Claims are
# all-or-nothing, so two wrappers that each need several CPUs could keep taking
# one each and giving it back in step; a random spread breaks the rhythm.
CORE_RETRY_SEC = (0.01, 0.03)


@dataclass
class _Watch:
    """Kill bookkeeping of one running unit."""

    unit: Unit
    term_at: float | None = None
    kill_at: float | None = None
    killed_at: float | None = None
    timed_out: bool = False


@dataclass
class WaveResult:
    dropped: list[Launch] = field(default_factory=list)
    interrupted: bool = False


class WaveLoop:
    """Runs waves for one task. ``on_outcome`` records an outcome; ``stopped``
    says whether fail-fast stopped the selection (checked before each launch)."""

    def __init__(
        self,
        executor: Executor,
        claims: CoreClaims,
        *,
        slots: int,
        timeout_sec: float | None,
        grace_sec: float,
        waker: Waker,
        on_outcome: Callable[[Outcome], None],
        on_start: Callable[[Launch, Unit], None],
        stopped: Callable[[], bool],
    ) -> None:
        self.executor = executor
        self.claims = claims
        self.slots = slots
        self.timeout_sec = timeout_sec
        self.grace_sec = grace_sec
        self.waker = waker
        self.on_outcome = on_outcome
        self.on_start = on_start
        self.stopped = stopped

    def run(self, launches: list[Launch]) -> WaveResult:
        pending = deque(launches)
        running: list[_Watch] = []
        result = WaveResult()
        while pending or running:
            # Collect first: a finished command frees its slot for the next start
            # without another wait, and may have tripped fail-fast.
            self._collect(running, result)
            if self.waker.stop_signal is not None and not result.interrupted:
                result.interrupted = True
                self._interrupt(running)
            if result.interrupted or self.stopped():
                result.dropped.extend(pending)
                pending.clear()
            blocked = self._start_more(pending, running)
            delay = self._enforce_deadlines(running)
            if pending or running:
                wait = self.executor.poll_interval_sec
                if blocked:
                    wait = min(wait, random.uniform(*CORE_RETRY_SEC))
                self.waker.wait(min(wait, delay))
        return result

    def _start_more(self, pending: deque[Launch], running: list[_Watch]) -> bool:
        """Start what fits; True when launches wait for CPUs held elsewhere."""
        if self.executor.whole_wave:
            return self._start_wave(pending, running)
        while pending and len(running) < self.slots:
            cores = self.claims.try_claim()
            if cores is None:
                return True
            self._launch([pending.popleft()], cores, running)
        return False

    def _start_wave(self, pending: deque[Launch], running: list[_Watch]) -> bool:
        """One unit runs the whole wave on as many slots as CPUs can be claimed."""
        if not pending or running:
            return False
        per_task = self.claims.cores_per_task
        for slots in range(min(self.slots, len(pending)), 0, -1):
            cores = self.claims.try_claim(slots * per_task)
            if cores is not None:
                break
        else:
            return True
        launches = list(pending)
        pending.clear()
        self._launch(launches, cores, running)
        return False

    def _launch(
        self, launches: list[Launch], cores: list[int], running: list[_Watch]
    ) -> None:
        try:
            unit = self.executor.start(launches, cores)
        except BaseException:
            self.claims.release(cores)
            raise
        running.append(_Watch(unit))
        for launch in launches:
            self.on_start(launch, unit)

    def _collect(self, running: list[_Watch], result: WaveResult) -> None:
        for watch in list(running):
            for outcome in watch.unit.poll():
                outcome.timed_out = outcome.timed_out or watch.timed_out
                outcome.interrupted = result.interrupted and watch.term_at is not None
                self.on_outcome(outcome)
            result.dropped.extend(watch.unit.dropped())
            if watch.unit.finished():
                self.claims.release(watch.unit.cores)
                running.remove(watch)

    def _enforce_deadlines(self, running: list[_Watch]) -> float:
        """Send due TERM/KILL signals; return seconds until the next deadline."""
        now = time.monotonic()
        next_due = float("inf")
        for watch in running:
            next_due = min(next_due, self._enforce(watch, now))
        return max(0.0, next_due - now)

    def _enforce(self, watch: _Watch, now: float) -> float:
        unit = watch.unit
        if (
            watch.term_at is None
            and self.timeout_sec is not None
            and not unit.own_timeout
        ):
            deadline = unit.started + self.timeout_sec
            if now <= deadline:
                return deadline
            log.info(
                "command timed out after %ss: %s",
                self.timeout_sec,
                [launch.attempt_id for launch in unit.launches],
            )
            watch.timed_out = True
            self._terminate(watch, now)
        if watch.kill_at is not None and watch.killed_at is None:
            if now < watch.kill_at:
                return watch.kill_at
            unit.kill()
            watch.killed_at = now
        if watch.killed_at is not None:
            if now - watch.killed_at > KILL_ABORT_SEC:
                raise GeryonError(
                    f"a command did not exit {KILL_ABORT_SEC:.0f} s after SIGKILL "
                    f"(attempt {unit.launches[0].attempt_id}); giving up on this task"
                )
            return watch.killed_at + KILL_ABORT_SEC
        return float("inf")

    def _terminate(self, watch: _Watch, now: float) -> None:
        watch.unit.terminate()
        watch.term_at = now
        # PyLauncher drivers need their own grace first to kill their commands.
        extra = self.grace_sec + 1.0 if watch.unit.own_timeout else 0.0
        watch.kill_at = now + self.grace_sec + extra

    def _interrupt(self, running: list[_Watch]) -> None:
        now = time.monotonic()
        for watch in running:
            if watch.term_at is None:
                self._terminate(watch, now)
