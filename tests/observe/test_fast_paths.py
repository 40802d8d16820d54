"""The speed paths of status and report print exactly what the plain paths print."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from observe_synth import make_run, record, write_records

from geryon import canonical
from geryon.layout import RunLayout
from geryon.observe.jsonout import pretty_json
from geryon.observe.planned import load_planned
from geryon.observe.scan import RecordScan, scan_results

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4)
    ),
    max_leaves=30,
)


def _plain(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@settings(max_examples=300, deadline=None)
@given(value=JSON_VALUES)
def test_pretty_json_equals_json_dumps(value: Any) -> None:
    assert pretty_json(value) == _plain(value)


# Per-batch counters and near misses: bools, floats, odd keys, empty dicts.
COUNTERS = st.dictionaries(
    st.text(max_size=3),
    st.dictionaries(
        st.sampled_from(["planned", "pending", "a%d", '"', "é", "latest_failed"]),
        st.integers() | st.sampled_from([True, 1.5, None]),
        max_size=4,
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(value=COUNTERS)
def test_pretty_json_writes_counter_dicts_as_json_dumps(value: Any) -> None:
    assert pretty_json(value) == _plain(value)
    assert pretty_json({"by_batch": value, "n": 1}) == _plain(
        {"by_batch": value, "n": 1}
    )


# Id lists: mostly plain ASCII, sometimes a character JSON escapes.
ID_LISTS = st.lists(st.text(alphabet='ab09-_ "\\\n\x7fé~', max_size=6), max_size=8)


@settings(max_examples=300, deadline=None)
@given(value=ID_LISTS)
def test_pretty_json_writes_string_lists_as_json_dumps(value: list[str]) -> None:
    assert pretty_json(value) == _plain(value)
    assert pretty_json({"ids": value, "more": [value]}) == _plain(
        {"ids": value, "more": [value]}
    )
    # Dicts of strings too (keys and values from the same alphabet).
    mapping = dict(zip(value, reversed(value), strict=True))
    assert pretty_json({"reasons": mapping}) == _plain({"reasons": mapping})


def test_pretty_json_hands_odd_values_to_json_dumps() -> None:
    odd = [
        {"path": Path("/x"), "ids": ["a", "b"]},
        {1: "int key", 2: [1, 2]},
        {"t": (1, 2), "n": [math.nan, -math.inf]},
        [True, 1, 1.0, None, "é\n"],
        {"nested": {"deep": [{"x": []}, {}]}},
    ]
    for value in odd:
        assert pretty_json(value) == _plain(value)


def test_status_json_matches_plain_encoder(run4, capsys) -> None:
    from geryon.cli.main import main

    write_records(
        run4,
        [record(run4, 0), record(run4, 1, status="failed"), record(run4, 2)],
    )
    assert main(["status", "--run", str(run4.root), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert out == _plain(json.loads(out)) + "\n"


def _configs_of(layout: RunLayout) -> list[str]:
    return [json.loads(line)["config_id"] for line in layout.configs_jsonl.open()]


def test_plan_fast_path_reads_planner_batch_lines(tmp_path: Path) -> None:
    """The planner's batches.jsonl (with byte ranges) takes the fast path."""
    run = make_run(tmp_path, options=[{"m": str(n)} for n in range(5)], batch_size=2)
    layout = run.layout
    lines = layout.batches_jsonl.read_text().splitlines()
    with_ranges = []
    for line in lines:
        batch = json.loads(line) | {"configs_bytes": 10, "configs_offset": 0}
        with_ranges.append(canonical.dumps(batch))
    layout.batches_jsonl.write_text("\n".join(with_ranges) + "\n")
    planned = load_planned(layout)
    assert planned.raw_ids is not None
    assert planned.config_ids == run.ids()
    assert planned.batch_of == [0, 0, 1, 1, 2]
    assert planned.line_of == [0, 1, 0, 1, 0]


