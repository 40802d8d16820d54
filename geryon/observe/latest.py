"""Each config's latest attempt, as the record scanner keeps it (spec O1, Q33, Q35).

A million configs would cost seconds as a million objects, so the scanner
(:mod:`geryon.observe.scan`) keeps one raw row per config id, a tuple of bytes
and numbers (see ``Row``), and :class:`LatestMap` turns a row into a
:class:`Latest` only when one config is looked at. Questions about every
planned config (statuses, durations, time keys, reasons) are answered by
C-level ``map`` passes over the rows, never one method call per config.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import compress, repeat
from operator import eq, itemgetter
from typing import Any

from geryon.attempt_index import STATUS_WORDS
from geryon.timefmt import iso_micro, parse_iso

# A record time in the fixed-width form geryon writes (one regex group).
TIME_GROUP = rb"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)"
_FIXED_TIME = re.compile(TIME_GROUP.decode("ascii"))
_NULL = b"null"
_DURATION = itemgetter(4)
_STATUS = itemgetter(2)
_REASON: Callable[[Any], Any] = itemgetter(3)
# Stands in for the row of a config without records (its status is None).
_NO_ROW = (None, None, None, None, None)
# The time key of a config without records (sorts first), and what _TIMES
# takes from _NO_ROW.
_NO_TIME_KEY = (b"", b"")
_NO_ROW_TIMES = (None, None)
_TIMES: Callable[[Any], tuple[bytes, bytes]] = itemgetter(0, 1)
_NAN = float("nan")


def sortable_time(value: Any) -> str:
    """The text form of a record time used for ordering attempts.

    Equal to comparing :func:`geryon.wrapper.history.latest_attempt_key`'s parsed
    times: fixed-width UTC text sorts exactly like the times it names, and a
    missing or unparsable time becomes ``""``, which sorts first (the history
    module's ``datetime.min``).
    """
    if not isinstance(value, str) or not value:
        return ""
    if _FIXED_TIME.fullmatch(value):
        return value
    try:
        return iso_micro(parse_iso(value))
    except ValueError:
        return ""


def order_key(record: dict[str, Any]) -> tuple[str, str, str]:
    """Text key of an attempt record; larger is later (the shared ordering, Q33/Q35)."""
    return (
        sortable_time(record.get("end_time")),
        sortable_time(record.get("start_time")),
        str(record.get("attempt_id") or ""),
    )


@dataclass(slots=True)
class Latest:
    """What a reader needs of a config's latest attempt, and where its record is.

    ``attempt_id`` is None for records taken by the fast path: it only matters
    when two attempts have identical end and start times, and is then read back.
    """

    end_time: str
    start_time: str
    attempt_id: str | None
    status: str
    reason: str | None
    duration_sec: float | None
    file_index: int
    offset: int
    attempts: int = 1

    @property
    def time_key(self) -> tuple[str, str]:
        return (self.end_time, self.start_time)


# (end, start, status, reason, duration, offset, file index): times as raw
# bytes; status as raw bytes or an index status code; reason as raw bytes
# (NUL-padded from the index; empty: none) or None; duration as its JSON text
# or a float (b"null" or NaN: none).
Row = tuple[Any, ...]


def _row_to_latest(row: Row, words: dict[bytes, str], attempts: int) -> Latest:
    end, begin, status, reason, duration, offset, file_index = row
    return Latest(
        end.decode("ascii"),
        begin.decode("ascii"),
        None,
        _word(words, status),
        _reason(words, reason),
        _duration(duration),
        file_index,
        offset,
        attempts,
    )


def _word(words: dict[Any, str], raw: bytes | int) -> str:
    """The text of a raw status or reason (bytes, or an index status code)."""
    text = words.get(raw)
    if text is None:
        if isinstance(raw, int):
            text = STATUS_WORDS[raw].decode("ascii")
        else:
            text = raw.rstrip(b"\0").decode("utf-8")
        words[raw] = text
    return text


def _reason(words: dict[Any, str], raw: bytes | None) -> str | None:
    return None if raw is None else _word(words, raw) or None


def _row_duration(row: Any) -> float:
    """The duration of a raw row, a Latest object or ``_NO_ROW``; NaN without one."""
    if isinstance(row, Latest):
        value = row.duration_sec
    else:
        value = None if row[4] is None else _duration(row[4])
    return _NAN if value is None else value


def _duration(raw: bytes | float) -> float | None:
    value = None if raw == _NULL else float(raw)
    return None if value is None or value != value else value


class LatestMap(Mapping[str, Latest]):
    """Config id -> latest attempt, over the scanner's raw rows.

    A million configs would cost seconds as a million :class:`Latest` objects, so
    rows stay raw (bytes keys and fields) and become objects only when looked at
    one by one; :meth:`statuses_of`, :meth:`duration_column` and the other bulk
    lookups answer without any object.
    """

    def __init__(self) -> None:
        self._rows: dict[bytes, Row | Latest] = {}
        # Records per id of a raw row (a Latest object counts its own), counted
        # on first use: a status that builds no Latest object never needs them.
        self._attempts: dict[bytes, int] | None = {}
        self._count_attempts: Callable[[], dict[bytes, int]] | None = None
        self._words: dict[bytes, str] = {}
        # Whether some rows are Latest objects (bulk reads then check each row).
        self._aligned: tuple[list[bytes], list[Any]] | None = None
        self._objects = False

    def _item(self, key: bytes) -> Latest | None:
        row = self._rows.get(key)
        if row is None or isinstance(row, Latest):
            return row
        attempts = self.attempt_counts().get(key, 1)
        item = self._rows[key] = _row_to_latest(row, self._words, attempts)
        self._objects, self._aligned = True, None
        return item

    def attempt_counts(self) -> dict[bytes, int]:
        """Id -> how many records it has, for the ids of raw rows."""
        if self._attempts is None:
            assert self._count_attempts is not None
            self._attempts, self._count_attempts = self._count_attempts(), None
        return self._attempts

    def count_attempts_with(self, counter: Callable[[], dict[bytes, int]]) -> None:
        """Have :meth:`attempt_counts` come from ``counter``, called on first use."""
        self._attempts, self._count_attempts = None, counter

    def __getitem__(self, config_id: str) -> Latest:
        item = (
            self._item(config_id.encode("utf-8"))
            if isinstance(config_id, str)
            else None
        )
        if item is None:
            raise KeyError(config_id)
        return item

    def __contains__(self, config_id: object) -> bool:
        return isinstance(config_id, str) and config_id.encode("utf-8") in self._rows

    def __iter__(self) -> Iterator[str]:
        return (key.decode("utf-8") for key in self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def put(self, config_id: str, item: Latest) -> None:
        self._rows[config_id.encode("utf-8")] = item
        self._objects, self._aligned = True, None

    def status_of(self, config_id: str) -> str | None:
        """The latest status, or None when the config has no record."""
        row = self._rows.get(config_id.encode("utf-8"))
        if row is None:
            return None
        if isinstance(row, Latest):
            return row.status
        return _word(self._words, row[2])

    def reasons_of(
        self, keys: list[bytes], positions: list[int] | None = None
    ) -> list[str | None]:
        """The latest ``status_reason`` of each id (as bytes; None without one
        or without a record), in one pass; with ``positions``, of ``keys[p]``
        for each ``p`` (see :meth:`_rows_for`)."""
        rows = self._rows_for(keys, positions)
        if self._objects:
            return [
                row.reason if isinstance(row, Latest) else _reason(self._words, row[3])
                for row in rows
            ]
        raw = list(map(_REASON, rows))
        text = {word: _reason(self._words, word) for word in set(raw)}
        return list(map(text.__getitem__, raw))

    def statuses_of(self, keys: list[bytes]) -> list[str | None]:
        """The latest status of each id (as bytes), None for ids without a record.

        One C-level ``map`` finds the rows, so a million planned configs cost a
        fraction of a second.
        """
        words = self._words
        if self._objects:
            known = words.get
            return [
                None
                if row is None
                else row.status
                if isinstance(row, Latest)
                else known(row[2]) or _word(words, row[2])
                for row in map(self._rows.get, keys)
            ]
        # Only raw rows: every step below is one C-level pass.
        raw = list(map(_STATUS, self._aligned_rows(keys)))
        text: dict[bytes | None, str | None] = {None: None}
        for word in set(raw):
            if word is not None:
                text[word] = _word(words, word)
        return list(map(text.__getitem__, raw))

    def _aligned_rows(self, keys: list[bytes]) -> list[Any]:
        """The row of each id, ``_NO_ROW`` for ids without a record.

        Finding a million rows is a million random reads of a large dict, the
        slow part of these bulk questions, so the answer for the last ``keys``
        list (by identity) is kept until the rows change.
        """
        if self._aligned is not None and self._aligned[0] is keys:
            return self._aligned[1]
        rows = list(map(self._rows.get, keys, repeat(_NO_ROW)))
        self._aligned = (keys, rows)
        return rows

    def duration_column(self, keys: list[bytes]) -> list[float]:
        """The latest ``duration_sec`` of each id, aligned with ``keys``: NaN for
        an id without a record or without a duration."""
        rows = self._aligned_rows(keys)
        if self._objects:
            return [_row_duration(row) for row in rows]
        return [
            _NAN if raw is None or raw == _NULL else float(raw)
            for raw in map(_DURATION, rows)
        ]

    def time_keys_of(
        self, keys: list[bytes], positions: list[int] | None = None
    ) -> list[tuple[bytes, bytes]]:
        """``Latest.time_key`` of each id as bytes (ordered as the text is);
        ``(b"", b"")``, which sorts first, without a record. With ``positions``,
        of ``keys[p]`` for each ``p`` (see :meth:`_rows_for`)."""
        rows = self._rows_for(keys, positions)
        if self._objects:
            return [
                (row.end_time.encode("utf-8"), row.start_time.encode("utf-8"))
                if isinstance(row, Latest)
                else _NO_TIME_KEY
                if row[0] is None
                else _TIMES(row)
                for row in rows
            ]
        found = list(map(_TIMES, rows))
        if _NO_ROW_TIMES in found:
            found = [_NO_TIME_KEY if key == _NO_ROW_TIMES else key for key in found]
        return found

    def _rows_for(self, keys: list[bytes], positions: list[int] | None) -> list[Any]:
        """The row of each of ``keys`` (``_NO_ROW`` without one); with
        ``positions``, of ``keys[p]`` for each ``p``, taken from the rows aligned
        with ``keys`` (kept from a bulk question on the same list, such as the
        statuses of every planned id), which saves the dict lookups."""
        if positions is None:
            return list(map(self._rows.get, keys, repeat(_NO_ROW)))
        return list(map(self._aligned_rows(keys).__getitem__, positions))

    def durations_of(self, keys: list[bytes]) -> list[float]:
        """The latest ``duration_sec`` of each id that has one."""
        column = self.duration_column(keys)
        # NaN (no duration) is the one value not equal to itself.
        return list(compress(column, map(eq, column, column)))
