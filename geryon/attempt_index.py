"""Attempt records and their fixed-width index (spec E34, O1, O2).

The wrapper appends every attempt record to ``exec/results/task_<J>_<T>.jsonl``
(the source of truth: canonical JSON, one ``O_APPEND`` write per line) and then
one fixed-width binary entry to ``exec/state/record_index/task_<J>_<T>.idx``
holding what ``status`` needs of the record: where it is, its config id, times,
status, reason, duration and batch. ``status`` over a million records reads the
entries with one ``struct.iter_unpack`` instead of matching patterns in a
gigabyte of JSON (:mod:`geryon.observe.scan`).

The index only ever speeds reading up; it never decides anything on its own:

* a record whose fields do not fit an entry (an id that is not 40 plain
  characters, a time that is not fixed-width, a long status) gets no entry;
* a crash between the two writes leaves a record without an entry;
* the reader checks entries against the records (offsets in order, the first and
  last entry's record carry its id and attempt id) and reads every byte range no
  entry covers from the records themselves, or the whole file when the index
  does not fit it.
"""

from __future__ import annotations

import math
import os
import re
import struct
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import add, itemgetter, mul
from pathlib import Path
from typing import Any

from geryon import canonical
from geryon.timefmt import parse_iso

MAGIC = b"G3"
# magic, record length (with its newline), batch index, end time in microseconds
# since the epoch, config id, attempt id, then the fields a reader keeps for a
# config's latest attempt, in the order it keeps them (ROW): end time, start
# time, status code, status reason (NUL-padded; empty: null), duration (NaN:
# null), record offset.
ENTRY = struct.Struct("<2sIqq40s32s27s27sB16sdQ")
# Byte offset of each field in an entry (see IndexView).
LENGTH, BATCH, END_US, CONFIG_ID, ATTEMPT_ID = 2, 6, 14, 22, 62
ROW_START, STATUS, OFFSET = 94, 148, 173
ROW = struct.Struct(f"<{ROW_START}x27s27sB16sdQ")
STATUS_CODES = {"success": 1, "failed": 2, "terminated": 3}
STATUS_WORDS = {code: word.encode("ascii") for word, code in STATUS_CODES.items()}
INDEX_DIR = "record_index"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_FIXED_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
_PLAIN = re.compile(r"[0-9A-Za-z_.:-]+")
_FIELD_PATTERNS: dict[tuple[int, int], re.Pattern[bytes]] = {}
_NARROW: dict[tuple[int, str], struct.Struct] = {}
_FIRST = itemgetter(0)


def index_path(result_path: Path) -> Path:
    """The index of ``exec/results/<name>.jsonl``: ``exec/state/record_index/<name>.idx``."""
    return result_path.parent.parent / "state" / INDEX_DIR / f"{result_path.stem}.idx"


def entry(record: dict[str, Any], offset: int, length: int) -> bytes | None:
    """The index entry of ``record`` written at ``offset``; None when it has none."""
    config_id = record.get("config_id")
    attempt_id = record.get("attempt_id")
    end, begin = record.get("end_time"), record.get("start_time")
    status, reason = record.get("status"), record.get("status_reason")
    batch, duration = record.get("batch_index"), record.get("duration_sec")
    if not (
        _plain(config_id, 40, 40)
        and _plain(attempt_id, 1, 32)
        and status in STATUS_CODES
        and (reason is None or _plain(reason, 1, 16))
        and isinstance(end, str)
        and _FIXED_TIME.fullmatch(end)
        and isinstance(begin, str)
        and _FIXED_TIME.fullmatch(begin)
        and _integer(batch)
    ):
        return None
    if duration is None:
        seconds = math.nan
    elif _number(duration):
        seconds = float(duration)
    else:
        return None
    try:
        end_us = (parse_iso(end) - _EPOCH) // _MICROSECOND
    except ValueError:
        return None
    return ENTRY.pack(
        MAGIC,
        length,
        batch,
        end_us,
        str(config_id).encode("ascii"),
        str(attempt_id).encode("ascii"),
        end.encode("ascii"),
        begin.encode("ascii"),
        STATUS_CODES[status],
        b"" if reason is None else reason.encode("ascii"),
        seconds,
        offset,
    )


def _plain(value: Any, shortest: int, longest: int) -> bool:
    """A short ASCII word whose JSON text is itself (no quote, no escape)."""
    return (
        isinstance(value, str)
        and shortest <= len(value) <= longest
        and _PLAIN.fullmatch(value) is not None
    )


