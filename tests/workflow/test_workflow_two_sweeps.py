"""Two sweeps in one pipeline (the module imported twice), a failed batch that a
second run repeats alone (resuming inside the batch), then nothing to do."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from workflow_helpers import MODULE_SNAKEFILE, NOTHING_TO_DO, snakemake

from geryon.storage import read_jsonl

pytestmark = pytest.mark.slow

PIPELINE = """\
rule all:
    input:
        "both.txt",
    default_target: True


module sweep_a:
    snakefile:
        {module!r}
    config:
        config["sweep_a"]


use rule * from sweep_a as sweep_a_*


module sweep_b:
    snakefile:
        {module!r}
    config:
        config["sweep_b"]


use rule * from sweep_b as sweep_b_*


rule both:
    input:
        a=rules.sweep_a_collect.output.summary,
        b=rules.sweep_b_collect.output.summary,
    output:
        "both.txt",
    shell:
        "echo {{input.a:q}} {{input.b:q}} > {{output:q}}"
"""

CONFIG = """\
sweep_a:
  experiment: a.yaml
  out: results/sweeps
  batch_size: 1
sweep_b:
  experiment: b.yaml
  out: results/sweeps
  batch_size: 2
  run_id: b_fixed
"""

# A command that fails while the file fail_<y> exists next to the experiment
# (commands run in the experiment's folder).
CHECK = """\
import pathlib, sys
y = next(arg.split("=", 1)[1] for arg in sys.argv[1:] if arg.startswith("++y="))
sys.exit(1 if pathlib.Path(f"fail_{y}").exists() else 0)
"""


def experiment(pack: str, values: range, args: list[str]) -> str:
    options = "\n".join(
        f"        - {{id: {pack}{v}, params: {{{pack}: {v}}}}}" for v in values
    )
    return (
        "schema:\n  version: 4\n"
        f"command:\n  program: python\n  args: {json.dumps(args)}\n"
        f"select:\n  packs:\n    - name: {pack}\n      options:\n{options}\n"
    )


@pytest.fixture
def pipeline(tmp_path: Path) -> Path:
    root = tmp_path / "two sweeps"
    root.mkdir()
    (root / "Snakefile").write_text(PIPELINE.format(module=str(MODULE_SNAKEFILE)))
    (root / "config.yaml").write_text(CONFIG)
    (root / "check.py").write_text(CHECK)
    (root / "a.yaml").write_text(experiment("x", range(1, 4), ["-c", "print(1)"]))
    (root / "b.yaml").write_text(experiment("y", range(1, 5), ["check.py"]))
    return root


def attempts_by_value(run: Path, pack: str) -> dict[int, list[str]]:
    """Statuses of every attempt, per value of the pack's parameter."""
    configs = {
        c["config_id"]: c["params"][pack]
        for c in read_jsonl(run / "plan" / "configs.jsonl")
    }
    found: dict[int, list[str]] = {}
    for path in sorted((run / "exec" / "results").glob("task_*.jsonl")):
        for record in read_jsonl(path):
            found.setdefault(configs[record["config_id"]], []).append(record["status"])
    return found


def test_two_sweeps_failed_batch_resumes_then_nothing_to_do(pipeline: Path) -> None:
    (pipeline / "fail_3").touch()
    first = snakemake(pipeline, "--configfile", "config.yaml", "--keep-going")
    assert first.returncode == 1, first.stdout[-4000:]
    runs = pipeline / "results" / "sweeps" / "runs"
    run_a = next(p for p in runs.iterdir() if p.name != "b_fixed")
    run_b = runs / "b_fixed"
    assert re.fullmatch(r"run_[0-9a-f]{12}", run_a.name)
    summary_a = run_a / "exec" / "results" / "summary.json"
    assert json.loads(summary_a.read_text())["configs"]["final_by_status"] == {
        "success": 3
    }
    assert not (run_b / "exec" / "results" / "summary.json").exists()
    assert not (pipeline / "both.txt").exists()
    assert attempts_by_value(run_b, "y") == {
        1: ["success"],
        2: ["success"],
        3: ["failed"],
        4: ["success"],
    }

    (pipeline / "fail_3").unlink()
    second = snakemake(pipeline, "--configfile", "config.yaml")
    assert second.returncode == 0, second.stdout[-4000:]
    assert "sweep_a_batch" not in second.stdout
    assert second.stdout.count("localrule sweep_b_batch:") == 1
    # Inside the repeated batch only y=3 ran again; y=4 had succeeded.
    assert attempts_by_value(run_b, "y") == {
        1: ["success"],
        2: ["success"],
        3: ["failed", "success"],
        4: ["success"],
    }
    summary_b = json.loads((run_b / "exec" / "results" / "summary.json").read_text())
    assert summary_b["attempts"]["by_status"] == {"failed": 1, "success": 4}
    assert summary_b["configs"]["final_by_status"] == {"success": 4}
    assert (pipeline / "both.txt").read_text().split() == [
        str(summary_a.relative_to(pipeline)),
        str((run_b / "exec" / "results" / "summary.json").relative_to(pipeline)),
    ]

    third = snakemake(pipeline, "--configfile", "config.yaml")
    assert third.returncode == 0, third.stdout[-4000:]
    assert NOTHING_TO_DO in third.stdout
