"""The record scanner: same latest attempts as the shared ordering, torn lines."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geryon import canonical
from geryon.cli.main import main
from geryon.observe.latest import sortable_time
from geryon.observe.scan import scan_results
from geryon.storage import append_jsonl
from geryon.wrapper.history import latest_attempt_key

TIMES = st.sampled_from(
    [
        "2026-01-02T03:04:05Z",
        "2026-01-02T03:04:05.000000Z",
        "2026-01-02T03:04:05.5Z",
        "2026-01-02T03:04:05.500000Z",
        "2026-01-02T03:04:05.499999Z",
        "2026-01-02T05:04:05+02:00",
        "2026-01-02T03:04:06.000001Z",
        "",
        "garbage",
    ]
)
RECORDS = st.lists(
    st.fixed_dictionaries(
        {
            "config_id": st.sampled_from(["a" * 40, "b" * 40]),
            "attempt_id": st.sampled_from(["0" * 32, "5" * 32, "f" * 32]),
            "end_time": TIMES,
            "start_time": TIMES,
            "status": st.sampled_from(["success", "failed", "terminated"]),
            "status_reason": st.sampled_from([None, "timeout_kill"]),
            "duration_sec": st.floats(0, 100),
            "selected_options": st.just({"status": "decoy", "start_time": "x"}),
            "command": st.just('python a.py \'x="{\\"config_id\\": 1}"\''),
        }
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(records=RECORDS, canonical_form=st.booleans())
def test_latest_matches_latest_attempt_key(
    tmp_path_factory: pytest.TempPathFactory, records: list[dict], canonical_form: bool
) -> None:
    path = tmp_path_factory.mktemp("scan") / "task_local_0.jsonl"
    dump = canonical.dumps if canonical_form else json.dumps
    path.write_text("".join(dump(r) + "\n" for r in records), encoding="utf-8")
    scan = scan_results([path])
    for config_id in {r["config_id"] for r in records}:
        mine = [r for r in records if r["config_id"] == config_id]
        expected = max(reversed(mine), key=latest_attempt_key)
        got = scan.latest[config_id]
        assert got.status == expected["status"]
        assert scan.read_record(config_id) == expected or (
            latest_attempt_key(scan.read_record(config_id) or {})
            == latest_attempt_key(expected)
        )
        assert got.attempts == len(mine)


def test_sortable_time_normalises_to_fixed_width() -> None:
    assert sortable_time("2026-01-02T03:04:05Z") == "2026-01-02T03:04:05.000000Z"
    assert sortable_time("2026-01-02T05:04:05.5+02:00") == "2026-01-02T03:04:05.500000Z"
    assert sortable_time(None) == ""
    assert sortable_time("nope") == ""


def _record(n: int) -> dict:
    return {
        "attempt_id": f"{n:032x}",
        "batch_index": 0,
        "command": "true",
        "config_id": f"{n:040x}",
        "duration_sec": 1.0,
        "end_time": "2026-01-02T03:04:05.000000Z",
        "start_time": "2026-01-02T03:04:04.000000Z",
        "status": "success",
        "status_reason": None,
        "stderr_path": "/e",
    }


def _results(run4) -> Path:
    path = run4.layout.results_dir / "task_local_0.jsonl"
    for n in range(2):
        append_jsonl(path, _record(n) | {"config_id": run4.ids()[n]})
    return path


def test_torn_last_line_warns_and_counts(run4, cli_json, caplog) -> None:
    path = _results(run4)
    with path.open("ab") as handle:
        handle.write(canonical.dumps(_record(7)).encode()[:60])
    before = path.read_bytes()
    with caplog.at_level(logging.WARNING, logger="geryon"):
        code, data = cli_json("status", "--run", str(run4.root))
    assert code == 0
    assert data["corrupt_result_lines"] == 1
    assert data["attempts"]["total"] == 2
    assert f"{path}:3: skipped a line that is not a JSON object" in caplog.text
    assert path.read_bytes() == before


def test_torn_line_followed_by_a_record_keeps_the_record(run4, cli_json) -> None:
    """A crash mid-write, then another append: the torn part is one corrupt line,
    and the whole record glued to it still counts (nothing a user ran is lost)."""
    path = _results(run4)
    torn = canonical.dumps(_record(7) | {"config_id": run4.ids()[2]}).encode()
    for cut in (1, 30, len(torn) - 40, len(torn) - 1):
        with path.open("ab") as handle:
            handle.write(torn[:cut])
        append_jsonl(path, _record(8) | {"config_id": run4.ids()[3]})
    _, data = cli_json("status", "--run", str(run4.root))
    assert data["corrupt_result_lines"] == 4
    assert data["attempts"]["total"] == 6
    assert data["configs"]["latest_by_status"] == {"missing": 1, "success": 3}
    assert data["configs"]["missing_config_ids"] == [run4.ids()[2]]


@pytest.mark.parametrize("command", ["status", "report", "collect"])
def test_strict_jsonl_exits_2_naming_file_and_line(run4, capsys, command: str) -> None:
    path = _results(run4)
    with path.open("ab") as handle:
        handle.write(b'{"config_id": "x", "sta')
    assert main([command, "--run", str(run4.root), "--strict-jsonl"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        f"[config error] {path}: line 3 is not a complete JSON object" in captured.err
    )


def test_empty_and_blank_result_files(run4, cli_json) -> None:
    (run4.layout.results_dir / "task_local_0.jsonl").write_bytes(b"")
    (run4.layout.results_dir / "task_local_1.jsonl").write_bytes(b"\n\n  \n")
    code, data = cli_json("status", "--run", str(run4.root))
    assert code == 0
    assert len(data["result_files"]) == 2
    assert data["attempts"] == {"total": 0, "by_status": {}}
    assert data["corrupt_result_lines"] == 0
