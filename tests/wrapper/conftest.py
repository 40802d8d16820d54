"""Hand-built plans for wrapper tests: any shell command can be a planned config."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from geryon.layout import EXEC_SUBDIRS, RunLayout
from geryon.storage import read_jsonl

REPO = Path(__file__).resolve().parents[2]


def make_run(
    root: Path,
    batches: list[list[str]],
    *,
    run_id: str = "run_test",
    experiment_dir: Path | None = None,
) -> RunLayout:
    """A planned run whose batch ``b`` holds the shell commands ``batches[b]``."""
    layout = RunLayout(root.resolve())
    layout.plan_dir.mkdir(parents=True, exist_ok=True)
    for sub in EXEC_SUBDIRS:
        (layout.exec_dir / sub).mkdir(parents=True, exist_ok=True)
    config_lines: list[bytes] = []
    batch_records = []
    offset = 0
    for batch_index, commands in enumerate(batches):
        start = offset
        for line_index, command in enumerate(commands):
            record = config_record(run_id, batch_index, line_index, command)
            line = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
            config_lines.append(line)
            offset += len(line)
        batch_records.append(
            {
                "batch_index": batch_index,
                "path": f"plan/batches/batch_{batch_index:03d}.txt",
                "num_commands": len(commands),
                "configs_offset": start,
                "configs_bytes": offset - start,
            }
        )
    layout.configs_jsonl.write_bytes(b"".join(config_lines))
    layout.batches_jsonl.write_text(
        "".join(json.dumps(b, sort_keys=True) + "\n" for b in batch_records)
    )
    info: dict[str, Any] = {"run_id": run_id, "run_root": str(layout.root)}
    if experiment_dir is not None:
        info["experiment_dir"] = str(experiment_dir)
    layout.run_json.write_text(json.dumps(info) + "\n")
    return layout


def config_id_for(batch_index: int, line_index: int, command: str) -> str:
    return hashlib.sha1(f"{batch_index}/{line_index}/{command}".encode()).hexdigest()


def config_record(run_id: str, batch_index: int, line_index: int, command: str) -> dict:
    return {
        "run_id": run_id,
        "config_id": config_id_for(batch_index, line_index, command),
        "batch_index": batch_index,
        "line_index": line_index,
        "command": command,
        "params": {},
        "tags": [],
        "wandb_name": f"cfg{batch_index}_{line_index}",
        "selected_options": {"pack": f"opt{line_index}"},
    }


def write_selection(
    layout: RunLayout,
    *,
    selection_id: str = "sel_test",
    resume: bool = False,
    include: list[str] | None = None,
    explicit: list[str] | None = None,
    dry_run: bool = False,
    **settings: Any,
) -> Path:
    batches = [json.loads(line)["batch_index"] for line in layout.batches_jsonl.open()]
    data = {
        "selection_id": selection_id,
        "run_id": layout.run_id,
        "created_at": "2026-01-02T03:04:05Z",
        "backend": "local",
        "batch_indices": batches,
        "include_config_ids": include or [],
        "explicit_config_ids": explicit or [],
        "resume": resume,
        "dry_run": dry_run,
        "settings": {"kill_grace_sec": 0.5, **settings},
    }
    path = layout.selections_dir / f"{selection_id}.json"
    path.write_text(json.dumps(data))
    return path


def wrapper_argv(layout: RunLayout, selection: Path, batches: list[int]) -> list[str]:
    argv = [
        sys.executable,
        "-m",
        "geryon.wrapper",
        "--run",
        str(layout.root),
        "--selection",
        str(selection),
    ]
    for batch in batches:
        argv += ["--batch", str(batch)]
    return argv


def run_wrapper(
    layout: RunLayout,
    selection: Path,
    batches: list[int],
    *,
    timeout: float = 60,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        wrapper_argv(layout, selection, batches),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
        cwd=REPO,
        check=False,
    )


def results(layout: RunLayout) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in layout.result_files():
        records.extend(read_jsonl(path))
    return records


def task_events(layout: RunLayout, task: str) -> list[dict[str, Any]]:
    path = layout.exec_dir / "batch_logs" / task / "task.events.jsonl"
    return list(read_jsonl(path)) if path.exists() else []


def batch_events(layout: RunLayout, task: str, batch: int) -> list[dict[str, Any]]:
    path = layout.exec_dir / "batch_logs" / task / f"batch_{batch:03d}.jsonl"
    return list(read_jsonl(path)) if path.exists() else []


@pytest.fixture
def no_slurm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLURM_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_NODELIST", "CORES"):
        monkeypatch.delenv(name, raising=False)


def process_alive(pid: int, *, within_sec: float = 2.0) -> bool:
    """True if ``pid`` still runs after ``within_sec`` (zombies count as dead:
    the container's init may reap them late)."""
    import time

    deadline = time.monotonic() + within_sec
    while True:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        if stat.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)
