"""The batch wrapper one Snakemake job runs (spec §8): selection and resume, core
pinning, the process/tmux/pylauncher executors, timeouts, retries, run-wide
fail-fast, attempt records and events.

``python -m geryon.wrapper --run <run_root> --selection <selection.json> --batch <B>``
or, in-process, :func:`run_batches`. Imports stay lazy: the wrapper starts once per
batch, and :mod:`geryon.wrapper.driver` (started once per tmux/pylauncher command)
imports this package too.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geryon.layout import RunLayout

__all__ = ["run_batches"]


def run_batches(
    layout: RunLayout, selection_path: Path, batch_indices: list[int]
) -> int:
    """Run ``batch_indices`` of the selection in ``selection_path``; return the exit
    code: 0 when every selected config of these batches ended in ``success``
    (configs skipped by resume count as successes), 1 otherwise, 128+N when stopped
    by signal N. Bad input raises :class:`geryon.errors.ConfigError`."""
    from geryon.wrapper.task import run_batches as run

    return run(layout, selection_path, batch_indices)
