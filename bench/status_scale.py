"""How fast are ``status`` and ``report`` on a huge run?

Generates, in a temporary directory, a plan of ``--configs`` configs and
``--records`` attempt records (canonical E34 lines of realistic size, about 1 KB,
spread over several task files, with retries, failures and terminations, written
through the wrapper's own record writer), then times ``geryon status --format
json`` and ``geryon report --format json``, stdout sent to /dev/null: in this
process through ``geryon.cli.main`` and as the ``geryon`` script a user runs
(interpreter start-up included); first as the wrapper leaves a run, then with
the record index moved aside (the fallback that reads the JSON alone).

    uv run python bench/status_scale.py                  # both shapes below
    uv run python bench/status_scale.py --configs 250000 --records 1000000

Without ``--configs``/``--records`` it measures two shapes of a million records:
250,000 configs with four attempts each, and a million configs with one each
(the largest plan: every per-config step runs a million times).

Target: each command finishes in at most 5 s on the project's 2-core machines
(the slower of the two ways of running it counts).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from geryon import canonical
from geryon.attempt_index import RecordWriter, index_path
from geryon.cli import main
from geryon.layout import EXEC_SUBDIRS, RunLayout

RUN_ID = "run_20260102T030405Z_bench"
BATCH_SIZE = 16
TASK_FILES = 8
TARGET_SECONDS = 5.0
STATUSES = ("success",) * 16 + ("failed", "failed", "terminated")
# (configs, records) measured when no shape is given.
SHAPES = [(250_000, 1_000_000), (1_000_000, 1_000_000)]


def _config_id(number: int) -> str:
    return hashlib.sha1(number.to_bytes(8, "little")).hexdigest()


def write_plan(layout: RunLayout, num_configs: int) -> list[str]:
    ids = [_config_id(n) for n in range(num_configs)]
    with layout.configs_jsonl.open("w", encoding="ascii") as handle:
        for number, config_id in enumerate(ids):
            batch, line = divmod(number, BATCH_SIZE)
            params = {
                "lr": 0.001 * (number % 7),
                "model": {"width": 64},
                "seed": number,
            }
            record = {
                "batch_index": batch,
                "command": f"python train.py ++lr={params['lr']} ++seed={number}",
                "config_id": config_id,
                "line_index": line,
                "params": params,
                "run_id": RUN_ID,
                "selected_options": {"lr": f"lr{number % 7}", "seed": f"s{number}"},
                "tags": ["bench"],
                "wandb_name": f"bench_{config_id[:8]}",
            }
            handle.write(canonical.dumps(record) + "\n")
    num_batches = (num_configs + BATCH_SIZE - 1) // BATCH_SIZE
    with layout.batches_jsonl.open("w", encoding="ascii") as handle:
        for batch in range(num_batches):
            count = min(BATCH_SIZE, num_configs - batch * BATCH_SIZE)
            path = f"plan/batches/batch_{batch:03d}.txt"
            record = {"batch_index": batch, "num_commands": count, "path": path}
            handle.write(canonical.dumps(record) + "\n")
    info = {"run_id": RUN_ID, "run_root": str(layout.root), "num_batches": num_batches}
    layout.run_json.write_text(canonical.dumps(info) + "\n", encoding="ascii")
    return ids


def write_records(layout: RunLayout, ids: list[str], num_records: int) -> None:
    """Attempt records written as the batch wrapper writes them (with their
    index entries, geryon.attempt_index)."""
    writers = [
        RecordWriter(layout.results_dir / f"task_local_{t}.jsonl")
        for t in range(TASK_FILES)
    ]
    root = layout.root
    with contextlib.ExitStack() as stack:
        for writer in writers:
            stack.enter_context(writer)
        for number in range(num_records):
            index = number % len(ids)
            config_id = ids[index]
            batch, line = divmod(index, BATCH_SIZE)
            wave = number // len(ids)
            status = STATUSES[(index * 7 + wave) % len(STATUSES)]
            attempt = hashlib.md5(number.to_bytes(8, "little")).hexdigest()
            second = (number // 1000) % 60
            base = (
                f"{root}/exec/cmd_logs/task_local_{batch}/batch_{batch:03d}/"
                f"line_{line:04d}_{config_id[:8]}_{attempt[:8]}"
            )
            record = {
                "array_task_id": str(batch),
                "assigned_cores": [number % 2],
                "attempt_id": attempt,
                "attempt_index": wave,
                "batch_index": batch,
                "command": (
                    f"python train.py ++lr=0.001 ++seed={index} ++model.width=64 "
                    f"++wandb.name=bench_{config_id[:8]} '++wandb.tags=[\"bench\"]' "
                    f"hydra.run.dir={root}/exec/workdirs/task_local_{batch}/"
                    f"batch_{batch:03d}/line_{line:04d}_{config_id[:8]}_{attempt[:8]}"
                ),
                "config_id": config_id,
                "duration_sec": round(1.0 + (number % 997) / 10.0, 6),
                "end_time": f"2026-01-02T{wave % 24:02d}:05:{second:02d}.{number % 10**6:06d}Z",
                "executor": "process",
                "exit_code": 0 if status == "success" else 1,
                "hostname": "node001",
                "job_id": "local",
                "line_index": line,
                "parent_attempt_id": None,
                "pid": 1000 + number % 30000,
                "run_id": RUN_ID,
                "selected_options": {"lr": f"lr{index % 7}", "seed": f"s{index}"},
                "signal": None,
                "start_time": f"2026-01-02T{wave % 24:02d}:04:{second:02d}.000000Z",
                "status": status,
                "status_reason": "timeout_kill" if status == "terminated" else None,
                "stderr_path": f"{base}.stderr.log",
                "stdout_path": f"{base}.stdout.log",
                "tmux_session": None,
            }
            writers[batch % TASK_FILES].append(record)


def time_command(argv: list[str]) -> tuple[float, float, int]:
    """Wall and CPU seconds of one CLI call in this process (CPU time is less
    disturbed by a busy machine; the target is about wall time on an otherwise
    idle one). The CPU figure is this process's only: a large run's plan is read
    in a forked child (geryon.observe.parallel), whose time it does not include."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        started, cpu = time.perf_counter(), time.process_time()
        code = main(argv)
        return time.perf_counter() - started, time.process_time() - cpu, code


