"""What only a live run knows: is it active, which batches are in flight, what runs now.

Attempt records are written when an attempt *ends*, so a command that is running
has no record yet; it shows only as a ``command_start`` event without its
``command_complete``. Such an unfinished start is reported as ``running`` only
while the run is demonstrably alive:

* the geryon run lock ``exec/state/run.lock`` is held by some process (read from
  ``/proc/locks`` where it exists, so probing never takes the lock away from a
  runner that is just starting; elsewhere by a non-blocking shared ``flock``), and
* Snakemake still has an ``incomplete`` marker for the batch's output
  ``markers/<selection>/batch_<B>.done`` (when Snakemake state exists at all).

The unfinished starts of a dead run (a crash, ``kill -9``, a lost node) are *not*
reported as running. They stay ``missing`` (or keep the status of the config's
previous attempt): the attempt records are the single source of truth, ``collect``
and the wrapper's resume see the same, and ``rerun --status missing`` picks them up.
"""

from __future__ import annotations

import base64
import binascii
import errno
import fcntl
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from geryon.layout import RunLayout

log = logging.getLogger("geryon.observe.live")

_MARKER = re.compile(r"(?:^|/)markers/([^/]+)/batch_(\d+)\.done$")
_BATCH_STREAM = re.compile(r"^batch_(\d+)\.jsonl$")
_EVENT = re.compile(
    rb'"attempt_id":"([^"\\\n]*)"[^\n]*?"config_id":"([^"\\\n]*)"'
    rb'[^\n]*?"event":"(command_start|command_complete)"'
)
_ERROR_RULE = re.compile(r"^Error in rule (\S+):\s*$")
_OUTPUT_LINE = re.compile(r"^\s+output:\s*(.+?)\s*$")


def run_lock_path(layout: RunLayout) -> Path:
    return layout.state_dir / "run.lock"


def run_lock_held(layout: RunLayout) -> bool:
    """True when some process holds the run lock (``flock`` or POSIX lock)."""
    path = run_lock_path(layout)
    try:
        info = path.stat()
    except FileNotFoundError:
        return False
    held = _lock_in_proc_locks(info.st_ino, info.st_dev)
    if held is None:
        return _flock_probe(path)
    return held


def _lock_in_proc_locks(inode: int, device: int) -> bool | None:
    """Look the lock file up in ``/proc/locks``.

    True for a lock on the same device and inode; None (ask ``flock`` instead)
    when ``/proc/locks`` is unreadable or only the inode matches, as happens on
    overlay file systems that report another device number there.
    """
    try:
        text = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    exact = f"{os.major(device):02x}:{os.minor(device):02x}:{inode}"
    suffix = f":{inode}"
    inode_only = False
    for line in text.splitlines():
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 1234 00:2d:5678 0 EOF"; "->" marks waiters.
        if "->" in fields or len(fields) < 6:
            continue
        where = fields[5].lower()
        if where == exact:
            return True
        inode_only = inode_only or where.endswith(suffix)
    return None if inode_only else False


def _flock_probe(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as err:
        return err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)
    finally:
        os.close(fd)
    return False


@dataclass
class SnakemakeState:
    """Per-batch Snakemake facts that are cheap to read (directory listings, one log)."""

    done: set[int] = field(default_factory=set)
    incomplete: set[int] = field(default_factory=set)
    failed: set[int] = field(default_factory=set)
    has_state: bool = False
    log_path: Path | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "done_batch_indices": sorted(self.done),
            "incomplete_batch_indices": sorted(self.incomplete),
            "failed_batch_indices": sorted(self.failed),
            "latest_log": str(self.log_path) if self.log_path else None,
        }


