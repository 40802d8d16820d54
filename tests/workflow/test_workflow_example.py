"""The two-stage example pipeline (examples/pipeline), run end to end with plain
Snakemake, then run again: the second run must have nothing to do."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest
from workflow_helpers import EXAMPLE_DIR, NOTHING_TO_DO, WORKFLOW_DIR, snakemake

pytestmark = pytest.mark.slow


def estimate_pi(samples: int, seed: int) -> float:
    """The example app's own function, for an independent expected value."""
    path = EXAMPLE_DIR / "app" / "estimate_pi.py"
    spec = importlib.util.spec_from_file_location("example_estimate_pi", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return float(module.estimate_pi(samples, seed))


def test_readme_starts_with_the_command() -> None:
    readme = (EXAMPLE_DIR / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    assert first_block.strip().splitlines() == [
        "cd examples/pipeline",
        "uv run snakemake --cores 2",
    ]


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    """A copy of the repository's workflow/ and examples/pipeline/ under a hostile
    folder name, so the example's relative module path still resolves."""
    root = tmp_path / "geryon copy 'ü'"
    shutil.copytree(WORKFLOW_DIR, root / "workflow")
    shutil.copytree(
        EXAMPLE_DIR,
        root / "examples" / "pipeline",
        ignore=shutil.ignore_patterns("results", ".snakemake", "__pycache__"),
    )
    return root / "examples" / "pipeline"


def read_table(path: Path) -> list[dict[str, str]]:
    header, *lines = path.read_text(encoding="utf-8").splitlines()
    return [
        dict(zip(header.split("\t"), line.split("\t"), strict=True)) for line in lines
    ]


def test_example_pipeline_end_to_end_then_nothing_to_do(pipeline: Path) -> None:
    first = snakemake(pipeline)
    assert first.returncode == 0, first.stdout[-4000:]
    assert "localcheckpoint sweep_plan:" in first.stdout

    rows = read_table(pipeline / "results" / "pi_table.tsv")
    assert [(r["samples"], r["seed"]) for r in rows] == [
        (n, s) for n in ("1000", "10000", "100000") for s in ("1", "2")
    ]
    assert {r["status"] for r in rows} == {"success"}
    assert float(rows[0]["estimate"]) == estimate_pi(1000, 1)
    assert float(rows[5]["estimate"]) == estimate_pi(100000, 2)

    runs = list((pipeline / "results" / "sweep" / "runs").iterdir())
    assert len(runs) == 1 and re.fullmatch(r"run_[0-9a-f]{12}", runs[0].name)
    run = runs[0]
    assert json.loads((run / "run.json").read_text())["num_batches"] == 3
    summary_path = run / "exec" / "results" / "summary.json"
    summary = json.loads(summary_path.read_text())
    assert summary["configs"] == {
        "total": 6,
        "final_by_status": {"success": 6},
        "failed_config_ids": [],
    }
    assert summary["attempts"]["total"] == 6
    assert sorted(p.name for p in (run / "exec" / "results").glob("task_*.jsonl")) == [
        "task_local_0.jsonl",
        "task_local_1.jsonl",
        "task_local_2.jsonl",
    ]
    stdout_log = run / "exec" / "batch_logs" / "task_local_0" / "task.stdout.log"
    assert stdout_log.is_file()
    table_bytes = (pipeline / "results" / "pi_table.tsv").read_bytes()
    summary_mtime = summary_path.stat().st_mtime_ns

    second = snakemake(pipeline)
    assert second.returncode == 0, second.stdout[-4000:]
    assert NOTHING_TO_DO in second.stdout
    assert summary_path.stat().st_mtime_ns == summary_mtime
    assert (pipeline / "results" / "pi_table.tsv").read_bytes() == table_bytes

    # A third seed: a new run next to the untouched old one, and a new table.
    experiment = pipeline / "experiment.yaml"
    experiment.write_text(
        experiment.read_text().replace(
            "- {id: seed2, params: {seed: 2}}",
            "- {id: seed2, params: {seed: 2}}\n        - {id: seed3, params: {seed: 3}}",
        )
    )
    third = snakemake(pipeline)
    assert third.returncode == 0, third.stdout[-4000:]
    new_runs = {p.name for p in (pipeline / "results" / "sweep" / "runs").iterdir()}
    assert len(new_runs) == 2 and run.name in new_runs
    assert summary_path.stat().st_mtime_ns == summary_mtime
    rows = read_table(pipeline / "results" / "pi_table.tsv")
    assert len(rows) == 9 and {r["status"] for r in rows} == {"success"}
