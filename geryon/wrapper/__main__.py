"""``python -m geryon.wrapper --run R --selection S --batch B [--batch B ...]``.

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
    return parser


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