def snakemake_state(layout: RunLayout) -> SnakemakeState:
    """Done markers (any selection), ``incomplete`` markers and the latest log's errors."""
    state = SnakemakeState()
    markers = layout.markers_dir
    if markers.is_dir():
        for selection in markers.iterdir():
            state.done.update(_done_batches(selection))
    dot = layout.exec_dir / ".snakemake"
    state.has_state = dot.is_dir()
    incomplete = dot / "incomplete"
    if incomplete.is_dir():
        for marker in incomplete.rglob("*"):
            batch = _batch_of_encoded(marker, incomplete)
            if batch is not None:
                state.incomplete.add(batch)
    state.log_path = _latest_log(dot / "log")
    if state.log_path is not None:
        state.failed = _failed_batches(state.log_path) - state.done
    return state


def _done_batches(selection: Path) -> set[int]:
    if not selection.is_dir():
        return set()
    found = set()
    for name in os.listdir(selection):
        if name.startswith("batch_") and name.endswith(".done"):
            digits = name[len("batch_") : -len(".done")]
            if digits.isdigit():
                found.add(int(digits))
    return found


def _batch_of_encoded(marker: Path, root: Path) -> int | None:
    """Snakemake names an incomplete marker by the URL-safe base64 of the output path
    (long names are split into sub-directories)."""
    if not marker.is_file():
        return None
    encoded = "".join(marker.relative_to(root).parts)
    try:
        decoded = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return None
    match = _MARKER.search(decoded.decode("utf-8", errors="replace"))
    return int(match.group(2)) if match else None


def _latest_log(log_dir: Path) -> Path | None:
    if not log_dir.is_dir():
        return None
    logs = sorted(log_dir.glob("*.snakemake.log"))
    return logs[-1] if logs else None


def _failed_batches(log_path: Path) -> set[int]:
    """Batches named in the ``output:`` line of each ``Error in rule ...`` block."""
    failed: set[int] = set()
    in_error = False
    try:
        lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return failed
    for line in lines:
        if _ERROR_RULE.match(line):
            in_error = True
            continue
        if not in_error:
            continue
        if line and not line[0].isspace():
            in_error = False
            continue
        output = _OUTPUT_LINE.match(line)
        if output:
            for path in output.group(1).split(", "):
                match = _MARKER.search(path.strip())
                if match:
                    failed.add(int(match.group(2)))
    return failed


@dataclass(frozen=True)
class RunningAttempt:
    config_id: str
    attempt_id: str
    batch_index: int
    events_path: Path


def running_attempts(
    layout: RunLayout, state: SnakemakeState
) -> dict[str, RunningAttempt]:
    """Unfinished ``command_start`` events of a live run, by config id.

    Empty unless the run lock is held. With Snakemake state, only the batch streams
    of batches that have an ``incomplete`` marker are read, so this stays cheap on
    huge runs; without it every batch stream is read.
    """
    if not run_lock_held(layout):
        return {}
    logs = layout.exec_dir / "batch_logs"
    if not logs.is_dir():
        return {}
    wanted = state.incomplete if state.has_state else None
    running: dict[str, RunningAttempt] = {}
    for task_dir in sorted(logs.iterdir()):
        if task_dir.is_dir():
            running.update(_task_running(task_dir, wanted))
    return running


def _task_running(task_dir: Path, wanted: set[int] | None) -> dict[str, RunningAttempt]:
    found: dict[str, RunningAttempt] = {}
    for name in sorted(os.listdir(task_dir)):
        match = _BATCH_STREAM.match(name)
        if not match:
            continue
        batch = int(match.group(1))
        if wanted is not None and batch not in wanted:
            continue
        found.update(_stream_running(task_dir / name, batch))
    return found


def _stream_running(path: Path, batch: int) -> dict[str, RunningAttempt]:
    started: dict[bytes, bytes] = {}
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    for match in _EVENT.finditer(data):
        attempt_id, config_id, event = match.groups()
        if event == b"command_start":
            started[attempt_id] = config_id
        else:
            started.pop(attempt_id, None)
    return {
        cid.decode(): RunningAttempt(cid.decode(), aid.decode(), batch, path)
        for aid, cid in started.items()
    }
