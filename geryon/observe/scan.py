"""Fast, read-only scanning of attempt records (spec O1, O2, O10).

A run of a million commands has a million attempt records (about 1 KB each), and
``status`` must answer in seconds. ``json.loads`` costs about 7 us per record on
the project's 2-core machines, and a regular expression that walks the whole line
about 15 us, so neither can touch every line. Records written by geryon are
canonical JSON (sorted keys, no whitespace, fixed-width times): the scanner finds
the two top-level keys it needs with ``bytes.find`` (which skips the long command
string at C speed) and matches two short anchored patterns there (about 3 us per
record, measured with ``bench/status_scale.py``; a third of that was the cyclic
garbage collector walking the rows already kept, hence :func:`paused_gc`).
Each config's latest attempt is kept as a raw row (:mod:`geryon.observe.latest`).
Every line the fast path refuses is handed to ``json.loads``, so odd but valid
records (other key sets, upstream's variable-width times, spaces) still count,
and a line that is not a JSON object is skipped with a warning naming file and
line, or rejected in strict mode, exactly like :func:`geryon.storage.read_jsonl`.

Why only top-level fields are found: inside a JSON string every ``"`` is escaped,
so the bytes ``","config_id":"`` can only be a key, and its first occurrence is
top-level because no object opens before it in a record; the only nested object,
``selected_options``, sorts before ``start_time``, so the *last* ``start_time`` key
is the top-level one.
"""

from __future__ import annotations

import gc
import json
import logging
import mmap
import os
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import compress, count, repeat
from operator import add, and_, eq, gt, itemgetter, le, ne, or_
from pathlib import Path
from typing import Any

from geryon.attempt_index import (
    BATCH,
    CONFIG_ID,
    END_US,
    LENGTH,
    MAGIC,
    OFFSET,
    STATUS,
    STATUS_WORDS,
    IndexView,
    index_path,
    read_index,
)
from geryon.errors import ConfigError
from geryon.observe.latest import TIME_GROUP, Latest, LatestMap, Row, order_key

log = logging.getLogger("geryon.observe.scan")

_MID = re.compile(
    rb'","config_id":"([^"\\\n]*)","duration_sec":([-+.\deE]+|null),"end_time":"'
    + TIME_GROUP
    + rb'","'
)
_TAIL = re.compile(
    rb',"start_time":"' + TIME_GROUP + rb'","status":"([^"\\\n]+)","status_reason":'
    rb'(?:"([^"\\\n]*)"|null),"'
)
_BATCH = re.compile(rb'"batch_index":(-?\d+),"command":"')
_ATTEMPT = re.compile(rb'"attempt_id":"([^"\\\n]*)"')
_CONFIG_KEY = b'","config_id":"'
_START_KEY = b',"start_time":"'
_CLOSE_BRACE = ord("}")
_NEWLINE = ord("\n")
_END = itemgetter(0)
# Sorts before every end time: the kept row of an id not seen yet.
_NO_END = (b"",)


@dataclass
class RecordScan:
    """Aggregates over every attempt record of a run, built without one object per record.

    ``latest`` maps config id to its latest attempt; ``attempts_by_status`` counts
    every record (a missing status counts as ``unknown``); ``by_batch`` (only
    filled on request) counts records per batch index and status.
    """

    files: list[Path]
    latest: LatestMap = field(default_factory=LatestMap)
    attempts_by_status: dict[str, int] = field(default_factory=dict)
    by_batch: dict[int, dict[str, int]] = field(default_factory=dict)
    corrupt_lines: int = 0

    @property
    def total_attempts(self) -> int:
        return sum(self.attempts_by_status.values())

    def read_line(self, file_index: int, offset: int) -> bytes:
        with self.files[file_index].open("rb") as handle:
            handle.seek(offset)
            return handle.readline()

    def read_record(self, config_id: str) -> dict[str, Any] | None:
        """The full latest record of ``config_id``, read again from its file."""
        latest = self.latest.get(config_id)
        if latest is None:
            return None
        value = json.loads(self.read_line(latest.file_index, latest.offset))
        return value if isinstance(value, dict) else None

    def attempt_id(self, item: Latest) -> str:
        if item.attempt_id is None:
            match = _ATTEMPT.search(self.read_line(item.file_index, item.offset))
            item.attempt_id = match.group(1).decode("utf-8") if match else ""
        return item.attempt_id

    def is_later(self, candidate: Latest, current: Latest) -> bool:
        """The shared ordering; the attempt id breaks exact time ties (and the
        place in the files, identical attempts)."""
        if candidate.time_key != current.time_key:
            return candidate.time_key > current.time_key
        return (
            self.attempt_id(candidate),
            candidate.file_index,
            candidate.offset,
        ) >= (self.attempt_id(current), current.file_index, current.offset)


