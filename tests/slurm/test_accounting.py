"""Which configs a Slurm-side end cut short (no cluster: job states come from the
run's cache file, as after a finished run)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from geryon.layout import RunLayout
from geryon.slurm.accounting import (
    batch_job_ids,
    choose_status_command,
    slurm_overrides,
    slurm_terminations,
)
from geryon.storage import append_jsonl


def make_run(tmp_path: Path) -> RunLayout:
    root = tmp_path / "run"
    (root / "exec" / "state").mkdir(parents=True)
    (root / "run.json").write_text(json.dumps({"run_id": "run"}))
    return RunLayout.open(root)


def event(kind: str, config: str, attempt: str, time: str, **extra) -> dict:
    return {
        "event": kind,
        "config_id": config,
        "attempt_id": attempt,
        "batch_index": extra.pop("batch", 0),
        "time": time,
        **extra,
    }


def write_events(layout: RunLayout, job_id: str, events: list[dict]) -> None:
    path = layout.task_dir(job_id, "0") / "task.events.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    batches = {e["batch_index"] for e in events}
    for batch in sorted(batches):
        append_jsonl(path, {"event": "batch_start", "batch_index": batch})
        stream = path.parent / f"batch_{batch:03d}.jsonl"
        append_jsonl(stream, {"event": "batch_start", "batch_index": batch})
    for item in events:
        append_jsonl(path, item)


def cache_states(layout: RunLayout, states: dict[str, str]) -> None:
    cache = {job: {"state": state} for job, state in states.items()}
    (layout.state_dir / "slurm_jobs.json").write_text(json.dumps(cache))


def record(end_time: str, status: str) -> SimpleNamespace:
    return SimpleNamespace(end_time=end_time, status=status)


T0 = "2026-01-02T03:04:05Z"
T1 = "2026-01-02T03:05:00.250000Z"
T2 = "2026-01-02T04:00:00.000000Z"


def test_unrecorded_and_interrupted_attempts_of_a_timed_out_job(tmp_path) -> None:
    layout = make_run(tmp_path)
    write_events(
        layout,
        "41",
        [
            event("command_start", "ok", "a1", T0),
            event("command_complete", "ok", "a1", T1, status="success", exit_code=0),
            event("command_start", "cut", "a2", T0),
            event(
                "command_complete",
                "stopped",
                "a3",
                T1,
                status="terminated",
                status_reason="interrupted",
            ),
            event("command_start", "stopped", "a3", T0),
        ],
    )
    cache_states(layout, {"41": "TIMEOUT"})
    ends = slurm_terminations(layout)
    assert {c: (e.reason, e.unrecorded) for c, e in ends.items()} == {
        "cut": ("TIMEOUT", True),
        "stopped": ("TIMEOUT", False),
    }
    latest = {"stopped": record(T1, "terminated")}
    assert slurm_overrides(layout, latest) == {"cut": "TIMEOUT", "stopped": "TIMEOUT"}


def test_a_later_attempt_supersedes_the_slurm_end(tmp_path) -> None:
    layout = make_run(tmp_path)
    write_events(layout, "7", [event("command_start", "c", "a1", T0)])
    write_events(
        layout,
        "8",
        [
            event("command_start", "d", "b1", T0),
            event(
                "command_complete",
                "d",
                "b1",
                T1,
                status="terminated",
                status_reason="interrupted",
            ),
        ],
    )
    cache_states(layout, {"7": "CANCELLED", "8": "NODE_FAIL"})
    latest = {"c": record(T2, "success"), "d": record(T2, "success")}
    assert slurm_overrides(layout, latest) == {}


def test_jobs_that_completed_or_failed_end_nothing(tmp_path) -> None:
    layout = make_run(tmp_path)
    write_events(layout, "5", [event("command_start", "x", "a", T0, batch=3)])
    write_events(layout, "6", [event("command_start", "y", "b", T0, batch=1)])
    cache_states(layout, {"5": "COMPLETED", "6": "FAILED"})
    assert slurm_terminations(layout) == {}
    assert batch_job_ids(layout) == {1: ["6"], 3: ["5"]}


def test_local_runs_have_no_slurm_jobs(tmp_path) -> None:
    layout = make_run(tmp_path)
    write_events(layout, "local", [event("command_start", "x", "a", T0)])
    assert slurm_terminations(layout) == {}
    assert slurm_overrides(layout, {}) == {}


def test_status_command_choice() -> None:
    assert choose_status_command("sacct", 600) == "sacct"
    assert choose_status_command(None, 300) == "squeue"


def test_shell_exit_143_in_a_cancelled_job_counts_as_cut_short(tmp_path) -> None:
    layout = make_run(tmp_path)
    failed = {"status": "failed", "exit_code": 143}
    write_events(
        layout,
        "26",
        [
            event("command_start", "killed", "a1", T0),
            event("command_complete", "killed", "a1", T1, **failed),
            event("command_start", "broken", "a2", T0),
            event("command_complete", "broken", "a2", T1, status="failed", exit_code=3),
        ],
    )
    cache_states(layout, {"26": "CANCELLED"})
    latest = {"killed": record(T1, "failed"), "broken": record(T1, "failed")}
    assert slurm_overrides(layout, latest) == {"killed": "CANCELLED"}


def test_queue_without_recorded_jobs_is_a_config_error(tmp_path, capsys) -> None:
    from geryon.cli.main import main

    layout = make_run(tmp_path)
    assert main(["queue", "--run", str(layout.root)]) == 2
    err = capsys.readouterr().err
    assert "[config error]" in err
    assert "no Slurm jobs are recorded for this run" in err
    assert "--job-id" in err


def test_run_slurm_without_sbatch_fails_before_snakemake(
    tmp_path, capsys, monkeypatch
) -> None:
    import sys

    from slurm_plans import write_plan

    from geryon.cli.main import main

    root = write_plan(tmp_path / "out" / "runs" / "r", ["true"], batch_size=1)
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    args = ["run-slurm", "--run", str(root), "--partition", "p", "--time-min", "1"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "[runtime error] Slurm's sbatch and squeue not found on PATH" in err
    assert not (root / "exec" / "Snakefile").exists()
