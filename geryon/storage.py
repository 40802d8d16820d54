"""Crash-safe file I/O shared by the planner, the wrapper and the readers.

* Whole files are written to a temporary name in the same directory and renamed
  into place, so a reader sees the old file or the new one, never half of one.
* Records are appended as one ``write`` of one complete line to a file opened with
  ``O_APPEND``; the kernel keeps concurrent appends from interleaving, and a crash
  can at worst leave a torn *last* line, which :func:`read_jsonl` skips with a
  warning (or rejects in strict mode).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon import canonical
from geryon.errors import ConfigError

log = logging.getLogger("geryon.storage")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: Path, value: Any) -> None:
    """Pretty JSON (sorted keys, 2-space indent), written atomically."""
    write_text_atomic(path, canonical.pretty(value))


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one canonical JSON line with a single ``O_APPEND`` write."""
    data = (canonical.dumps(record) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, data)
        while written < len(data):
            written += os.write(fd, data[written:])
    finally:
        os.close(fd)


@dataclass
class JsonlStats:
    """What :func:`read_jsonl` skipped, for callers that report it."""

    corrupt_lines: int = 0


def read_jsonl(
    path: Path,
    *,
    strict: bool = False,
    stats: JsonlStats | None = None,
    keep_line: Callable[[bytes], bool] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSONL file, never modifying it.

    Blank lines are skipped. A line that is not a JSON object (typically the torn
    last line of a crash) is skipped with a warning naming file and line number, or,
    with ``strict``, raises :class:`ConfigError` with the same information.
    ``keep_line``, if given, sees each raw line first; lines it rejects are neither
    parsed nor checked (a cheap pre-filter for readers that need few records of a
    large file).
    """
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            if keep_line is not None and not keep_line(raw):
                continue
            try:
                value = json.loads(raw)
            except ValueError:
                value = None
            if isinstance(value, dict):
                yield value
                continue
            if strict:
                raise ConfigError(
                    f"line {number} is not a complete JSON object",
                    file=path,
                    hint="The file was probably cut by a crash; rerun without "
                    "--strict-jsonl to skip such lines",
                )
            log.warning("%s:%d: skipped a line that is not a JSON object", path, number)
            if stats is not None:
                stats.corrupt_lines += 1