class RecordScanner:
    """Feeds parts of the result files through the index, the fast path and the
    fallback.

    Index: the entries of :mod:`geryon.attempt_index` that the records confirm
    are taken in bulk (``struct`` and C-level ``map`` passes, about 1 us per
    record); the byte ranges no entry covers go through the fast path.

    Fast path per line: find the top-level ``config_id`` (first occurrence) and
    ``start_time`` (last occurrence) keys and match short anchored patterns there.
    A line is refused by the fast path (and parsed by ``json.loads``) unless it
    ends with ``}``, opens no object before ``config_id`` and has a single
    top-level ``config_id`` key: a torn record followed by a whole one breaks one
    of these, whatever the place of the tear.
    """

    def __init__(self, files: list[Path], *, strict: bool, count_batches: bool) -> None:
        self.scan = scan = RecordScan(files=list(files))
        self.strict = strict
        self.count_batches = count_batches
        # Raw rows, keyed by the config id's bytes (see LatestMap).
        self.latest: dict[bytes, Any] = scan.latest._rows
        # The id and status of every fast-path record, counted at the end.
        self.seen_ids: list[bytes] = []
        self.seen_status: list[bytes] = []
        self.absorbed_attempts: dict[bytes, int] = {}
        self.absorbed_status: Counter[bytes] = Counter()
        self.indexed_status: Counter[bytes] = Counter()
        self.by_batch: Counter[tuple[Any, bytes]] = Counter()
        self.slow: list[tuple[dict[str, Any], int, int]] = []

    def feed(self, ranges: list[ByteRange]) -> None:
        """Scan the lines of these parts of the result files, in order."""
        for file_index, start, end in ranges:
            self.feed_file(file_index, start, end)

    def feed_file(self, file_index: int, start: int, end: int | None) -> None:
        """Scan the lines of one file from byte ``start`` (a line start) to
        ``end`` (a line start; None: the end of the file as it is now)."""
        path = self.scan.files[file_index]
        with path.open("rb") as handle:
            if os.fstat(handle.fileno()).st_size <= start:
                return
            # A read-only mapping: no copy of a gigabyte of records, and the
            # file cannot be changed through it.
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        with data:
            stop = len(data) if end is None else min(end, len(data))
            for first, last in self._feed_indexed(file_index, data, start, stop):
                self._feed(file_index, path, data, first, last)

    def _feed_indexed(
        self, file_index: int, data: mmap.mmap, start: int, stop: int
    ) -> list[tuple[int, int]]:
        """Take the index entries of the records in ``[start, stop)``; return
        the byte ranges they leave for the line scanner."""
        found = _confirmed_index(self.scan.files[file_index], data, start, stop)
        if found is None:
            return [(start, stop)]
        view, offsets, record_ends = found
        ids = view.words(CONFIG_ID, 40)
        ends = view.integers(END_US, "q")
        codes = view.column(STATUS, 1)
        self.seen_ids.extend(ids)
        for code, word in STATUS_WORDS.items():
            self.indexed_status[word] += codes.count(code)
        if self.count_batches:
            batches = view.integers(BATCH, "q")
            statuses = map(STATUS_WORDS.__getitem__, codes)
            self.by_batch.update(zip(batches, statuses, strict=False))
        self._keep_latest_indexed(file_index, view, ids, ends)
        return _uncovered(start, stop, offsets, record_ends)

    def _keep_latest_indexed(
        self, file_index: int, view: IndexView, ids: list[bytes], ends: list[int]
    ) -> None:
        """Keep, per config id, the later of its kept row and these entries
        (which come after every row kept so far, in this order).

        Attempts of a config are nearly always recorded in time order, so the
        last entry of each id is taken as its latest, and one comparison pass
        finds the ids for which an earlier entry is later or equal in time: only
        those go through the exact ordering one entry at a time. Rows are built
        for the last entries only.
        """
        last = dict(zip(ids, count()))
        odd: set[bytes] = set()
        if len(last) != len(ids):
            last_at = list(map(last.__getitem__, ids))
            last_ends = list(map(ends.__getitem__, last_at))
            # Usually no entry is later than its id's last one and only the last
            # ones themselves have its end time: two cheap passes tell.
            ties = sum(map(eq, ends, last_ends))
            if ties != len(last) or any(map(gt, ends, last_ends)):
                later = map(gt, ends, last_ends)
                tied = map(and_, map(eq, ends, last_ends), map(ne, count(), last_at))
                odd = {ids[i] for i in compress(count(), map(or_, later, tied))}
            for key in odd:
                del last[key]
        rows = view.rows(list(last.values()), file_index)
        self._keep_later(list(last), rows)
        if odd:
            positions = [i for i, key in enumerate(ids) if key in odd]
            rows = view.rows(positions, file_index)
            for position, row in zip(positions, rows, strict=True):
                self._offer(ids[position], row)

    def _keep_later(self, ids: list[bytes], rows: list[Row]) -> None:
        """Keep each row (one per id) that is later than the id's kept row."""
        latest = self.latest
        kept_ends = list(map(_END, map(latest.get, ids, repeat(_NO_END))))
        ends = list(map(_END, rows))
        later = map(gt, ends, kept_ends)
        latest.update(compress(zip(ids, rows, strict=True), later))
        for position in compress(count(), map(eq, ends, kept_ends)):
            self._offer(ids[position], rows[position])

    def _offer(self, key: bytes, row: Row) -> None:
        current = self.latest.get(key)
        if current is None or self._row_is_later(row, current):
            self.latest[key] = row

    def _feed(
        self, file_index: int, path: Path, data: mmap.mmap, pos: int, size: int
    ) -> None:
        find, rfind = data.find, data.rfind
        mid, tail = _MID.match, _TAIL.match
        latest, seen_status = self.latest, self.seen_status.append
        seen_id = self.seen_ids.append
        count_batches = self.count_batches
        while pos < size:
            start = pos
            eol = find(b"\n", start, size)
            if eol < 0:
                eol = size
            pos = eol + 1
            c = find(_CONFIG_KEY, start, eol)
            m2 = mid(data, c) if c > start else None
            s = rfind(_START_KEY, c, eol) if m2 is not None else -1
            m3 = tail(data, s) if s > c else None
            if (
                m2 is None
                or m3 is None
                or data[eol - 1] != _CLOSE_BRACE
                # A single-byte search first: two-byte needles are slow.
                or (find(b"{", start + 1, c) >= 0 and find(b'{"', start + 1, c) >= 0)
                or rfind(_CONFIG_KEY, c + 1, s) >= 0
            ):
                self._fallback(file_index, path, data, start, eol)
                continue
            cid, dur, end = m2.groups()
            begin, status, reason = m3.groups()
            seen_status(status)
            seen_id(cid)
            if count_batches:
                self._count_batch(data, start, c, status)
            current = latest.get(cid)
            if current is None or end > current[0]:
                latest[cid] = (end, begin, status, reason, dur, start, file_index)
            elif end == current[0]:
                self._offer(cid, (end, begin, status, reason, dur, start, file_index))

    def _row_is_later(self, row: Row, current: Row) -> bool:
        """The shared ordering (Q33, Q35) for a row read after ``current``."""
        if row[0] != current[0]:
            return bool(row[0] > current[0])
        if row[1] != current[1]:
            return bool(row[1] > current[1])
        return self._tie(row, current)

    def _tie(self, row: Row, current: Row) -> bool:
        """Equal end and start times: the larger attempt id is the later attempt
        (then the later place in the files, for one attempt recorded twice)."""
        mine = _ATTEMPT.search(self.scan.read_line(row[6], row[5]))
        theirs = _ATTEMPT.search(self.scan.read_line(current[6], current[5]))
        return (mine.group(1) if mine else b"", row[6], row[5]) >= (
            theirs.group(1) if theirs else b"",
            current[6],
            current[5],
        )

    def _count_batch(self, data: mmap.mmap, pos: int, c: int, status: bytes) -> None:
        match = _BATCH.search(data, pos, c + 1)
        self.by_batch[(match.group(1) if match else b"-1", status)] += 1

    def _fallback(
        self, file_index: int, path: Path, data: mmap.mmap, offset: int, eol: int
    ) -> None:
        """Parse the line ``data[offset:eol]`` the fast path did not take."""
        raw = data[offset:eol]
        if not raw.strip():
            return
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if isinstance(value, dict):
            self.slow.append((value, file_index, offset))
            return
        # Rare: count the lines before this one only now.
        self._corrupt(path, data[:offset].count(b"\n") + 1)
        glued = _glued_record(raw)
        if glued is not None:
            self.slow.append((glued[1], file_index, offset + glued[0]))

    def _corrupt(self, path: Path, number: int) -> None:
        if self.strict:
            raise ConfigError(
                f"line {number} is not a complete JSON object",
                file=path,
                hint="The file was probably cut by a crash; rerun without "
                "--strict-jsonl to skip such lines",
            )
        log.warning("%s:%d: skipped a line that is not a JSON object", path, number)
        self.scan.corrupt_lines += 1

    def _attempt_counts(self) -> dict[bytes, int]:
        counts = Counter(self.seen_ids)
        _add_counts(counts, self.absorbed_attempts)
        return counts

    def _status_counts(self) -> Counter[bytes]:
        return Counter(self.seen_status) + self.absorbed_status + self.indexed_status

    def export(self) -> tuple[Any, ...]:
        """What this scanner found, as plain values ``marshal`` can carry to the
        process that :meth:`absorb` s them (see :mod:`geryon.observe.parallel`)."""
        return (
            self.latest,
            dict(self._attempt_counts()),
            dict(self._status_counts()),
            dict(self.by_batch),
            self.slow,
            self.scan.corrupt_lines,
        )

    def absorb(self, exported: tuple[Any, ...]) -> None:
        """Merge in what another scanner found in lines that come after all of
        this scanner's lines: the result is that of one scanner reading both."""
        rows, attempts, statuses, by_batch, slow, corrupt = exported
        mine = self.latest
        if not mine.keys().isdisjoint(rows):
            for key in mine.keys() & rows.keys():
                if not self._row_is_later(rows[key], mine[key]):
                    rows[key] = mine[key]
        mine.update(rows)
        _add_counts(self.absorbed_attempts, attempts)
        self.absorbed_status.update(statuses)
        self.by_batch.update(by_batch)
        self.slow.extend(slow)
        self.scan.corrupt_lines += corrupt

    def finish(self) -> None:
        """Decode the fast-path aggregates and merge the slow-path records in."""
        scan = self.scan
        if not self.absorbed_attempts and len(self.seen_ids) == len(self.latest):
            # As many records as distinct ids: one record each (the default).
            scan.latest.count_attempts_with(dict)
        else:
            scan.latest.count_attempts_with(self._attempt_counts)
        statuses = self._status_counts()
        for status, number in statuses.items():
            text = status.decode("utf-8")
            scan.attempts_by_status[text] = (
                scan.attempts_by_status.get(text, 0) + number
            )
        for (batch, status), number in self.by_batch.items():
            counts = scan.by_batch.setdefault(int(batch), {})
            text = status.decode("utf-8")
            counts[text] = counts.get(text, 0) + number
        for record, file_index, offset in self.slow:
            _add_slow(scan, record, file_index, offset, self.count_batches)


