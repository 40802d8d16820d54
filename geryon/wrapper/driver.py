"""The per-command driver of the ``tmux`` and ``pylauncher`` executors.

``python -m geryon.wrapper.driver <spec.json>`` runs one command the way the
``process`` executor does (``bash -c`` in its own process group, pinned, logs
redirected) and writes what happened to a result file, so all executors derive the
status from the same facts (Q29): the raw wait status (negative = signal), epoch
start and end times, and whether the driver killed the command for time.

Files (paths in the spec): ``start`` (written once the command runs: pids and
start time) and ``result`` (written last, atomically). Signals SIGTERM, SIGHUP and
SIGINT to the driver are forwarded to the command's group, followed by SIGKILL
after the grace period. This module imports only the standard library: it starts
once per command.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any


def _write_json(path: str, value: dict[str, Any]) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(value, handle)
    os.replace(tmp, path)


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class _Driver:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.grace_sec = float(spec.get("kill_grace_sec") or 0)
        self.timeout_sec = spec.get("timeout_sec")
        self.kill_at: float | None = None
        self.timed_out = False
        self.child: subprocess.Popen[bytes] | None = None

    def _setup_child(self) -> None:
        cpus = self.spec.get("cores") or []
        if cpus and hasattr(os, "sched_setaffinity"):
            with contextlib.suppress(OSError):
                os.sched_setaffinity(0, cpus)
        if sys.platform.startswith("linux"):
            import ctypes

            ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self.child is not None and self.kill_at is None:
            _signal_group(self.child.pid, signal.SIGTERM)
            self.kill_at = time.monotonic() + self.grace_sec

    def run(self) -> int:
        spec = self.spec
        stop = spec.get("stop_marker")
        if stop and os.path.exists(stop):
            _write_json(spec["result"], {"skipped": True})
            return 0
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        start = time.time()
        with open(spec["stdout"], "wb") as out, open(spec["stderr"], "wb") as err:
            self.child = subprocess.Popen(
                ["bash", "-c", spec["command"]],
                cwd=spec["cwd"],
                env=spec["env"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                process_group=0,
                preexec_fn=self._setup_child,
            )
        _write_json(
            spec["start"],
            {"driver_pid": os.getpid(), "pgid": self.child.pid, "start_epoch": start},
        )
        code = self._wait(start)
        _signal_group(self.child.pid, signal.SIGKILL)
        _write_json(
            spec["result"],
            {
                "exit_code": code,
                "start_epoch": start,
                "end_epoch": time.time(),
                "timed_out": self.timed_out,
                "pid": self.child.pid,
            },
        )
        return 0

    def _wait(self, start: float) -> int:
        assert self.child is not None
        while True:
            try:
                return self.child.wait(timeout=0.05)
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            overdue = self.timeout_sec is not None and time.time() - start > float(
                self.timeout_sec
            )
            if overdue and not self.timed_out:
                self.timed_out = True
                self._stop()
            if self.kill_at is not None and now >= self.kill_at:
                _signal_group(self.child.pid, signal.SIGKILL)


def main(argv: list[str]) -> int:
    with open(argv[0], encoding="utf-8") as handle:
        spec = json.load(handle)
    return _Driver(spec).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
