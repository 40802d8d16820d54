"""Use every core for ``status`` on a large run: forked plan reader and record scanners.

``status`` over a million attempt records spends about 1 s reading
``plan/configs.jsonl`` and 3.5-5 s scanning the records on one core; the project's
machines have two. For a large run (plan and records together at least
:data:`PARALLEL_MIN_BYTES`):

* :func:`start_plan_reader` forks a child that runs
  :func:`geryon.observe.planned.load_planned` and sends the result back through a
  pipe as one ``marshal`` blob (indices as packed machine integers);
* :func:`scan_records` cuts the result files into as many byte ranges of equal size
  as there are usable cores (cut at line starts; only when the records without a
  record index are that large: indexed records are read faster than their rows
  would move between processes), scans the first range here and
  the others in forked children, each of which sends back its
  :meth:`~geryon.observe.scan.RecordScanner.export` as a ``marshal`` blob; the
  parent merges them in file order, so the result is exactly the serial scan's.

Nothing is forked when ``os.fork`` is missing or other threads run (a fork then
copies locks in unknown states). Any failure of a child (a damaged plan, or a
corrupt line under ``--strict-jsonl``) makes the parent do that child's work
itself, so errors and results are those of the serial path. A child leaves with
``os._exit`` and never runs the parent's exit hooks.
"""

from __future__ import annotations

import contextlib
import logging
import marshal
import os
import threading
from array import array
from collections.abc import Callable
from pathlib import Path

from geryon.attempt_index import index_path
from geryon.layout import RunLayout
from geryon.observe.planned import PlannedConfigs, load_planned
from geryon.observe.scan import ByteRange, RecordScan, RecordScanner, paused_gc

log = logging.getLogger("geryon.observe.parallel")

# About 100,000 records of typical size: below this a fork saves nothing worth
# having (measured with bench/status_scale.py).
PARALLEL_MIN_BYTES = 100_000_000
# More scanners than this cost more in merging than they save.
MAX_SCANNERS = 4
_INDEX_CODE = "q"


class Child:
    """A forked process computing one bytes value for the parent."""

    def __init__(self, produce: Callable[[], bytes]) -> None:
        self.pid, self.fd = 0, -1
        read_fd, write_fd = os.pipe()
        try:
            pid = os.fork()
        except OSError as err:
            log.debug("fork failed (%s); working serially", err)
            os.close(read_fd)
            os.close(write_fd)
            return
        if pid == 0:
            os.close(read_fd)
            _child_main(produce, write_fd)
        os.close(write_fd)
        self.pid, self.fd = pid, read_fd

    def result(self) -> bytes:
        """The child's value; empty when there is no child or it failed."""
        if not self.pid:
            return b""
        chunks = []
        with os.fdopen(self.fd, "rb") as pipe:
            while chunk := pipe.read(1 << 22):
                chunks.append(chunk)
        _, code = os.waitpid(self.pid, 0)
        self.pid, self.fd = 0, -1
        return b"".join(chunks) if code == 0 else b""

    def discard(self) -> None:
        """Stop and reap the child when its value is no longer wanted."""
        if not self.pid:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 9)
        os.close(self.fd)
        os.waitpid(self.pid, 0)
        self.pid, self.fd = 0, -1


def _child_main(produce: Callable[[], bytes], write_fd: int) -> None:
    """Compute, write the value, and leave without running any exit hooks."""
    code = 1
    try:
        with paused_gc():
            blob = produce()
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(blob)
        code = 0
    except BaseException:
        # Any error: the parent does the work again and reports it itself.
        code = 1
    finally:
        os._exit(code)


class PlanReader:
    """The plan of a run, read in a forked child or (fallback) on demand here."""

    def __init__(self, layout: RunLayout, with_options: bool) -> None:
        self.layout = layout
        self.with_options = with_options
        self.child: Child | None = None

    def start(self) -> None:
        """Fork the child reader; on any failure leave reading to :meth:`result`."""
        layout, with_options = self.layout, self.with_options
        self.child = Child(
            lambda: _encode(load_planned(layout, with_options=with_options))
        )

    @property
    def pid(self) -> int:
        return self.child.pid if self.child is not None else 0

    def result(self) -> PlannedConfigs:
        """The planned configs: the child's, or read here when it had none."""
        if self.child is not None:
            blob = self.child.result()
            if blob:
                return _decode(blob)
            log.debug("the plan reader sent nothing; reading the plan serially")
        return load_planned(self.layout, with_options=self.with_options)