def test_plan_with_short_ids_is_read_line_by_line(tmp_path: Path) -> None:
    ids = ["short-a", "short-b", "c" * 40]
    run = make_run(tmp_path, options=[{"m": "x"}] * 3, batch_size=2, ids=ids)
    planned = load_planned(run.layout)
    assert planned.raw_ids is None
    assert planned.config_ids == ids
    assert planned.id_bytes() == [i.encode() for i in ids]
    assert planned.batch_of == [0, 0, 1]


def _from_objects(path: Path, ids: list[str]) -> dict[str, list[Any]]:
    """What the bulk lookups should answer, read from the Latest objects of a
    separate scan of the same file (so the scan under test keeps raw rows)."""
    latest = scan_results([path]).latest
    items = [latest.get(i) for i in ids]
    return {
        "statuses": [None if item is None else item.status for item in items],
        "durations": [None if item is None else item.duration_sec for item in items],
        "reasons": [None if item is None else item.reason for item in items],
        "time_keys": [
            (b"", b"")
            if item is None
            else (item.end_time.encode(), item.start_time.encode())
            for item in items
        ],
    }


def _check_bulk_lookups(scan: RecordScan, ids: list[str], want: dict) -> None:
    keys = [i.encode() for i in ids]
    latest = scan.latest
    assert latest.statuses_of(keys) == want["statuses"]
    assert latest.statuses_of(keys) == [latest.status_of(i) for i in ids]
    column = latest.duration_column(keys)
    assert [None if d != d else d for d in column] == want["durations"]
    assert sorted(latest.durations_of(keys)) == sorted(
        d for d in want["durations"] if d is not None
    )
    assert latest.time_keys_of(keys) == want["time_keys"]
    assert latest.reasons_of(keys) == want["reasons"]
    # The same through the rows aligned with the keys, at some positions.
    assert latest.reasons_of(keys, [3, 1]) == [want["reasons"][3], want["reasons"][1]]
    assert latest.time_keys_of(keys, [3, 0]) == [
        want["time_keys"][3],
        want["time_keys"][0],
    ]


def test_bulk_lookups_agree_with_latest_objects(run4) -> None:
    path = run4.layout.results_dir / "task_local_0.jsonl"
    ids = run4.ids()
    write_records(
        run4,
        [
            record(run4, 0),
            record(run4, 1, status="terminated", reason="timeout_kill"),
        ],
    )
    # Only raw rows (every record taken by the fast path).
    raw_only = scan_results([path])
    want = _from_objects(path, ids)
    assert want["statuses"] == ["success", "terminated", None, None]
    assert want["reasons"] == [None, "timeout_kill", None, None]
    _check_bulk_lookups(raw_only, ids, want)
    # A record the fast path refuses (spaces), with a null duration: its row is
    # a Latest object, so the lookups take their mixed path.
    odd = record(run4, 2, status="failed") | {"duration_sec": None}
    with path.open("a") as handle:
        handle.write(json.dumps(odd) + "\n")
    mixed = scan_results([path])
    want = _from_objects(path, ids)
    assert want["statuses"] == ["success", "terminated", "failed", None]
    assert want["durations"][0] is not None and want["durations"][2] is None
    _check_bulk_lookups(mixed, ids, want)
    mixed.latest[ids[0]]  # one more row becomes a Latest object
    _check_bulk_lookups(mixed, ids, want)


def test_paused_gc_restores_the_collector_state() -> None:
    import gc

    from geryon.observe.scan import paused_gc

    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_status_of_any_planned_config_without_position_map(run4) -> None:
    from geryon.observe.index import build_index

    ids = run4.ids()
    write_records(run4, [record(run4, 0), record(run4, 1, status="failed")])
    index = build_index(run4.root, with_live=False)
    assert index.planned.positions is None
    assert index.status_of(ids[1]) == "failed"
    assert index.status_of(ids[3]) == "missing"
    assert index.status_of(ids[0]) == "success"
    with pytest.raises(KeyError):
        index.status_of("not-planned")
