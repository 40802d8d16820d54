"""The record index speeds ``status`` up and never changes what it reports."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geryon import canonical
from geryon.attempt_index import (
    ENTRY,
    LENGTH,
    OFFSET,
    RecordWriter,
    append_record,
    entry,
    index_path,
    read_index,
)
from geryon.observe import parallel
from geryon.observe.scan import RecordScan, scan_results

IDS = ["a" * 40, "b" * 40, "c" * 40, "d" * 40]
TIMES = [
    "2026-01-02T03:04:05.000000Z",
    "2026-01-02T03:04:06.500000Z",
    "2026-01-02T03:04:07.000001Z",
]


def _record(
    config_id: str,
    attempt: str,
    end: str,
    begin: str,
    status: str,
    batch: int,
    reason: str | None = None,
) -> dict[str, Any]:
    return {
        "attempt_id": attempt,
        "batch_index": batch,
        "command": f'python a.py ++x=\'{{"config_id": "{config_id}"}}\'',
        "config_id": config_id,
        "duration_sec": 2.5 if status != "failed" else None,
        "end_time": end,
        "selected_options": {"start_time": "decoy"},
        "start_time": begin,
        "status": status,
        "status_reason": reason,
        "stdout_path": "/tmp/x.log",
    }


RECORDS = st.lists(
    st.tuples(
        st.sampled_from(IDS),
        st.sampled_from(["0" * 32, "7" * 32, "f" * 32]),
        st.sampled_from(TIMES),
        st.sampled_from(TIMES[:2]),
        # "running" and the short time get no index entry: the reader takes
        # them from the JSON between indexed records.
        st.sampled_from(["success"] * 4 + ["failed", "terminated", "running"]),
        st.integers(0, 3),
        st.sampled_from([None, "timeout_kill"]),
        st.sampled_from(["indexed"] * 6 + ["plain", "short_time", "torn"]),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=40,
)


def _write(base: Path, items: list[tuple[Any, ...]]) -> list[Path]:
    results = base / "exec" / "results"
    results.mkdir(parents=True)
    paths = [results / f"task_local_{n}.jsonl" for n in range(3)]
    for path in paths:
        path.touch()
    writers = [RecordWriter(path) for path in paths]
    for cid, attempt, end, begin, status, batch, reason, form, target in items:
        if form == "short_time":
            end = end.replace(".000000Z", "Z")
        record = _record(cid, attempt, end, begin, status, batch, reason)
        if form == "indexed":
            writers[target].append(record)
            continue
        text = canonical.dumps(record) + "\n"
        if form == "torn":
            text = text[: len(text) // 2]
        with paths[target].open("a", encoding="utf-8") as handle:
            handle.write(text)
    for writer in writers:
        writer.close()
    return paths


def _view(scan: RecordScan) -> dict[str, Any]:
    latest = {}
    for config_id in scan.latest:
        item = scan.latest[config_id]
        latest[config_id] = (
            item.status,
            item.reason,
            item.duration_sec,
            item.time_key,
            item.attempts,
            scan.attempt_id(item),
            scan.read_record(config_id),
        )
    return {
        "latest": latest,
        "by_status": scan.attempts_by_status,
        "by_batch": scan.by_batch,
        "corrupt": scan.corrupt_lines,
    }


def _without_index(paths: list[Path], base: Path) -> list[Path]:
    """The same records in another run directory, without any index."""
    target = base / "plain" / "exec" / "results"
    target.mkdir(parents=True)
    copies = []
    for path in paths:
        copy = target / path.name
        shutil.copyfile(path, copy)
        copies.append(copy)
    return copies


@settings(max_examples=80, deadline=None)
@given(items=RECORDS, workers=st.integers(1, 3))
def test_index_gives_the_same_scan_as_the_records_alone(
    tmp_path_factory: pytest.TempPathFactory,
    items: list[tuple[Any, ...]],
    workers: int,
) -> None:
    base = tmp_path_factory.mktemp("indexed")
    paths = _write(base, items)
    plain = _without_index(paths, base)
    assert not index_path(plain[0]).exists()
    expected = _view(scan_results(plain, count_batches=True))
    assert _view(scan_results(paths, count_batches=True)) == expected
    forked = parallel.scan_records(
        paths, count_batches=True, min_bytes=0, workers=workers
    )
    assert _view(forked) == expected


def test_the_index_is_used_for_indexed_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scan over indexed records never matches a record line by pattern."""
    path = _results_file(tmp_path)
    for number in range(50):
        status = "failed" if number % 5 == 0 else "success"
        end = f"2026-01-02T03:04:{number:02d}.000000Z"
        append_record(
            path, _record(IDS[number % 4], "0" * 32, end, TIMES[0], status, 1)
        )
    assert len(read_index(index_path(path)) or []) == 50
    from geryon.observe import scan as scan_module

    def refuse(*args: object) -> None:
        raise AssertionError("a record line was scanned although it is indexed")

    monkeypatch.setattr(scan_module.RecordScanner, "_feed", refuse)
    scan = scan_results([path])
    assert scan.total_attempts == 50
    assert scan.latest[IDS[1]].status == "success"
    assert scan.latest[IDS[1]].attempts == 13
    assert scan.latest[IDS[1]].end_time == "2026-01-02T03:04:49.000000Z"


