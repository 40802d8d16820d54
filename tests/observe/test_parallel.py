"""Forked plan readers and record scanners give exactly the serial results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from observe_synth import SyntheticRun, make_run, record, write_records

from geryon import canonical
from geryon.errors import ConfigError
from geryon.observe import parallel
from geryon.observe.index import build_index
from geryon.observe.report import report_payload
from geryon.observe.scan import RecordScan, scan_results

STATUSES = ["success", "failed", "terminated", None, "success"]


def _generated_run(tmp_path: Path) -> SyntheticRun:
    options = [{"model": f"m{n % 3}", "seed": f"s{n}"} for n in range(40)]
    run = make_run(tmp_path, options=options, batch_size=4)
    rows = [
        record(run, n, status=STATUSES[n % len(STATUSES)], reason="signal")
        for n in range(0, 40, 2)
    ]
    rows.append(record(run, 2, end="2026-01-02T03:05:05.000000Z", status="success"))
    write_records(run, rows)
    return run


def _status_json(root: Path, packs: list[str]) -> str:
    index = build_index(root, by_packs=packs, with_live=False)
    payload = {"status": index.to_json(), "report": report_payload(index)}
    # The time of writing differs between the two calls when a second ticks.
    payload["status"]["generated_at"] = "fixed"
    payload["report"]["generated_at"] = "fixed"
    payload["report"]["summary"]["generated_at"] = "fixed"
    return json.dumps(payload, sort_keys=True, default=str)


@pytest.mark.parametrize("packs", [[], ["model"]])
def test_parallel_and_serial_status_are_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, packs: list[str]
) -> None:
    run = _generated_run(tmp_path)
    forks: list[int] = []
    start = parallel.PlanReader.start

    def counted(self: parallel.PlanReader) -> None:
        start(self)
        forks.append(self.pid)

    decoded: list[int] = []
    decode = parallel._decode

    def decode_counted(blob: bytes) -> parallel.PlannedConfigs:
        decoded.append(len(blob))
        return decode(blob)

    monkeypatch.setattr(parallel.PlanReader, "start", counted)
    monkeypatch.setattr(parallel, "_decode", decode_counted)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 10**15)
    serial = _status_json(run.layout.root, packs)
    assert forks == []
    monkeypatch.setattr(parallel, "PARALLEL_MIN_BYTES", 0)
    forked = _status_json(run.layout.root, packs)
    # The child forked and its plan (not a serial re-read) was used.
    assert len(forks) == 1 and forks[0] > 0 and len(decoded) == 1
    assert forked == serial
    assert json.loads(forked)["status"]["configs"]["total"] == 40


# --- record scanners in forked children -------------------------------------

# Mostly records the fast path takes (fixed-width times, canonical form), so
# that rows found by different scanners are merged; some take the fallback.
_TIMES = [
    "2026-01-02T03:04:05.000000Z",
    "2026-01-02T03:04:06.500000Z",
    "2026-01-02T03:04:05.000000Z",
    "2026-01-02T03:04:05Z",
]
_RECORD_LINES = st.lists(
    st.tuples(
        st.sampled_from(["a" * 40, "b" * 40, "c" * 40]),
        st.sampled_from(["0" * 32, "f" * 32]),
        st.sampled_from(_TIMES),
        st.sampled_from(["success", "failed", "terminated"]),
        st.sampled_from(["canonical"] * 6 + ["spaced", "torn", "blank"]),
        st.integers(0, 2),
    ),
    min_size=1,
    max_size=30,
)


def _line(
    config_id: str, attempt: str, end: str, status: str, form: str, batch: int
) -> str:
    value = {
        "attempt_id": attempt,
        "batch_index": batch,
        "command": "python a.py",
        "config_id": config_id,
        "duration_sec": 1.5,
        "end_time": end,
        "start_time": "2026-01-02T03:04:01.000000Z",
        "status": status,
        "status_reason": None,
        "stdout_path": "/x.log",
    }
    text = canonical.dumps(value) if form != "spaced" else json.dumps(value)
    if form == "torn":
        return text[: len(text) // 2] + "\n"
    return "\n" if form == "blank" else text + "\n"


def _scan_view(scan: RecordScan) -> dict[str, object]:
    latest = {
        config_id: (
            item.status,
            item.attempts,
            item.time_key,
            scan.attempt_id(item),
            item.duration_sec,
        )
        for config_id, item in ((cid, scan.latest[cid]) for cid in scan.latest)
    }
    return {
        "latest": latest,
        "by_status": scan.attempts_by_status,
        "by_batch": scan.by_batch,
        "corrupt": scan.corrupt_lines,
    }


@settings(max_examples=60, deadline=None)
@given(
    lines=_RECORD_LINES,
    files=st.integers(1, 3),
    workers=st.integers(2, 4),
)
def test_forked_scanners_agree_with_one_scanner(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[tuple[str, str, str, str, str, int]],
    files: int,
    workers: int,
) -> None:
    base = tmp_path_factory.mktemp("records")
    paths = [base / f"task_local_{n}.jsonl" for n in range(files)]
    for number, line in enumerate(lines):
        with paths[number % files].open("a", encoding="utf-8") as handle:
            handle.write(_line(*line))
    for path in paths:
        path.touch()
    serial = scan_results(paths, count_batches=True)
    forked = parallel.scan_records(
        paths, count_batches=True, min_bytes=0, workers=workers
    )
    assert _scan_view(forked) == _scan_view(serial)


def test_forked_scanner_reports_a_corrupt_line_like_the_serial_scan(
    tmp_path: Path,
) -> None:
    path = tmp_path / "task_local_0.jsonl"
    good = [_line("a" * 40, "0" * 32, _TIMES[0], "success", "canonical", 0)] * 40
    torn = _line("b" * 40, "f" * 32, _TIMES[0], "failed", "torn", 0)
    path.write_text("".join([*good[:30], torn, *good[30:]]), encoding="utf-8")
    with pytest.raises(ConfigError) as serial:
        scan_results([path], strict=True)
    # The torn line lies in the second half, which a child scans; its failure
    # makes the parent scan that half again and raise the same error.
    with pytest.raises(ConfigError) as forked:
        parallel.scan_records([path], strict=True, min_bytes=0, workers=2)
    assert str(forked.value) == str(serial.value)
    assert "line 31" in str(serial.value)


@given(
    sizes_lines=st.lists(
        st.lists(st.integers(0, 30), max_size=6), min_size=1, max_size=4
    ),
    count=st.integers(1, 5),
)
@settings(max_examples=80, deadline=None)
def test_split_ranges_cover_every_line_once_in_order(
    tmp_path_factory: pytest.TempPathFactory,
    sizes_lines: list[list[int]],
    count: int,
) -> None:
    base = tmp_path_factory.mktemp("split")
    paths, contents = [], []
    for number, widths in enumerate(sizes_lines):
        text = "".join("x" * width + "\n" for width in widths).encode()
        path = base / f"f{number}.jsonl"
        path.write_bytes(text)
        paths.append(path)
        contents.append(text)
    parts = parallel.split_ranges(paths, [len(c) for c in contents], count)
    assert 1 <= len(parts) <= max(count, 1)
    pieces = []
    for part in parts:
        for index, start, end in part:
            text = contents[index]
            stop = len(text) if end is None else end
            assert start == 0 or text[start - 1 : start] == b"\n"
            assert stop == len(text) or text[stop - 1 : stop] == b"\n"
            pieces.append((index, text[start:stop]))
    for index, text in enumerate(contents):
        assert b"".join(piece for i, piece in pieces if i == index) == text
    order = [index for index, _ in pieces]
    assert order == sorted(order)
