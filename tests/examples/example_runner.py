"""Running an example the way its README says, in a temporary copy of examples/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
BASH_BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


def readme_commands(example: str) -> list[str]:
    """The first line of every ```bash block of ``examples/<example>/README.md``."""
    text = (EXAMPLES / example / "README.md").read_text(encoding="utf-8")
    return [block.strip().splitlines()[0] for block in BASH_BLOCK.findall(text)]


def readme_lines(example: str) -> list[str]:
    """Every line of every ```bash block of the README."""
    text = (EXAMPLES / example / "README.md").read_text(encoding="utf-8")
    return [line for block in BASH_BLOCK.findall(text) for line in block.splitlines()]


@dataclass
class Workspace:
    """A folder holding a copy of examples/, with the venv first on PATH."""

    root: Path
    env: dict[str, str]

    def run(
        self, command: str, *, timeout: int = 300
    ) -> subprocess.CompletedProcess[str]:
        # `uv run` would look for a project here; the venv's bin is on PATH instead.
        command = command.removeprefix("uv run ")
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def status(self, run_id: str) -> dict[str, Any]:
        done = self.run(f"geryon status --run outputs/runs/{run_id} --format json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def attempts(self, run_id: str) -> list[dict[str, Any]]:
        results = self.root / "outputs" / "runs" / run_id / "exec" / "results"
        return [
            json.loads(line)
            for path in sorted(results.glob("task_*.jsonl"))
            for line in path.read_text().splitlines()
            if line.strip()
        ]

    def configs(self, run_id: str) -> list[dict[str, Any]]:
        path = self.root / "outputs" / "runs" / run_id / "plan" / "configs.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()]


def make_workspace(folder: Path) -> Workspace:
    shutil.copytree(
        EXAMPLES,
        folder / "examples",
        ignore=shutil.ignore_patterns("outputs", "__pycache__", ".snakemake"),
    )
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("GERYON_LOG_LEVEL", None)
    return Workspace(folder, env)


def latest_by_option(ws: Workspace, run_id: str, pack: str) -> dict[str, list[str]]:
    """Option id -> the statuses of that config's attempts, in attempt order."""
    found: dict[str, list[tuple[str, str]]] = {}
    for record in ws.attempts(run_id):
        option = record["selected_options"][pack]
        found.setdefault(option, []).append((record["end_time"], record["status"]))
    return {option: [s for _, s in sorted(items)] for option, items in found.items()}