def _results_file(tmp_path: Path) -> Path:
    """The (not yet written) first result file of a run rooted at ``tmp_path``."""
    results = tmp_path / "exec" / "results"
    results.mkdir(parents=True)
    return results / "task_local_0.jsonl"


def _indexed_run(tmp_path: Path) -> Path:
    path = _results_file(tmp_path)
    with RecordWriter(path) as writer:
        for number in range(20):
            end = f"2026-01-02T03:04:{number:02d}.000000Z"
            status = "success" if number >= 10 else "failed"
            writer.append(_record(IDS[number % 2], "1" * 32, end, TIMES[0], status, 0))
    return path


@pytest.mark.parametrize(
    "damage",
    ["garbage index", "index of other records", "records cut short", "torn entry"],
)
def test_an_index_that_does_not_fit_the_records_is_not_trusted(
    tmp_path: Path, damage: str
) -> None:
    path = _indexed_run(tmp_path)
    index = index_path(path)
    expected = _view(scan_results(_without_index([path], tmp_path)))
    if damage == "garbage index":
        index.write_bytes(b"x" * ENTRY.size * 20)
    elif damage == "index of other records":
        lines = path.read_bytes().splitlines(keepends=True)
        path.write_bytes(b"".join(reversed(lines)))
    elif damage == "records cut short":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        expected = _view(scan_results(_without_index([path], tmp_path / "cut")))
    else:
        index.write_bytes(index.read_bytes()[:-7])
    assert _view(scan_results([path])) == expected


def test_entries_are_only_written_for_records_they_can_hold() -> None:
    good = _record(IDS[0], "0" * 32, TIMES[0], TIMES[1], "success", 3)
    assert entry(good, 0, 10) is not None
    for change in (
        {"config_id": "short"},
        {"config_id": "é" * 40},
        {"end_time": "2026-01-02T03:04:05Z"},
        {"start_time": None},
        {"status": "running"},
        {"status_reason": "x" * 17},
        {"batch_index": True},
        {"duration_sec": "1.5"},
        {"attempt_id": 'with "quote"'},
    ):
        assert entry({**good, **change}, 0, 10) is None, change


def test_writer_offsets_stay_exact_when_others_append(tmp_path: Path) -> None:
    """Lines appended by someone else between two records leave gaps the reader
    fills from the JSON."""
    path = _results_file(tmp_path)
    with RecordWriter(path) as writer:
        for number in range(6):
            end = f"2026-01-02T03:04:0{number}.000000Z"
            writer.append(_record(IDS[0], "2" * 32, end, TIMES[0], "failed", 0))
            with path.open("a", encoding="utf-8") as other:
                late = f"2026-01-02T03:05:0{number}.000000Z"
                other.write(
                    json.dumps(_record(IDS[1], "3" * 32, late, TIMES[0], "success", 0))
                    + "\n"
                )
    view = read_index(index_path(path))
    assert view is not None and len(view) == 6
    data = path.read_bytes()
    offsets, lengths = view.integers(OFFSET, "Q"), view.integers(LENGTH, "I")
    for offset, length in zip(offsets, lengths, strict=True):
        line = data[offset : offset + length]
        assert line.endswith(b"\n") and json.loads(line)["config_id"] == IDS[0]
    scan = scan_results([path])
    assert scan.latest[IDS[1]].attempts == 6
    assert scan.latest[IDS[1]].status == "success"
    assert scan.total_attempts == 12
