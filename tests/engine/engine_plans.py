"""Hand-written plans for engine tests (the planner's output format, spec A2/A3)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from geryon import canonical


def write_plan(
    root: Path, commands: list[str], *, batch_size: int, run_id: str | None = None
) -> Path:
    """A planned run root at ``root`` whose configs run ``commands`` in order."""
    run_id = run_id or root.name
    plan = root / "plan"
    (plan / "batches").mkdir(parents=True)
    configs: list[bytes] = []
    for number, command in enumerate(commands):
        record = {
            "run_id": run_id,
            "config_id": hashlib.sha1(f"{run_id}:{number}".encode()).hexdigest(),
            "batch_index": number // batch_size,
            "line_index": number % batch_size,
            "command": command,
            "params": {"n": number},
            "tags": [f"n{number}"],
            "wandb_name": f"n{number}",
            "selected_options": {"n": f"n{number}"},
        }
        configs.append((canonical.dumps(record) + "\n").encode())
    (plan / "configs.jsonl").write_bytes(b"".join(configs))
    batches = []
    offset = 0
    for index in range(0, len(commands), batch_size):
        lines = configs[index : index + batch_size]
        batch_index = index // batch_size
        path = f"plan/batches/batch_{batch_index:03d}.txt"
        (root / path).write_text(
            "".join(c + "\n" for c in commands[index : index + batch_size])
        )
        size = sum(len(line) for line in lines)
        batches.append(
            {
                "batch_index": batch_index,
                "path": path,
                "num_commands": len(lines),
                "configs_offset": offset,
                "configs_bytes": size,
            }
        )
        offset += size
    (plan / "batches.jsonl").write_text(
        "".join(canonical.dumps(b) + "\n" for b in batches)
    )
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
    lines = (root / "plan" / "configs.jsonl").read_text().splitlines()
    return [json.loads(line)["config_id"] for line in lines]


def records(root: Path) -> list[dict]:
    found = []
    for path in sorted((root / "exec" / "results").glob("task_*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                found.append(json.loads(line))
    return found
