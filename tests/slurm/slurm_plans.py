"""Small planned runs in the planner's on-disk format (spec section 7), for tests
that only need commands to run, and helpers to read what a run wrote."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from geryon import canonical

GERYON = str(Path(sys.executable).parent / "geryon")


def write_plan(root: Path, commands: list[str], *, batch_size: int) -> Path:
    run_id = root.name
    (root / "plan" / "batches").mkdir(parents=True)
    lines: list[bytes] = []
    for number, command in enumerate(commands):
        record = {
            "run_id": run_id,
            "config_id": hashlib.sha1(f"{run_id}/{number}".encode()).hexdigest(),
            "batch_index": number // batch_size,
            "line_index": number % batch_size,
            "command": command,
            "params": {"n": number},
            "tags": [f"n{number}"],
            "wandb_name": f"n{number}",
            "selected_options": {"n": f"n{number}"},
        }
        lines.append((canonical.dumps(record) + "\n").encode())
    (root / "plan" / "configs.jsonl").write_bytes(b"".join(lines))
    batches, offset = [], 0
    for start in range(0, len(commands), batch_size):
        chunk = lines[start : start + batch_size]
        index = start // batch_size
        path = root / "plan" / "batches" / f"batch_{index:03d}.txt"
        path.write_text("".join(c + "\n" for c in commands[start : start + batch_size]))
        size = sum(len(line) for line in chunk)
        batches.append(
            {
                "batch_index": index,
                "path": str(path.relative_to(root)),
                "num_commands": len(chunk),
                "configs_offset": offset,
                "configs_bytes": size,
            }
        )
        offset += size
    text = "".join(canonical.dumps(b) + "\n" for b in batches)
    (root / "plan" / "batches.jsonl").write_text(text)
    run = {
        "run_id": run_id,
        "run_root": str(root),
        "num_configs": len(commands),
        "num_batches": len(batches),
        "batch_size": batch_size,
        "experiment_dir": str(root),
    }
    (root / "run.json").write_text(json.dumps(run) + "\n")
    return root


def config_ids(root: Path) -> list[str]:
    text = (root / "plan" / "configs.jsonl").read_text()
    return [json.loads(line)["config_id"] for line in text.splitlines()]


def records(root: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted((root / "exec" / "results").glob("task_*.jsonl")):
        found += [json.loads(line) for line in path.read_text().splitlines() if line]
    return found


def geryon(*args: str, timeout: float = 300) -> tuple[int, dict[str, Any], str]:
    """The real CLI in a subprocess with ``--format json``: (exit, JSON, stderr)."""
    done = subprocess.run(
        [GERYON, *args, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    payload = json.loads(done.stdout) if done.stdout.strip() else {}
    return done.returncode, payload, done.stderr


def sacct_rows(job_ids: list[str]) -> dict[str, dict[str, str]]:
    """Job id -> sacct fields, for allocations only."""
    fields = ["JobIDRaw", "State", "Comment", "AllocCPUS", "Timelimit", "JobName"]
    done = subprocess.run(
        ["sacct", "-n", "-X", "-P", "-j", ",".join(job_ids), "-o", ",".join(fields)],
        capture_output=True,
        text=True,
        check=True,
        timeout=20,
    )
    rows = {}
    for line in done.stdout.splitlines():
        values = line.split("|")
        rows[values[0]] = dict(zip(fields, values, strict=True))
    return rows
