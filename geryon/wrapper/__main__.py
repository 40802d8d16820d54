"""``python -m geryon.wrapper --run R --selection S [--task-logs] --batch B [--batch B ...]``.

``--task-logs`` appends the wrapper's own stdout/stderr to ``task.stdout.log`` /
``task.stderr.log`` of its task directory (``batch_logs/task_<J>_<T>/``). Only
the wrapper knows its task identity (the Slurm job and array ids), and appending
itself keeps earlier runs' output: Snakemake empties a rule's ``log:`` files
before every rerun of the job.

Uses ``argparse`` rather than click to keep the start-up lean. Exit codes: 0 every
selected config succeeded, 1 otherwise or on a runtime error, 2 bad input (one
paragraph on stderr, no traceback), 128+N when stopped by signal N.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from geryon.errors import GeryonError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m geryon.wrapper",
        description="Run batches of a planned geryon run (started by Snakemake).",
    )
    parser.add_argument("--run", required=True, type=Path, help="run root")
    parser.add_argument("--selection", required=True, type=Path, help="selection JSON")
    parser.add_argument(
        "--batch", action="append", type=int, default=[], help="batch index"
    )
    parser.add_argument(
        "--task-logs",
        action="store_true",
        help="append own stdout/stderr to the task directory's task.*.log files",
    )
    return parser


def _redirect_to_task_logs(run: Path, selection: Path, batches: list[int]) -> None:
    """Point file descriptors 1 and 2 at the task's log files, opened for append."""
    from geryon.layout import RunLayout
    from geryon.wrapper.selection import load_selection, task_identity

    indices = sorted(set(batches or load_selection(selection).batch_indices))
    identity = task_identity(indices)
    task_dir = RunLayout.open(run).task_dir(identity.job_id, identity.array_task_id)
    task_dir.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    for target, name in ((1, "task.stdout.log"), (2, "task.stderr.log")):
        fd = os.open(task_dir / name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, target)
        os.close(fd)


def _configure_logging() -> None:
    level = getattr(
        logging, os.environ.get("GERYON_LOG_LEVEL", "WARNING").upper(), None
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("geryon: %(levelname)s: %(message)s"))
    root = logging.getLogger("geryon")
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _configure_logging()
    try:
        from geryon.layout import RunLayout
        from geryon.wrapper.task import run_batches

        if args.task_logs:
            _redirect_to_task_logs(args.run, args.selection, args.batch)
        return run_batches(RunLayout.open(args.run), args.selection, args.batch)
    except GeryonError as error:
        print(f"[{error.label}] {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        # Only before the wave loop takes over SIGINT (it then stops commands itself).
        print("[interrupted]", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