def time_script(argv: list[str]) -> tuple[float, int]:
    """Wall seconds of the ``geryon`` script, as a user runs it."""
    script = Path(sys.executable).parent / "geryon"
    started = time.perf_counter()
    done = subprocess.run([str(script), *argv], stdout=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started, done.returncode


def run(num_configs: int, num_records: int, keep: bool, reuse: Path | None) -> bool:
    """Generate (or reuse) a run, time it; True when every target is met."""
    if reuse is not None:
        return time_both(RunLayout(reuse.resolve()))
    base = Path(tempfile.mkdtemp(prefix="geryon-status-scale-"))
    layout = RunLayout(base / "runs" / RUN_ID)
    try:
        for sub in EXEC_SUBDIRS:
            (layout.exec_dir / sub).mkdir(parents=True, exist_ok=True)
        layout.plan_dir.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        ids = write_plan(layout, num_configs)
        write_records(layout, ids, num_records)
        size_mb = sum(p.stat().st_size for p in layout.result_files()) / 1e6
        print(
            f"generated {num_configs} configs, {num_records} records "
            f"({size_mb:.0f} MB) in {time.perf_counter() - started:.1f} s"
        )
        return time_both(layout)
    finally:
        if keep:
            print(f"kept {layout.root}")
        else:
            shutil.rmtree(base, ignore_errors=True)


def time_both(layout: RunLayout) -> bool:
    """Time both commands as the wrapper leaves a run (records and their index),
    then again with the index moved aside: records written by another tool,
    or a run whose index was lost, are read from the JSON alone."""
    index_dir = index_path(layout.results_dir / "x.jsonl").parent
    aside = index_dir.with_name(index_dir.name + ".aside")
    timings = {}
    for label in ("with index", "records only"):
        for command in ("status", "report"):
            argv = [command, "--run", str(layout.root), "--format", "json"]
            seconds, cpu, code = time_command(argv)
            script_seconds, script_code = time_script(argv)
            timings[(label, command)] = max(seconds, script_seconds)
            load = os.getloadavg()[0]
            print(
                f"{command} --format json ({label}): {seconds:.2f} s wall, "
                f"{cpu:.2f} s CPU in process (exit {code}); {script_seconds:.2f} s "
                f"as the geryon script (exit {script_code}); load average "
                f"{load:.1f} on {os.cpu_count()} CPUs"
            )
        if label == "with index":
            index_dir.rename(aside)
    aside.rename(index_dir)
    met = True
    for command in ("status", "report"):
        indexed = timings[("with index", command)]
        plain = timings[("records only", command)]
        verdict = "PASS" if indexed <= TARGET_SECONDS else "FAIL"
        met = met and indexed <= TARGET_SECONDS
        print(
            f"{command}: {indexed:.2f} s with the index, {plain:.2f} s from the "
            f"records alone ({plain / indexed:.1f}x); target <= {TARGET_SECONDS:.0f} s "
            f"-> {verdict}"
        )
    return met


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=None)
    parser.add_argument("--records", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the generated run")
    parser.add_argument(
        "--reuse", type=Path, default=None, help="time an existing (kept) run instead"
    )
    return parser.parse_args(argv)


def main_bench(args: argparse.Namespace) -> int:
    if args.reuse is not None:
        return 0 if run(0, 0, args.keep, args.reuse) else 1
    if args.configs is None and args.records is None:
        shapes = SHAPES
    else:
        shapes = [(args.configs or SHAPES[0][0], args.records or SHAPES[0][1])]
    met = True
    for configs, records in shapes:
        print(f"--- {configs} configs, {records} attempt records")
        met = run(configs, records, args.keep, None) and met
    print("all targets met" if met else "some target missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main_bench(parse_args(sys.argv[1:])))
