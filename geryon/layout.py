"""Where everything of a run lives. Every module asks this class for paths.

```
<out>/runs/<run_id>/
  run.json                       written last by the planner: the plan is complete
  plan/                          deterministic planner artifacts (spec section 7)
  exec/
    Snakefile, snakemake.yaml    generated per run / per selection
    selections/                  one JSON per execution selection (batches, ids, policy)
    markers/<selection>/         Snakemake outputs: batch_<B>.done when a batch succeeded
    batch_logs/task_<J>_<T>/     task.stdout.log, task.stderr.log, task.events.jsonl,
                                 batch_<B>.jsonl
    cmd_logs/task_<J>_<T>/batch_<B>/line_<L>_<c8>_<a8>.stdout.log / .stderr.log
    workdirs/task_<J>_<T>/batch_<B>/line_<L>_<c8>_<a8>/
    results/task_<J>_<T>.jsonl   attempt records (append-only)
    retries/retry_<stamp>.json   rerun targets
    state/                       run-wide coordination: core locks, fail-fast counters,
                                 record_index/ (fixed-width entries of the records)
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon.errors import ConfigError
from geryon.sanitize import path_component

EXEC_SUBDIRS = (
    "batch_logs",
    "cmd_logs",
    "workdirs",
    "results",
    "retries",
    "selections",
    "markers",
    "state",
)


def batch_name(batch_index: int) -> str:
    """``batch_007``; at least three digits (``batch_1000`` beyond 999)."""
    return f"batch_{batch_index:03d}"


def task_name(job_id: str, array_task_id: str) -> str:
    """``task_<J>_<T>`` with both parts sanitised (spec I22; consistent, Q28)."""
    return f"task_{path_component(job_id)}_{path_component(array_task_id)}"


def line_name(line_index: int, config_id: str, attempt_id: str) -> str:
    return f"line_{line_index:04d}_{config_id[:8]}_{attempt_id[:8]}"


@dataclass(frozen=True)
class RunLayout:
    """Paths of one run root (``<out>/runs/<run_id>``). Pure: creates nothing."""

    root: Path

    @classmethod
    def open(cls, run_dir: str | Path) -> RunLayout:
        """Layout of an existing, completely planned run, or a :class:`ConfigError`."""
        root = Path(run_dir).expanduser().resolve()
        layout = cls(root)
        if not layout.run_json.is_file():
            raise ConfigError(
                "not a planned geryon run (run.json is missing)",
                file=root,
                hint="Pass the run directory printed by 'geryon plan' "
                "(<out>/runs/<run_id>); an interrupted plan leaves no run.json",
            )
        return layout

    def run_info(self) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(self.run_json.read_text(encoding="utf-8"))
        return info

    @property
    def run_id(self) -> str:
        if self.run_json.is_file():
            return str(self.run_info().get("run_id") or self.root.name)
        return self.root.name

    # plan/
    @property
    def run_json(self) -> Path:
        return self.root / "run.json"

    @property
    def plan_dir(self) -> Path:
        return self.root / "plan"

    @property
    def configs_jsonl(self) -> Path:
        return self.plan_dir / "configs.jsonl"

    @property
    def batches_jsonl(self) -> Path:
        return self.plan_dir / "batches.jsonl"

    def batch_file(self, batch_index: int) -> Path:
        return self.plan_dir / "batches" / f"{batch_name(batch_index)}.txt"

    @property
    def diagnostics_json(self) -> Path:
        return self.plan_dir / "diagnostics.json"

    @property
    def diagnostics_summary(self) -> Path:
        return self.plan_dir / "diagnostics.summary.txt"

    @property
    def run_set_json(self) -> Path:
        return self.plan_dir / "run_set.json"

    @property
    def snapshot_yaml(self) -> Path:
        return self.plan_dir / "experiment.snapshot.yaml"

    # exec/
    @property
    def exec_dir(self) -> Path:
        return self.root / "exec"

    @property
    def snakefile(self) -> Path:
        return self.exec_dir / "Snakefile"

    @property
    def snakemake_config(self) -> Path:
        return self.exec_dir / "snakemake.yaml"

    @property
    def selections_dir(self) -> Path:
        return self.exec_dir / "selections"

    @property
    def markers_dir(self) -> Path:
        return self.exec_dir / "markers"

    @property
    def state_dir(self) -> Path:
        return self.exec_dir / "state"

    @property
    def results_dir(self) -> Path:
        return self.exec_dir / "results"

    @property
    def retries_dir(self) -> Path:
        return self.exec_dir / "retries"

    @property
    def summary_json(self) -> Path:
        return self.results_dir / "summary.json"

    def task_dir(self, job_id: str, array_task_id: str) -> Path:
        return self.exec_dir / "batch_logs" / task_name(job_id, array_task_id)

    def result_file(self, job_id: str, array_task_id: str) -> Path:
        return self.results_dir / f"{task_name(job_id, array_task_id)}.jsonl"

    def result_files(self) -> list[Path]:
        """Every attempt-record file, in file-name order."""
        if not self.results_dir.is_dir():
            return []
        return sorted(self.results_dir.glob("task_*.jsonl"))

    def cmd_log_base(
        self,
        job_id: str,
        array_task_id: str,
        batch_index: int,
        line_index: int,
        config_id: str,
        attempt_id: str,
    ) -> Path:
        """Stem of an attempt's logs; append ``.stdout.log`` / ``.stderr.log``."""
        return (
            self.exec_dir
            / "cmd_logs"
            / task_name(job_id, array_task_id)
            / batch_name(batch_index)
            / line_name(line_index, config_id, attempt_id)
        )

    def workdir(
        self,
        job_id: str,
        array_task_id: str,
        batch_index: int,
        line_index: int,
        config_id: str,
        attempt_id: str,
    ) -> Path:
        return (
            self.exec_dir
            / "workdirs"
            / task_name(job_id, array_task_id)
            / batch_name(batch_index)
            / line_name(line_index, config_id, attempt_id)
        )
