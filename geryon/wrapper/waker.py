"""Waiting without fixed sleeps: the wave loop sleeps until a child exits (SIGCHLD),
a signal asks the wrapper to stop (SIGTERM, SIGINT, SIGHUP), or a deadline passes.

Upstream polled every 50 ms and lost that much per command; here a finished child
wakes the loop at once through ``signal.set_wakeup_fd``. Signal handlers can only
be installed in the main thread; elsewhere the loop falls back to short polls and
cannot be interrupted by signals.
"""

from __future__ import annotations

import os
import select
import signal
import threading
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_FALLBACK_POLL_SEC = 0.005


class Waker:
    def __init__(self) -> None:
        self.stop_signal: int | None = None
        self._saved: dict[int, Any] = {}
        self._saved_fd: int | None = None
        self._read_fd: int | None = None
        self._write_fd: int | None = None
        if threading.current_thread() is threading.main_thread():
            self._install()

    def _install(self) -> None:
        self._read_fd, self._write_fd = os.pipe()
        for fd in (self._read_fd, self._write_fd):
            os.set_blocking(fd, False)
            os.set_inheritable(fd, False)
        self._saved_fd = signal.set_wakeup_fd(self._write_fd, warn_on_full_buffer=False)
        self._saved[signal.SIGCHLD] = signal.signal(signal.SIGCHLD, self._on_child)
        for sig in STOP_SIGNALS:
            self._saved[sig] = signal.signal(sig, self._on_stop)

    def _on_child(self, signum: int, frame: FrameType | None) -> None:
        """Nothing to do: the wakeup byte already ended the wait."""

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stop_signal is None:
            self.stop_signal = signum

    def wait(self, timeout_sec: float) -> None:
        """Return after ``timeout_sec`` or as soon as a signal arrived."""
        timeout_sec = max(0.0, timeout_sec)
        if self._read_fd is None:
            select.select([], [], [], min(timeout_sec, _FALLBACK_POLL_SEC))
            return
        ready, _, _ = select.select([self._read_fd], [], [], timeout_sec)
        if ready:
            try:
                while os.read(self._read_fd, 512):
                    pass
            except BlockingIOError:
                pass

    def close(self) -> None:
        if self._read_fd is None:
            return
        for sig, handler in self._saved.items():
            # None: the previous handler was not installed from Python.
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        signal.set_wakeup_fd(-1 if self._saved_fd is None else self._saved_fd)
        for fd in (self._read_fd, self._write_fd):
            if fd is not None:
                os.close(fd)
        self._read_fd = self._write_fd = None
