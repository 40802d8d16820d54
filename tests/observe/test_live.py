"""running / liveness and the cheap Snakemake state shown by status."""

from __future__ import annotations

import base64
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from observe_synth import record, write_records

from geryon import canonical
from geryon.observe.live import run_lock_held
from geryon.storage import append_jsonl


@contextmanager
def held_lock(run) -> Iterator[None]:
    fd = os.open(run.layout.state_dir / "run.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield
    finally:
        os.close(fd)


def _event(run, event: str, index: int, attempt: str) -> dict:
    config = run.config(index)
    return {
        "array_task_id": "0",
        "attempt_id": attempt,
        "batch_index": config["batch_index"],
        "config_id": config["config_id"],
        "event": event,
        "job_id": "local",
        "line_index": config["line_index"],
        "run_id": run.layout.run_id,
        "schema_version": 1,
        "time": "2026-01-02T03:04:05Z",
    }


def _start_commands(run) -> None:
    stream = run.layout.exec_dir / "batch_logs" / "task_local_0" / "batch_000.jsonl"
    stream.parent.mkdir(parents=True)
    append_jsonl(stream, _event(run, "command_start", 0, "a" * 32))
    append_jsonl(stream, _event(run, "command_complete", 0, "a" * 32))
    append_jsonl(stream, _event(run, "command_start", 1, "b" * 32))


def _incomplete_marker(run, batch: int) -> None:
    folder = run.layout.exec_dir / ".snakemake" / "incomplete"
    folder.mkdir(parents=True, exist_ok=True)
    name = base64.urlsafe_b64encode(f"markers/sel_x/batch_{batch:03d}.done".encode())
    (folder / name.decode()).write_text("")


def test_unfinished_start_is_running_only_while_the_run_lives(run4, cli_json) -> None:
    ids = run4.ids()
    write_records(run4, [record(run4, 0), record(run4, 1, status="failed")])
    _start_commands(run4)
    _incomplete_marker(run4, 0)
    with held_lock(run4):
        assert run_lock_held(run4.layout)
        _, live = cli_json("status", "--run", str(run4.root))
    assert live["run_active"] is True
    assert live["configs"]["running_config_ids"] == [ids[1]]
    assert live["configs"]["latest_by_status"] == {
        "missing": 2,
        "running": 1,
        "success": 1,
    }
    assert live["snakemake"]["incomplete_batch_indices"] == [0]
    assert not run_lock_held(run4.layout)
    _, dead = cli_json("status", "--run", str(run4.root))
    assert dead["run_active"] is False
    assert dead["configs"]["running_config_ids"] == []
    assert dead["configs"]["failed_config_ids"] == [ids[1]]


def test_live_run_without_incomplete_marker_is_not_running(run4, cli_json) -> None:
    _start_commands(run4)
    _incomplete_marker(run4, 1)
    with held_lock(run4):
        _, data = cli_json("status", "--run", str(run4.root))
    assert data["configs"]["running_config_ids"] == []


def test_snakemake_done_markers_and_failed_rules(run4, cli_json) -> None:
    markers = run4.layout.markers_dir / "sel_local_abc"
    markers.mkdir(parents=True)
    (markers / "batch_000.done").write_text("")
    log_dir = run4.layout.exec_dir / ".snakemake" / "log"
    log_dir.mkdir(parents=True)
    (log_dir / "2026-01-01T000000.000000.snakemake.log").write_text(
        "Error in rule batch_0:\n    output: markers/sel_old/batch_000.done\n"
    )
    (log_dir / "2026-01-02T000000.000000.snakemake.log").write_text(
        "[Thu Dec  3 17:13:42 2026]\n"
        "Error in rule batch_1:\n"
        "    message: None\n"
        "    jobid: 2\n"
        "    output: markers/sel_local_abc/batch_001.done\n"
        "    shell:\n"
        "        run it\n"
        "Finished jobid: 1 (Rule: batch_0)\n"
    )
    _, data = cli_json("status", "--run", str(run4.root))
    assert data["snakemake"] == {
        "done_batch_indices": [0],
        "incomplete_batch_indices": [],
        "failed_batch_indices": [1],
        "latest_log": str(log_dir / "2026-01-02T000000.000000.snakemake.log"),
    }
    canonical.dumps(data)
