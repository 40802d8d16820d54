"""Read the plan in a forked child while this process scans the attempt records.

``status`` over a million configs spends about 0.9 s reading ``plan/configs.jsonl``
and about 3 s scanning the records, one after the other on one core; the project's
machines have two. :func:`start_plan_reader` forks a child that runs
:func:`geryon.observe.planned.load_planned` and sends the result back through a pipe
as one ``marshal`` blob (indices as packed machine integers), so the transfer costs
a small fraction of the work it saves. The parent scans meanwhile and then calls
:meth:`PlanReader.result`.

Nothing is forked when ``os.fork`` is missing, when other threads run (a fork then
copies locks in unknown states), or when the plan and records together are smaller
than :data:`PARALLEL_MIN_BYTES` (a small run would pay the fork for nothing). Any
failure of the child (a damaged plan raises ``ConfigError`` there) makes the parent
read the plan itself, so errors and results are those of the serial path.
"""

from __future__ import annotations

import logging
import marshal
import os
import threading
from array import array
from pathlib import Path

from geryon.layout import RunLayout
from geryon.observe.planned import PlannedConfigs, load_planned
from geryon.observe.scan import paused_gc

log = logging.getLogger("geryon.observe.parallel")

# About 100,000 records of typical size: below this a fork saves nothing worth
# having (measured with bench/status_scale.py).
PARALLEL_MIN_BYTES = 100_000_000
_INDEX_CODE = "q"


class PlanReader:
    """The plan of a run, read in a forked child or (fallback) on demand here."""

    def __init__(self, layout: RunLayout, with_options: bool) -> None:
        self.layout = layout
        self.with_options = with_options
        self.pid = 0
        self.fd = -1

    def start(self) -> None:
        """Fork the child reader; on any failure leave reading to :meth:`result`."""
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError as err:
            log.debug("fork failed (%s); reading the plan serially", err)
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:
            os.close(read_fd)
            _child_main(self.layout, self.with_options, write_fd)
        os.close(write_fd)
        self.pid, self.fd = pid, read_fd

    def result(self) -> PlannedConfigs:
        """The planned configs: the child's, or read here when it had none."""
        if self.pid:
            blob = self._collect()
            if blob:
                return _decode(blob)
            log.debug("the plan reader sent nothing; reading the plan serially")
        return load_planned(self.layout, with_options=self.with_options)

    def _collect(self) -> bytes:
        chunks = []
        with os.fdopen(self.fd, "rb") as pipe:
            while chunk := pipe.read(1 << 22):
                chunks.append(chunk)
        _, code = os.waitpid(self.pid, 0)
        self.pid, self.fd = 0, -1
        return b"".join(chunks) if code == 0 else b""


def start_plan_reader(
    layout: RunLayout,
    result_files: list[Path],
    *,
    with_options: bool = False,
    min_bytes: int | None = None,
) -> PlanReader:
    """A plan reader, forked when the input is large enough (see the module doc)."""
    reader = PlanReader(layout, with_options)
    limit = PARALLEL_MIN_BYTES if min_bytes is None else min_bytes
    if _can_fork() and _input_bytes(layout, result_files) >= limit:
        reader.start()
    return reader


def _can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def _input_bytes(layout: RunLayout, result_files: list[Path]) -> int:
    total = 0
    for path in [layout.configs_jsonl, *result_files]:
        try:
            total += path.stat().st_size
        except OSError:
            continue
    return total


def _child_main(layout: RunLayout, with_options: bool, write_fd: int) -> None:
    """Read the plan, write the blob, and leave without running any exit hooks."""
    code = 1
    try:
        with paused_gc():
            blob = _encode(load_planned(layout, with_options=with_options))
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(blob)
        code = 0
    except BaseException:
        # Any error: the parent reads the plan again and reports it itself.
        code = 1
    finally:
        # os._exit: the child must not run the parent's atexit or test hooks.
        os._exit(code)


def _encode(planned: PlannedConfigs) -> bytes:
    ids = planned.config_ids
    # One newline-joined blob moves (and splits) far faster than a list of
    # strings; an id holding a newline (only possible off the fast path) cannot.
    text = "\n".join(ids)
    joined = text.encode() if text.count("\n") == max(len(ids) - 1, 0) else None
    return marshal.dumps(
        (
            joined,
            ids if joined is None else None,
            len(ids),
            array(_INDEX_CODE, planned.batch_of).tobytes(),
            array(_INDEX_CODE, planned.line_of).tobytes(),
            planned.extra_places,
            planned.options,
            planned.num_batches,
        )
    )


def _decode(blob: bytes) -> PlannedConfigs:
    joined, ids, count, batches, lines, extra, options, num_batches = marshal.loads(
        blob
    )
    raw = None
    if joined is not None:
        raw = joined.split(b"\n") if count else []
        ids = joined.decode().split("\n") if count else []
    return PlannedConfigs(
        config_ids=ids,
        batch_of=_indices(batches),
        extra_places=extra,
        line_of=_indices(lines),
        options=options,
        num_batches=num_batches,
        raw_ids=raw,
    )


def _indices(packed: bytes) -> list[int]:
    values = array(_INDEX_CODE)
    values.frombytes(packed)
    return values.tolist()