def _glued_record(raw: bytes) -> tuple[int, dict[str, Any]] | None:
    """A whole record appended right after a torn one (a crash cut the writer
    before its newline): its position in ``raw`` and its value.

    Inside a JSON string every quote is escaped, so an object can only start at
    an unescaped ``{"``; the first such place from which the rest of the line
    parses as a record with a config id is the glued record.
    """
    position = raw.find(b'{"', 1)
    while position > 0:
        try:
            value = json.loads(raw[position:])
        except ValueError:
            value = None
        if isinstance(value, dict) and "config_id" in value:
            return position, value
        position = raw.find(b'{"', position + 1)
    return None


def _add_counts(counts: dict[bytes, int], more: dict[bytes, int]) -> None:
    """Add ``more`` into ``counts`` (at C speed when no key is in both)."""
    if counts.keys().isdisjoint(more):
        counts.update(more)
        return
    for key, number in more.items():
        counts[key] = counts.get(key, 0) + number


def _confirmed_index(
    path: Path, data: mmap.mmap, start: int, stop: int
) -> tuple[IndexView, list[int], list[int]] | None:
    """The index entries of the records in ``[start, stop)`` with the offsets
    where their records start and end, or None when the index is missing or does not fit the records
    (see :mod:`geryon.attempt_index`)."""
    view = read_index(index_path(path))
    if view is None:
        return None
    offsets = view.integers(OFFSET, "Q")
    lengths = view.integers(LENGTH, "I")
    ends = list(map(add, offsets, lengths))
    # Usually each record starts where the one before ends (no gap, no overlap).
    if ends[-1] > len(data) or (
        ends[:-1] != offsets[1:] and not all(map(le, ends[:-1], offsets[1:]))
    ):
        log.debug("%s: index does not fit the records; reading them all", path)
        return None
    first = bisect_left(offsets, start)
    last = bisect_right(ends, stop)
    if last <= first:
        return None
    if not (
        _confirms(data, view.entry(first)) and _confirms(data, view.entry(last - 1))
    ):
        log.debug("%s: index does not match the records; reading them all", path)
        return None
    if first == 0 and last == len(view):
        return view, offsets, ends
    return view.part(first, last), offsets[first:last], ends[first:last]