def _integer(value: Any) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -(2**63) <= value < 2**63
    )


def _number(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


class RecordWriter:
    """Appends attempt records to one result file and entries to its index.

    Each record is one ``O_APPEND`` write of one canonical line; the offset it
    landed at is read back from the descriptor (exact even when another process
    appends to the same file), then its entry is appended the same way. Files
    are opened on first use and kept open until :meth:`close`.
    """

    def __init__(self, result_path: Path) -> None:
        self.result_path = result_path
        self.index_path = index_path(result_path)
        self._fds: tuple[int, int] | None = None

    def append(self, record: dict[str, Any]) -> None:
        data = (canonical.dumps(record) + "\n").encode("utf-8")
        records, index = self._open()
        _write_all(records, data)
        end = os.lseek(records, 0, os.SEEK_CUR)
        packed = entry(record, end - len(data), len(data))
        if packed is not None:
            _write_all(index, packed)

    def _open(self) -> tuple[int, int]:
        if self._fds is None:
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
            self.index_path.parent.mkdir(parents=True, exist_ok=True)
            records = os.open(self.result_path, flags, 0o644)
            self._fds = (records, os.open(self.index_path, flags, 0o644))
        return self._fds

    def close(self) -> None:
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
            self._fds = None

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def append_record(result_path: Path, record: dict[str, Any]) -> None:
    """Append one attempt record and its index entry (files closed afterwards)."""
    with RecordWriter(result_path) as writer:
        writer.append(record)


def _write_all(fd: int, data: bytes) -> None:
    # A regular file takes the whole buffer in one write; the loop only
    # guards against a short write (a full disk then raises on the next).
    written = os.write(fd, data)
    while written < len(data):
        written += os.write(fd, data[written:])


class IndexView:
    """The whole entries of one index file, read field by field in bulk.

    A field of every entry is gathered into one contiguous buffer by strided
    copies (one C-level copy per byte of the field), so a million entries give
    a column of integers or of ids in a few hundredths of a second, without a
    tuple per entry.
    """

    def __init__(self, data: bytes) -> None:
        self.count = len(data) // ENTRY.size
        self.data = data[: self.count * ENTRY.size]

    def __len__(self) -> int:
        return self.count

    def column(self, start: int, width: int, *, gap: bytes = b"") -> bytes:
        """Field bytes ``[start, start + width)`` of every entry, each followed by
        ``gap``."""
        step = width + len(gap)
        out = bytearray(gap.rjust(step, b"\0") * self.count)
        view = memoryview(self.data)
        for byte in range(width):
            out[byte::step] = view[start + byte :: ENTRY.size]
        return bytes(out)

    def integers(self, start: int, code: str) -> list[int]:
        """An integer field (struct ``code``) of every entry: one narrow
        ``struct`` pass that skips the other bytes."""
        key = (start, code)
        narrow = _NARROW.get(key)
        if narrow is None:
            after = ENTRY.size - start - struct.calcsize("<" + code)
            narrow = _NARROW[key] = struct.Struct(f"<{start}x{code}{after}x")
        return list(map(_FIRST, narrow.iter_unpack(self.data)))

    def words(self, start: int, width: int) -> list[bytes]:
        """A fixed-width text field of every entry, one bytes object each."""
        pattern = _FIELD_PATTERNS.get((start, width))
        if pattern is None:
            after = ENTRY.size - start - width
            pattern = re.compile(b".{%d}(.{%d}).{%d}" % (start, width, after), re.S)
            _FIELD_PATTERNS[(start, width)] = pattern
        return pattern.findall(self.data)

    def entry(self, position: int) -> tuple[Any, ...]:
        return ENTRY.unpack_from(self.data, position * ENTRY.size)

    def rows(self, positions: list[int], file_index: int) -> list[tuple[Any, ...]]:
        """The ROW fields of the entries at these positions, each followed by
        ``file_index``: one C-level unpack and one concatenation per entry."""
        starts = map(mul, positions, repeat(ENTRY.size))
        fields = map(ROW.unpack_from, repeat(self.data), starts)
        return list(map(add, fields, repeat((file_index,))))

    def part(self, first: int, last: int) -> IndexView:
        return IndexView(self.data[first * ENTRY.size : last * ENTRY.size])


def read_index(path: Path) -> IndexView | None:
    """The whole entries of an index file (None when there is none); a torn last
    entry (a crash mid-write) is left out."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    view = IndexView(data)
    return view if len(view) else None
