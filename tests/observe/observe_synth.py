"""Synthetic plans and attempt records (spec A2, A3, A10, E34) for the observe tests."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon import canonical
from geryon.layout import EXEC_SUBDIRS, RunLayout, batch_name, line_name, task_name
from geryon.storage import append_jsonl, write_text_atomic


@dataclass
class SyntheticRun:
    layout: RunLayout
    configs: list[dict[str, Any]]

    @property
    def root(self) -> Path:
        return self.layout.root

    def ids(self) -> list[str]:
        return [c["config_id"] for c in self.configs]

    def config(self, index: int) -> dict[str, Any]:
        return self.configs[index]


def config_id_for(number: int) -> str:
    return hashlib.sha1(f"config-{number}".encode()).hexdigest()


def make_run(
    base: Path,
    *,
    options: list[dict[str, str]],
    batch_size: int = 2,
    run_id: str = "run_20260102T030405Z",
    ids: list[str] | None = None,
) -> SyntheticRun:
    """A planned run root with one config per entry of ``options`` (selected options)."""
    root = base / "out" / "runs" / run_id
    layout = RunLayout(root)
    for sub in EXEC_SUBDIRS:
        (layout.exec_dir / sub).mkdir(parents=True, exist_ok=True)
    configs = []
    for number, selected in enumerate(options):
        config_id = ids[number] if ids else config_id_for(number)
        configs.append(
            {
                "batch_index": number // batch_size,
                "command": f"python app.py ++n={number} 'x=\"q\"'",
                "config_id": config_id,
                "line_index": number % batch_size,
                "params": {"n": number, "selected_options": {"decoy": "x"}},
                "run_id": run_id,
                "selected_options": selected,
                "tags": ["t"],
                "wandb_name": f"t_{config_id[:8]}",
            }
        )
    lines = "".join(canonical.dumps(c) + "\n" for c in configs)
    write_text_atomic(layout.configs_jsonl, lines)
    num_batches = (len(configs) + batch_size - 1) // batch_size
    batches = [
        {
            "batch_index": b,
            "num_commands": sum(1 for c in configs if c["batch_index"] == b),
            "path": f"plan/batches/{batch_name(b)}.txt",
        }
        for b in range(num_batches)
    ]
    write_text_atomic(
        layout.batches_jsonl, "".join(canonical.dumps(b) + "\n" for b in batches)
    )
    info = {
        "run_id": run_id,
        "run_root": str(root),
        "batch_size": batch_size,
        "num_configs": len(configs),
        "num_batches": num_batches,
    }
    write_text_atomic(layout.run_json, canonical.dumps(info) + "\n")
    return SyntheticRun(layout, configs)


def record(
    run: SyntheticRun,
    index: int,
    *,
    status: str | None = "success",
    end: str = "2026-01-02T03:04:05.000000Z",
    start: str = "2026-01-02T03:04:01.000000Z",
    attempt: str | None = None,
    reason: str | None = None,
    duration: float = 4.0,
    job: str = "local",
    task: str = "0",
    **extra: Any,
) -> dict[str, Any]:
    """An E34 attempt record for planned config ``index``."""
    config = run.configs[index]
    attempt_id = attempt or hashlib.md5(f"{index}{end}{start}".encode()).hexdigest()
    base = run.layout.cmd_log_base(
        job,
        task,
        config["batch_index"],
        config["line_index"],
        config["config_id"],
        attempt_id,
    )
    value: dict[str, Any] = {
        "array_task_id": task,
        "attempt_id": attempt_id,
        "attempt_index": 0,
        "batch_index": config["batch_index"],
        "command": config["command"],
        "config_id": config["config_id"],
        "duration_sec": duration,
        "end_time": end,
        "executor": "process",
        "exit_code": 0 if status == "success" else 1,
        "hostname": "node",
        "job_id": job,
        "line_index": config["line_index"],
        "parent_attempt_id": None,
        "pid": 42,
        "run_id": run.layout.run_id,
        "selected_options": config["selected_options"],
        "start_time": start,
        "status": status,
        "status_reason": reason,
        "stderr_path": f"{base}.stderr.log",
        "stdout_path": f"{base}.stdout.log",
        "tmux_session": None,
    }
    if status is None:
        del value["status"]
    value.update(extra)
    return value


def write_records(
    run: SyntheticRun,
    records: list[dict[str, Any]],
    *,
    job: str = "local",
    task: str = "0",
) -> Path:
    path = run.layout.results_dir / f"{task_name(job, task)}.jsonl"
    for item in records:
        append_jsonl(path, item)
    return path


def write_stderr(rec: dict[str, Any], text: str) -> None:
    path = Path(rec["stderr_path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


__all__ = ["line_name", "make_run", "record", "write_records", "write_stderr"]