def _confirms(data: mmap.mmap, item: tuple[Any, ...]) -> bool:
    """Whether the record at the entry's place is a whole line with its ids."""
    length, config_id, attempt_id, offset = item[1], item[4], item[5], item[11]
    line = data[offset : offset + length]
    return (
        item[0] == MAGIC
        and (offset == 0 or data[offset - 1] == _NEWLINE)
        and line.endswith(b"}\n")
        and b'"config_id":"' + config_id + b'"' in line
        and b'"attempt_id":"' + attempt_id.rstrip(b"\0") + b'"' in line
    )


def _uncovered(
    start: int, stop: int, offsets: list[int], ends: list[int]
) -> list[tuple[int, int]]:
    """The parts of ``[start, stop)`` outside the records at ``[offsets[i],
    ends[i])`` (in order, not overlapping)."""
    gaps = [(start, offsets[0])]
    if ends[:-1] != offsets[1:]:
        # Only where one record does not end where the next begins (rare).
        breaks = compress(count(), map(ne, ends[:-1], offsets[1:]))
        gaps.extend((ends[index], offsets[index + 1]) for index in breaks)
    gaps.append((ends[-1], stop))
    return [(first, last) for first, last in gaps if last > first]


def _add_slow(
    scan: RecordScan,
    record: dict[str, Any],
    file_index: int,
    offset: int,
    count_batches: bool,
) -> None:
    config_id = record.get("config_id")
    if config_id is None or config_id == "":
        return
    status = record.get("status")
    status_text = status if isinstance(status, str) and status else "unknown"
    by_status = scan.attempts_by_status
    by_status[status_text] = by_status.get(status_text, 0) + 1
    if count_batches:
        batch = record.get("batch_index")
        index = batch if isinstance(batch, int) and not isinstance(batch, bool) else -1
        counts = scan.by_batch.setdefault(index, {})
        counts[status_text] = counts.get(status_text, 0) + 1
    end, begin, attempt_id = order_key(record)
    reason = record.get("status_reason")
    candidate = Latest(
        end_time=end,
        start_time=begin,
        attempt_id=attempt_id,
        status=status if isinstance(status, str) and status else "missing",
        reason=reason if isinstance(reason, str) else None,
        duration_sec=_number(record.get("duration_sec")),
        file_index=file_index,
        offset=offset,
    )
    current = scan.latest.get(str(config_id))
    if current is None:
        scan.latest.put(str(config_id), candidate)
        return
    current.attempts += 1
    if scan.is_later(candidate, current):
        candidate.attempts = current.attempts
        scan.latest.put(str(config_id), candidate)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block without the cyclic garbage collector.

    A scan keeps a million small lists alive, and every automatic collection
    walks all of them again: on 1M records that is a third of the scan time
    (measured with ``bench/status_scale.py``). The readers build no reference
    cycles, so nothing is lost by letting collections resume afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# Part of a result file: its index in the scan's file list, the byte offset of a
# line start, and the offset where the part ends (a line start; None: end of file).
ByteRange = tuple[int, int, int | None]


def scan_results(
    files: list[Path], *, strict: bool = False, count_batches: bool = False
) -> RecordScan:
    """Aggregate every attempt record of ``files`` (read in the given order).

    Records never change: files are opened read-only. With ``strict`` the first
    line that is not a JSON object raises :class:`ConfigError` (exit 2).
    :func:`geryon.observe.parallel.scan_records` gives the same result using
    every core.
    """
    scanner = RecordScanner(files, strict=strict, count_batches=count_batches)
    with paused_gc():
        scanner.feed([(index, 0, None) for index in range(len(files))])
        scanner.finish()
    return scanner.scan
