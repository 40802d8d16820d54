"""The wrapper's own output survives reruns of its batch (nothing a user ran is lost)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geryon.cli.main import main


def run_local(capsys: pytest.CaptureFixture[str], root: Path) -> int:
    code = main(["run-local", "--format", "json", "--run", str(root)])
    json.loads(capsys.readouterr().out)
    return code


def test_rerun_of_a_failed_batch_appends_to_the_task_logs(
    make_plan, capsys, tmp_path
) -> None:
    flag = tmp_path / "fixed"
    root = make_plan([f"sh -c 'cat {flag}'"], batch_size=1)
    task_dir = root / "exec" / "batch_logs" / "task_local_0"

    assert run_local(capsys, root) == 1
    first = (task_dir / "task.stderr.log").read_text()
    assert "geryon: batch 0: 1 selected" in first
    assert "0 success, 1 failed" in first

    flag.touch()
    assert run_local(capsys, root) == 0
    both = (task_dir / "task.stderr.log").read_text()
    assert both.startswith(first)
    lines = [line for line in both.splitlines() if line.startswith("geryon: batch 0")]
    assert len(lines) == 2
    assert "1 success, 0 failed" in lines[1]
    # Snakemake's per-job log exists and may be overwritten; the task logs are the
    # wrapper's, so the rule's log: is no longer the task directory's files.
    job_log = root / "exec" / "batch_logs" / "snakemake_jobs" / "batch_000.log"
    assert job_log.is_file()
    assert "geryon: batch 0" not in job_log.read_text()
