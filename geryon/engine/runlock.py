"""The run lock: one geryon execution per run at a time.

``exec/state/run.lock`` is held with ``fcntl.flock`` for the whole execution and
records who holds it. The kernel releases the lock when the holder dies (also on
``kill -9``), so a dead holder never blocks anyone and no stale-lock cleanup is
needed; the text in the file is only there to name the holder in the message.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geryon import timefmt
from geryon.errors import RunLockedError

log = logging.getLogger("geryon.engine.runlock")


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold the run lock at ``path`` or raise :class:`RunLockedError` at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            raise RunLockedError(_held_message(path)) from err
        _record_holder(fd)
        log.debug("holding run lock %s", path)
        yield
    finally:
        os.close(fd)


def _record_holder(fd: int) -> None:
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started_at": timefmt.iso_seconds(),
    }
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder) + "\n").encode("utf-8"), 0)


def _held_message(path: Path) -> str:
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        holder = {}
    who = (
        f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
        f"started {holder.get('started_at', '?')}"
    )
    return (
        f"another geryon execution is running on this run ({who}); "
        f"lock file {path}. Wait for it to finish, or stop that process; "
        "a lock whose holder died is free again"
    )
