"""Selection, resume (E9–E12, Q26, Q33), dry run (Q27) and exit codes."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path

import pytest

from geryon.storage import append_jsonl
from geryon.wrapper import run_batches
from geryon.wrapper.history import latest_attempt_key
from tests.wrapper.conftest import (
    config_id_for,
    make_run,
    results,
    run_wrapper,
    task_events,
    write_selection,
)

pytestmark = pytest.mark.usefixtures("no_slurm")


def sh(script: str) -> str:
    """A planned command; the appended hydra.run.dir word becomes ``$0``."""
    return "sh -c " + shlex.quote(script)


def test_latest_attempt_compares_parsed_times_not_text() -> None:
    # Q33: upstream omitted the fraction at zero microseconds; as text '05Z' > '05.5Z'.
    early = {"end_time": "2026-01-01T00:00:05Z", "attempt_id": "b"}
    late = {"end_time": "2026-01-01T00:00:05.500000Z", "attempt_id": "a"}
    assert max([early, late], key=latest_attempt_key) is late


def test_latest_attempt_ties_break_on_start_then_attempt_id() -> None:
    end = "2026-01-01T00:00:05.000000Z"
    a = {
        "end_time": end,
        "start_time": "2026-01-01T00:00:01.000000Z",
        "attempt_id": "z",
    }
    b = {
        "end_time": end,
        "start_time": "2026-01-01T00:00:02.000000Z",
        "attempt_id": "a",
    }
    c = {
        "end_time": end,
        "start_time": "2026-01-01T00:00:02.000000Z",
        "attempt_id": "b",
    }
    assert max([a, b, c], key=latest_attempt_key) is c


def test_resume_skips_successes_but_reruns_failures(tmp_path: Path) -> None:
    marker = tmp_path / "flag"
    layout = make_run(tmp_path / "run", [["true", sh(f"test -e {marker}")]])
    first = run_wrapper(layout, write_selection(layout, resume=True), [0])
    assert first.returncode == 1
    marker.touch()
    second = run_wrapper(layout, write_selection(layout, resume=True), [0])
    assert second.returncode == 0, second.stderr
    by_line = [r["line_index"] for r in results(layout)]
    assert sorted(by_line) == [0, 1, 1]
    assert "1 already succeeded" in second.stderr


def test_explicit_ids_are_rerun_even_after_success(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["true", "true"]])
    assert run_wrapper(layout, write_selection(layout), [0]).returncode == 0
    explicit = config_id_for(0, 1, "true")
    selection = write_selection(layout, resume=True, explicit=[explicit])
    assert run_wrapper(layout, selection, [0]).returncode == 0
    counts = [r["config_id"] for r in results(layout)].count(explicit)
    assert counts == 2
    assert len(results(layout)) == 3


def test_latest_failure_after_success_is_rerun(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["true"]])
    assert run_wrapper(layout, write_selection(layout), [0]).returncode == 0
    (record,) = results(layout)
    failed = {
        **record,
        "attempt_id": "f" * 32,
        "status": "failed",
        "end_time": "2099-01-01T00:00:00.000000Z",
    }
    append_jsonl(layout.result_file("local", "0"), failed)
    assert (
        run_wrapper(layout, write_selection(layout, resume=True), [0]).returncode == 0
    )
    assert len(results(layout)) == 3


def test_torn_last_line_does_not_break_resume(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["true", "true"]])
    assert run_wrapper(layout, write_selection(layout), [0]).returncode == 0
    result_file = layout.result_file("local", "0")
    with result_file.open("ab") as handle:
        handle.write(
            b'{"config_id": "' + config_id_for(0, 1, "true").encode() + b'", "sta'
        )
    proc = run_wrapper(layout, write_selection(layout, resume=True), [0])
    assert proc.returncode == 0, proc.stderr
    assert "skipped a line that is not a JSON object" in proc.stderr
    assert len(results(layout)) == 2


def test_include_ids_limit_the_batch(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["true", "false", "true"]])
    wanted = config_id_for(0, 2, "true")
    proc = run_wrapper(layout, write_selection(layout, include=[wanted]), [0])
    assert proc.returncode == 0
    assert [r["config_id"] for r in results(layout)] == [wanted]
    (flt,) = [
        e for e in task_events(layout, "task_local_0") if e["event"] == "batch_filter"
    ]
    assert (flt["selected_commands"], flt["skipped_not_selected"]) == (1, 2)


def test_dry_run_has_no_side_effects(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["touch should_not_exist"]])
    selection = write_selection(layout, dry_run=True)
    before = sorted(p for p in layout.root.rglob("*"))
    proc = run_wrapper(layout, selection, [0])
    assert proc.returncode == 0
    assert sorted(p for p in layout.root.rglob("*")) == before
    assert "1 selected" in proc.stderr


def test_exit_code_is_one_when_any_config_fails(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["true"], ["false"]])
    selection = write_selection(layout)
    assert run_wrapper(layout, selection, [0]).returncode == 0
    proc = run_wrapper(layout, selection, [1])
    assert proc.returncode == 1
    assert "geryon: batch 1: 1 selected" in proc.stderr
    assert "0 success, 1 failed" in proc.stderr


def test_bad_policy_value_is_exit_two_without_traceback(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["true"]])
    proc = run_wrapper(layout, write_selection(layout, max_retries=-1), [0])
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "at settings.max_retries: expected an integer >= 0, got -1" in proc.stderr
    assert results(layout) == []


def test_unknown_batch_is_exit_two(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["true"]])
    proc = run_wrapper(layout, write_selection(layout), [7])
    assert proc.returncode == 2
    assert "batch index 7 is not in the plan" in proc.stderr


def test_missing_env_script_is_a_config_error(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["true"]])
    selection = write_selection(layout, env_script=str(tmp_path / "nope.sh"))
    proc = run_wrapper(layout, selection, [0])
    assert proc.returncode == 2
    assert "settings.env_script" in proc.stderr and "does not exist" in proc.stderr


def test_run_batches_in_process(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["true", "true"]])
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGCHLD)}
    assert run_batches(layout, write_selection(layout), [0]) == 0
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers
    assert [r["status"] for r in results(layout)] == ["success", "success"]
    task_dir = layout.task_dir("local", "0")
    assert (task_dir / "task.stdout.log").exists() and (
        task_dir / "task.stderr.log"
    ).exists()
