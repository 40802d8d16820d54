"""Execution overhead of geryon on the local Snakemake backend, against xargs.

Two workloads, each run both ways in one invocation on this machine:

1. 2,000 x ``true`` (batch size 100): ``geryon launch`` end to end (plan + run)
   versus the same planned command lines through ``xargs -P 2``;
2. 200 runs of a minimal Hydra app (batch size 100), both ways.

With ``--scale-batches N`` it instead times one ``run-local`` of an N-batch x
1-config ``true`` plan (the many-chunk path: above 2,000 batches the run is cut
into chunk Snakefiles run one after another).

Targets: >= 200 configs/s end to end for ``true``; the Hydra app's wall time at
most 1.15x that of ``xargs -P 2``. The machine's load average is printed with
each result: other work on the 2 cores distorts both columns (pinned commands
suffer more from foreign load than xargs' unpinned ones). Usage::

    uv run python bench/run_overhead.py [--true-configs 2000] [--hydra-configs 200]
    uv run python bench/run_overhead.py --scale-batches 6000

Measured on this 2-core machine (2026-12-03), with another helper's benchmark
holding one core (1-min load average 1.5-2.5 throughout, so treat these as
upper bounds):

* 2,000 x ``true``: 172-174 configs/s before this round (xargs -P 2: 408-500);
  the 20 batch jobs themselves take ~5 s of it, close to xargs' own time. The
  fixed costs are geryon's start and plan (~0.5 s) and Snakemake's start (~2 s),
  of which the Slurm plugin's pandas import was 0.4 s: local runs now start
  Snakemake through ``geryon.engine.local_snakemake`` without the plugins.
* Hydra app, 200 configs: geryon/xargs wall ratio 0.83 (target <= 1.15).
* ``--scale-batches 6000`` (3 chunk Snakefiles): 3,665 batches done in 16 min,
  chunk 1 of 2,000 in ~9 min, every config recorded exactly once, at a load
  average of 2-5 from other work; stopped there for time, so the whole run is
  an estimate of ~25 min (~4 batches/s, each one Snakemake job + wrapper start).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HYDRA_APP = """
import hydra
from omegaconf import DictConfig


@hydra.main(version_base=None, config_path=None)
def main(cfg: DictConfig) -> None:
    pass


if __name__ == "__main__":
    main()
"""


def experiment_yaml(program: str, args: list[str], configs: int) -> str:
    """Two packs whose product has ``configs`` configs (a multiple of 10)."""
    outer, inner = configs // 10, 10
    lines = [
        "schema: {version: 4}",
        f"command: {{program: {json.dumps(program)}, args: {json.dumps(args)}}}",
        "select:",
        "  packs:",
    ]
    for name, count in (("a", outer), ("b", inner)):
        lines += [f"    - name: {name}", "      options:"]
        lines += [
            f"        - {{id: {name}{i}, params: {{{name}: {i}}}}}"
            for i in range(count)
        ]
    return "\n".join(lines) + "\n"


def geryon_launch(experiment: Path, out: Path, batch_size: int) -> tuple[float, Path]:
    geryon = str(Path(sys.executable).parent / "geryon")
    command = [
        geryon, "launch", "--experiment", str(experiment), "--out", str(out),
        "--batch-size", str(batch_size), "--skip-validate", "--format", "json",
        "--max-concurrent-tasks", "1",
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"geryon launch failed ({done.returncode}):\n{done.stderr[-3000:]}")
    payload = json.loads(done.stdout)
    success = payload["execution"]["configs"].get("success", 0)
    if success != payload["plan"]["total_configs"]:
        sys.exit(f"only {success} configs succeeded")
    return wall, Path(payload["plan"]["run_root"])


def xargs_run(run_root: Path, scratch: Path) -> float:
    """The planned command lines, each with its own hydra.run.dir, 2 at a time."""
    lines = []
    for number, line in enumerate((run_root / "plan" / "configs.jsonl").open()):
        command = json.loads(line)["command"]
        lines.append(f"{command} hydra.run.dir={scratch}/cmd_{number}")
    started = time.perf_counter()
    subprocess.run(
        ["xargs", "-d", "\n", "-P", "2", "-I", "CMD", "bash", "-c", "CMD"],
        input="\n".join(lines) + "\n",
        text=True,
        check=True,
        cwd=run_root,
    )
    return time.perf_counter() - started


def compare(name: str, program: str, args: list[str], configs: int, work: Path) -> dict:
    folder = work / name
    folder.mkdir()
    experiment = folder / "experiment.yaml"
    experiment.write_text(experiment_yaml(program, args, configs))
    geryon_wall, run_root = geryon_launch(experiment, folder / "out", 100)
    xargs_wall = xargs_run(run_root, folder / "xargs")
    return {
        "load_average_1min": round(os.getloadavg()[0], 2),
        "workload": name,
        "configs": configs,
        "geryon_wall_s": round(geryon_wall, 2),
        "geryon_configs_per_s": round(configs / geryon_wall, 1),
        "xargs_wall_s": round(xargs_wall, 2),
        "xargs_configs_per_s": round(configs / xargs_wall, 1),
        "ratio_geryon_over_xargs": round(geryon_wall / xargs_wall, 2),
    }


def scale_run(batches: int, work: Path) -> dict:
    """Plan ``batches`` x 1 ``true`` config, then time one ``run-local``."""
    geryon = str(Path(sys.executable).parent / "geryon")
    experiment = work / "experiment.yaml"
    experiment.write_text(experiment_yaml("true", [], batches))
    plan = [
        geryon, "plan", "--experiment", str(experiment), "--out", str(work / "out"),
        "--batch-size", "1", "--format", "json",
    ]  # fmt: skip
    planned = json.loads(subprocess.run(plan, capture_output=True, check=True).stdout)
    run_root = planned.get("run_root") or planned["plan"]["run_root"]
    command = [geryon, "run-local", "--run", str(run_root), "--format", "json"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    report = json.loads(done.stdout)
    return {
        "load_average_1min": round(os.getloadavg()[0], 2),
        "workload": "scale",
        "batches": batches,
        "chunks": len(report["snakemake"]["commands"]),
        "configs": report["configs"],
        "exit_code": done.returncode,
        "run_local_wall_s": round(wall, 1),
        "batches_per_s": round(batches / wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--true-configs", type=int, default=2000)
    parser.add_argument("--hydra-configs", type=int, default=200)
    parser.add_argument("--scale-batches", type=int, default=0)
    options = parser.parse_args()
    if options.scale_batches:
        with tempfile.TemporaryDirectory(prefix="geryon-bench-") as tmp:
            print(json.dumps(scale_run(options.scale_batches, Path(tmp))))
        return
    with tempfile.TemporaryDirectory(prefix="geryon-bench-") as tmp:
        work = Path(tmp)
        app = work / "app.py"
        app.write_text(HYDRA_APP)
        results = [
            compare("true", "true", [], options.true_configs, work),
            compare("hydra", sys.executable, [str(app)], options.hydra_configs, work),
        ]
    for result in results:
        print(json.dumps(result))
    true_rate = results[0]["geryon_configs_per_s"]
    hydra_ratio = results[1]["ratio_geryon_over_xargs"]
    print(f"true: {true_rate} configs/s end to end (target >= 200)")
    print(f"hydra app: geryon/xargs wall ratio {hydra_ratio} (target <= 1.15)")


if __name__ == "__main__":
    main()
