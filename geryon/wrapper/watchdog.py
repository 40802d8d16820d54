"""A forked guardian that cleans up after a wrapper killed with ``kill -9``.

A killed process cannot clean up, and ``PR_SET_PDEATHSIG`` reaches only the direct
child, not the programs that child started. So each wrapper forks this small
process first. The wrapper tells it, through a pipe, every process group and tmux
session it starts and finishes. When the pipe closes without a final ``bye`` (the
wrapper died), the watchdog sends SIGTERM to the remaining groups, kills the
remaining tmux sessions, waits the grace period and sends SIGKILL.

What can remain: a program that moved itself into a new session or process group
(a daemon) is out of reach; and if the watchdog itself is killed (it runs in its
own session, so only a signal to its own pid does that), the commands of a dead
wrapper keep running. tmux sessions are also registered in
``exec/state/tmux_sessions/``, so a later tmux wrapper or ``geryon clean`` kills
them then.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

from geryon.wrapper.proc import signal_group


class Watchdog:
    """The wrapper's end of the pipe to the guardian process."""

    def __init__(self, grace_sec: float) -> None:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(write_fd)
            _guard(read_fd, grace_sec)
        os.close(read_fd)
        os.set_inheritable(write_fd, False)
        self._fd: int | None = write_fd
        self.pid = pid

    def _send(self, line: str) -> None:
        if self._fd is not None:
            os.write(self._fd, (line + "\n").encode("utf-8"))

    def watch_group(self, pgid: int) -> None:
        self._send(f"+pg {pgid}")

    def forget_group(self, pgid: int) -> None:
        self._send(f"-pg {pgid}")

    def watch_session(self, name: str) -> None:
        self._send(f"+tmux {name}")

    def forget_session(self, name: str) -> None:
        self._send(f"-tmux {name}")

    def close(self) -> None:
        """Normal end: the guardian exits without touching anything."""
        if self._fd is None:
            return
        self._send("bye")
        os.close(self._fd)
        self._fd = None
        os.waitpid(self.pid, 0)


def _guard(read_fd: int, grace_sec: float) -> None:
    """The guardian's whole life; never returns. It leaves the wrapper's session,
    so a signal to the wrapper's whole process group (Ctrl-C, or a scheduler
    killing the job's group) does not take it down with the wrapper."""
    os.setsid()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    groups: set[int] = set()
    sessions: set[str] = set()
    clean = False
    with os.fdopen(read_fd, "r", encoding="utf-8") as pipe:
        for line in pipe:
            kind, _, value = line.strip().partition(" ")
            clean = kind == "bye"
            if kind in ("+pg", "-pg"):
                (groups.add if kind == "+pg" else groups.discard)(int(value))
            elif kind in ("+tmux", "-tmux"):
                (sessions.add if kind == "+tmux" else sessions.discard)(value)
    if not clean:
        _cleanup(groups, sessions, grace_sec)
    os._exit(0)


def _cleanup(groups: set[int], sessions: set[str], grace_sec: float) -> None:
    for pgid in groups:
        signal_group(pgid, signal.SIGTERM)
    for name in sessions:
        kill_tmux_session(name)
    deadline = time.monotonic() + grace_sec
    while groups and time.monotonic() < deadline:
        groups = {pgid for pgid in groups if signal_group(pgid, 0)}
        time.sleep(0.05)
    for pgid in groups:
        signal_group(pgid, signal.SIGKILL)


def kill_tmux_session(name: str) -> bool:
    """``tmux kill-session`` on the exact name; False if no such session."""
    result = subprocess.run(
        ["tmux", "kill-session", "-t", f"={name}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return result.returncode == 0
