"""run-local end to end on real Snakemake with the real batch wrapper."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from engine_plans import config_ids, records

from geryon.cli.main import main

GERYON = [str(Path(sys.executable).parent / "geryon")]


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["run-local", "--format", "json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


def tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


def test_failures_exit_1_with_summary_then_success_exit_0(make_plan, capsys) -> None:
    root = make_plan(["true", "echo hi", "exit 3", "true"], batch_size=2)
    code, report = run_json(capsys, "--run", str(root))
    assert code == 1
    assert report["configs"] == {"selected": 4, "success": 3, "failed": 1}
    [failure] = report["failures"]
    assert failure["config_id"] == config_ids(root)[2]
    assert (failure["batch_index"], failure["line_index"]) == (1, 0)
    assert Path(failure["stderr_path"]).is_file()
    markers = root / "exec" / "markers" / report["selection"]["selection_id"]
    assert sorted(p.name for p in markers.iterdir()) == ["batch_000.done"]
    assert Counter(r["status"] for r in records(root)) == {"success": 3, "failed": 1}
    saved = (root / "exec" / "snakemake_command.txt").read_text()
    assert saved.strip() == report["snakemake"]["commands"][0]
    assert "--scheduler greedy" in saved

    # Running the same selection again continues it: only the failed batch runs,
    # and the wrapper resumes (the success in batch 1 is not repeated).
    code, report = run_json(capsys, "--run", str(root))
    assert code == 1
    assert report["resolved_defaults_sources"]["resume"] == "continued_selection"
    statuses = Counter((r["config_id"], r["status"]) for r in records(root))
    assert statuses[(config_ids(root)[3], "success")] == 1
    assert statuses[(config_ids(root)[2], "failed")] == 2


def test_all_success_exit_0_and_power_user_snakemake(
    make_plan, capsys, tmp_path
) -> None:
    root = make_plan(["true", "echo a", "echo b"], batch_size=2, name="run 'ü' x")
    code, report = run_json(capsys, "--run", str(root))
    assert code == 0
    assert report["configs"] == {"selected": 3, "success": 3}
    assert len(records(root)) == 3

    # Again: every batch has its marker, so Snakemake is not even started.
    code, report = run_json(capsys, "--run", str(root))
    assert code == 0
    assert len(list((root / "exec" / "snakemake_logs").iterdir())) == 1
    assert len(records(root)) == 3

    # The generated Snakefile runs from any directory; on a finished run there
    # is nothing to do.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    snakefile = root / "exec" / "Snakefile"
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(snakefile), "--cores", "2"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Nothing to be done" in done.stdout + done.stderr
    assert len(records(root)) == 3


def test_power_user_snakemake_runs_the_plan(make_plan, capsys, tmp_path) -> None:
    """`geryon run-local -- -n` writes the Snakefile; plain snakemake then runs it."""
    root = make_plan(["true", "exit 4", "echo c"], batch_size=1)
    run_json(capsys, "--run", str(root), "--", "--dry-run")
    assert records(root) == []
    snakefile = root / "exec" / "Snakefile"
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(snakefile), "--cores", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    got = {(r["config_id"], r["status"]) for r in records(root)}
    ids = config_ids(root)
    assert got == {(ids[0], "success"), (ids[1], "failed"), (ids[2], "success")}


def test_batch_index_and_config_id_selection(make_plan, capsys) -> None:
    root = make_plan(["true"] * 6, batch_size=2)
    ids = config_ids(root)
    code, report = run_json(capsys, "--run", str(root), "--batch-index", "2")
    assert code == 0
    assert report["selection"]["batch_indices"] == [2]
    assert {r["config_id"] for r in records(root)} == {ids[4], ids[5]}

    code, report = run_json(capsys, "--run", str(root), "--config-id", ids[1])
    assert code == 0
    assert report["selection"]["batch_indices"] == [0]
    assert report["configs"] == {"selected": 1, "success": 1}
    assert {r["config_id"] for r in records(root)} == {ids[1], ids[4], ids[5]}


def test_retry_file_runs_its_targets_with_resume(make_plan, capsys) -> None:
    root = make_plan(["true", "true", "true"], batch_size=3)
    ids = config_ids(root)
    retry = root / "exec" / "retries" / "retry_x.json"
    retry.parent.mkdir(parents=True)
    retry.write_text(json.dumps({"run_id": root.name, "target_config_ids": [ids[2]]}))
    code, report = run_json(capsys, "--run", str(root), "--retry-file", str(retry))
    assert code == 0
    assert report["resolved_defaults_sources"]["resume"] == "retry_file"
    assert [r["config_id"] for r in records(root)] == [ids[2]]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--batch-index", "9"], "--batch-index 9 is not a planned batch"),
        (["--config-id", "f" * 40], "is not planned in this run"),
        (["--retry-file", "/nonexistent/retry.json"], "retry file not found"),
        (["--profile", "p"], "profiles file not found"),
        (["--max-concurrent-tasks", "0"], "--max-concurrent-tasks must be >= 1"),
    ],
)
def test_bad_selection_exits_2_and_writes_nothing(
    make_plan, capsys, args, message
) -> None:
    root = make_plan(["true", "true"], batch_size=1)
    before = tree(root)
    assert main(["run-local", "--run", str(root), *args]) == 2
    assert message in capsys.readouterr().err
    assert tree(root) == before


def test_retry_file_of_another_run_is_refused(make_plan, capsys) -> None:
    root = make_plan(["true"], batch_size=1)
    retry = root.parent / "retry.json"
    retry.write_text(json.dumps({"run_id": "other", "target_config_ids": []}))
    assert main(["run-local", "--run", str(root), "--retry-file", str(retry)]) == 2
    assert "retry file is for run id 'other'" in capsys.readouterr().err


def test_dry_run_prints_everything_and_has_no_side_effects(make_plan, capsys) -> None:
    root = make_plan(["true", "true", "true"], batch_size=2)
    before = tree(root)
    code, report = run_json(
        capsys, "--run", str(root), "--dry-run", "--max-retries", "2"
    )
    assert code == 0
    assert report["dry_run"] is True
    assert report["configs"] == {"selected": 3}
    assert report["resolved_defaults_sources"]["max_retries"] == "cli"
    assert report["settings"]["max_retries"] == 2
    assert report["snakemake"]["commands"][0].split()[1:4] == [
        "-m",
        "geryon.engine.local_snakemake",
        "-s",
    ]
    assert tree(root) == before


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_kill_9_then_resume_loses_nothing_and_repeats_no_success(make_plan) -> None:
    """SIGKILL the whole process group of a running run-local; the second
    run-local is refused while the first runs; a rerun finishes the work."""
    root = make_plan([f"sleep 0.4 && echo {n}" for n in range(12)], batch_size=3)
    first = subprocess.Popen(
        [*GERYON, "run-local", "--run", str(root), "--format", "json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(lambda: len(records(root)) >= 2)
        second = subprocess.run(
            [*GERYON, "run-local", "--run", str(root)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert second.returncode == 1
        assert f"pid {first.pid}" in second.stderr
        assert "another geryon execution is running" in second.stderr
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    partial = records(root)
    assert 2 <= len(partial) < 12
    time.sleep(0.5)

    again = subprocess.run(
        [*GERYON, "run-local", "--run", str(root), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr
    final = records(root)
    successes = Counter(r["config_id"] for r in final if r["status"] == "success")
    assert set(successes) == set(config_ids(root))
    assert max(successes.values()) == 1


def test_chunked_selection_runs_chunk_after_chunk(
    make_plan, capsys, monkeypatch
) -> None:
    """Big selections run as several Snakefiles in order (here: 2 batches each)."""
    monkeypatch.setattr("geryon.engine.snakefile.CHUNK_BATCHES", 2)
    root = make_plan(["true", "true", "exit 5"], batch_size=1)
    code, report = run_json(capsys, "--run", str(root))
    assert code == 1
    assert len(report["snakemake"]["commands"]) == 2
    assert [Path(p).name for p in report["snakemake"]["snakefiles"]] == [
        "Snakefile_0000",
        "Snakefile_0001",
    ]
    assert report["configs"] == {"selected": 3, "success": 2, "failed": 1}
    saved = (root / "exec" / "snakemake_command.txt").read_text().splitlines()
    assert saved == report["snakemake"]["commands"]


def test_unplanned_run_dir_exits_2(tmp_path, capsys) -> None:
    assert main(["run-local", "--run", str(tmp_path)]) == 2
    assert "not a planned geryon run (run.json is missing)" in capsys.readouterr().err


def test_progress_is_ignored_with_json_output(make_plan, capsys, tmp_path) -> None:
    """E39: the live view never mixes into --format json (a warning says so)."""
    root = make_plan(["true"], batch_size=1)
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(
        "profiles:\n  live:\n    defaults:\n      run_local: {progress: true}\n"
    )
    args = ["--run", str(root), "--profile", "live", "--profiles-file", str(profiles)]
    code = main(["run-local", "--format", "json", "--dry-run", *args])
    captured = capsys.readouterr()
    assert code == 0
    assert json.loads(captured.out)["settings"]["progress"] is True
    assert "progress: true is ignored" in captured.err
