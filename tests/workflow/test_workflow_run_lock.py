"""Local batch jobs hold geryon's run lock shared: while another geryon execution
holds it (``geryon run-local`` on the same run), a batch job does not start.
The pipeline here include:s the module instead of importing it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from workflow_helpers import MODULE_SNAKEFILE, snakemake

from geryon.engine.runlock import run_lock
from geryon.plan import plan_experiment

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("flock") is None, reason="needs flock(1)"),
]

# The module include:d rather than imported: its keys come from `geryon:`, its
# rules keep their own names.
PIPELINE = f"""\
configfile: "config.yaml"


include: {str(MODULE_SNAKEFILE)!r}
"""

CONFIG = """\
geryon:
  experiment: experiment.yaml
  out: results
  batch_size: 1
  run_id: locked
samples: [a, b]
"""

EXPERIMENT = """\
schema:
  version: 4
command:
  program: python
  args: ["-c", "print(1)"]
select:
  packs:
    - name: x
      options:
        - {id: x1, params: {x: 1}}
"""


def test_batch_job_refuses_while_another_execution_holds_the_lock(
    tmp_path: Path,
) -> None:
    (tmp_path / "Snakefile").write_text(PIPELINE)
    (tmp_path / "config.yaml").write_text(CONFIG)
    (tmp_path / "experiment.yaml").write_text(EXPERIMENT)
    # A run planned by `geryon plan` with the module's values is adopted as is.
    plan = plan_experiment(
        tmp_path / "experiment.yaml",
        out=tmp_path / "results",
        batch_size=1,
        run_id="locked",
    )
    assert plan.run_root is not None
    lock = plan.run_root / "exec" / "state" / "run.lock"

    with run_lock(lock):
        result = snakemake(tmp_path, "collect")

    assert result.returncode == 1, result.stdout[-4000:]
    assert "localcheckpoint plan:" in result.stdout
    assert "rule batch:" in result.stdout
    assert "geryon: another geryon execution holds the run lock" in result.stdout
    assert list((plan.run_root / "exec" / "results").glob("task_*.jsonl")) == []
    assert (tmp_path / "results" / "pipeline" / "locked" / "sweep.json").is_file()