def start_plan_reader(
    layout: RunLayout,
    result_files: list[Path],
    *,
    with_options: bool = False,
    min_bytes: int | None = None,
) -> PlanReader:
    """A plan reader, forked when the input is large enough (see the module doc)."""
    reader = PlanReader(layout, with_options)
    if _worth_forking([layout.configs_jsonl, *result_files], min_bytes):
        reader.start()
    return reader


def scan_records(
    files: list[Path],
    *,
    strict: bool = False,
    count_batches: bool = False,
    min_bytes: int | None = None,
    workers: int | None = None,
) -> RecordScan:
    """:func:`geryon.observe.scan.scan_results` spread over the usable cores."""
    sizes = [_size(path) for path in files]
    count = usable_cores() if workers is None else workers
    count = min(count, MAX_SCANNERS)
    # Indexed records are read so fast that moving their rows between
    # processes would cost more than it saves: only the JSON read alone counts.
    unindexed = [path for path in files if not index_path(path).is_file()]
    if count < 2 or not _worth_forking(unindexed, min_bytes):
        count = 1
    first, *rest = split_ranges(files, sizes, count)
    parts = [first, *[part for part in rest if part]]
    scanner = RecordScanner(files, strict=strict, count_batches=count_batches)
    with paused_gc():
        children = [
            _scan_child(files, part, strict, count_batches) for part in parts[1:]
        ]
        try:
            scanner.feed(parts[0])
            for child, part in zip(children, parts[1:], strict=True):
                blob = child.result()
                if blob:
                    scanner.absorb(marshal.loads(blob))
                else:
                    log.debug("a record scanner sent nothing; scanning its part here")
                    scanner.feed(part)
        finally:
            for child in children:
                child.discard()
        scanner.finish()
    return scanner.scan


def _scan_child(
    files: list[Path], part: list[ByteRange], strict: bool, count_batches: bool
) -> Child:
    def produce() -> bytes:
        scanner = RecordScanner(files, strict=strict, count_batches=count_batches)
        scanner.feed(part)
        return marshal.dumps(scanner.export())

    return Child(produce)


def split_ranges(
    files: list[Path], sizes: list[int], count: int
) -> list[list[ByteRange]]:
    """``count`` lists of byte ranges of about equal size covering ``files`` in
    order, each range cut at a line start (the first list is never empty)."""
    total = sum(sizes)
    if count < 2 or total == 0:
        return [[(index, 0, None) for index in range(len(files))]]
    cuts = [
        _line_start_after(files, sizes, total * k // count) for k in range(1, count)
    ]
    parts: list[list[ByteRange]] = []
    begin = (0, 0)
    for cut in [*cuts, None]:
        parts.append(_ranges_between(sizes, begin, cut))
        if cut is not None:
            begin = cut
    return parts


def _line_start_after(
    files: list[Path], sizes: list[int], target: int
) -> tuple[int, int]:
    """(file index, offset) of the first line start at or after global byte ``target``."""
    for index, size in enumerate(sizes):
        if target < size:
            if target == 0:
                return index, 0
            with files[index].open("rb") as handle:
                handle.seek(target - 1)
                handle.readline()
                offset = handle.tell()
            return (index, offset) if offset < size else (index + 1, 0)
        target -= size
    return len(sizes), 0


def _ranges_between(
    sizes: list[int], begin: tuple[int, int], end: tuple[int, int] | None
) -> list[ByteRange]:
    """The ranges from position ``begin`` up to ``end`` (None: to the very end)."""
    last = len(sizes) - 1 if end is None else end[0]
    ranges: list[ByteRange] = []
    for index in range(begin[0], min(last, len(sizes) - 1) + 1):
        start = begin[1] if index == begin[0] else 0
        stop = end[1] if end is not None and index == end[0] else None
        if stop is not None and stop <= start:
            continue
        ranges.append((index, start, stop))
    return ranges


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _worth_forking(paths: list[Path], min_bytes: int | None) -> bool:
    limit = PARALLEL_MIN_BYTES if min_bytes is None else min_bytes
    can_fork = hasattr(os, "fork") and threading.active_count() == 1
    return can_fork and sum(_size(path) for path in paths) >= limit


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


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
