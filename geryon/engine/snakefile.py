"""Rendering ``Snakefile.template`` into ``<run>/exec/Snakefile`` for one selection.

One named rule per batch and a final rule with a run-specific name (so several
generated Snakefiles can be combined in one workflow; two included files that
both define ``all`` fail, see shared/notes/snakemake.md). Above
:data:`CHUNK_BATCHES` batches the selection is also cut into chunk Snakefiles
that the runner executes one after another: Snakemake's per-job cost grows with
the number of rules in a file (notes: 1,000 rules ≈ 28 s for 1,000 jobs, 5,000
rules ≈ 544 s for 5,000 jobs with the ILP scheduler). The environment
variable ``GERYON_CHUNK_BATCHES`` overrides the chunk size (tests, tuning).
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import yaml

from geryon import __version__, canonical
from geryon.engine.selection import Selection
from geryon.errors import ConfigError
from geryon.layout import RunLayout
from geryon.storage import write_text_atomic

CHUNK_BATCHES = 2000
CHUNK_ENV = "GERYON_CHUNK_BATCHES"
LOG_DIR = "batch_logs"


@dataclass(frozen=True)
class RuleSpec:
    """The backend-specific parts of every batch rule."""

    threads: int
    resources: dict[str, int | str]
    # Kept for callers that set it; the wrapper now names its task directory
    # itself (--task-logs), so the Snakefile no longer uses it.
    log_job_id: str = "local"
    # Slurm: batch rules share this Snakemake group (batches_per_task > 1).
    group: str | None = None
    # Slurm: shell lines the job runs before the wrapper (slurm_setup_cmds, F14).
    shell_prefix: str = ""


def template_text() -> str:
    """The template: shipped as ``geryon/data/Snakefile.template`` in a wheel,
    read from the repository root in a source checkout."""
    packaged = resources.files("geryon").joinpath("data/Snakefile.template")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source = Path(__file__).resolve().parents[2] / "Snakefile.template"
    return source.read_text(encoding="utf-8")


def rule_prefix(run_id: str) -> str:
    """``geryon_<run id as an identifier>``: unique per run, a valid rule name."""
    ident = re.sub(r"[^0-9A-Za-z_]", "_", run_id)
    return f"geryon_{ident}"


def wrapper_command(layout: RunLayout, selection_path: Path) -> str:
    """The wrapper invocation without ``--batch``, every word shell-quoted."""
    words = [
        sys.executable,
        "-m",
        "geryon.wrapper",
        "--run",
        str(layout.root),
        "--selection",
        str(selection_path),
    ]
    return shlex.join(words)


def render(
    layout: RunLayout,
    selection: Selection,
    selection_path: Path,
    batches: tuple[int, ...],
    spec: RuleSpec,
    *,
    snakefile: Path,
    chunk_note: str = "",
) -> str:
    """The Snakefile text for ``batches`` of ``selection``."""
    values: dict[str, Any] = {
        "version": __version__,
        "run_id": selection.run_id,
        "selection_id": selection.selection_id,
        "num_batches": len(batches),
        "chunk_note": chunk_note,
        "snakefile_shell": shlex.quote(str(snakefile)),
        "rule_prefix": rule_prefix(selection.run_id),
        "exec_dir": repr(str(layout.exec_dir)),
        "wrapper_command": repr(
            spec.shell_prefix + wrapper_command(layout, selection_path)
        ),
        "batches": compact_int_list(batches),
        "threads": spec.threads,
        "marker_dir": f"markers/{selection.selection_id}",
        "log_dir": LOG_DIR,
        "resources": _resources_block(spec.resources),
        "group": f"        group: {spec.group!r}\n" if spec.group else "",
    }
    return Template(template_text()).substitute(values)


def compact_int_list(values: tuple[int, ...]) -> str:
    """A Python list literal with runs written as ``*range(a, b)``: short, exact."""
    parts: list[str] = []
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and values[end + 1] == values[end] + 1:
            end += 1
        if end - start >= 2:
            parts.append(f"*range({values[start]}, {values[end] + 1})")
        else:
            parts.extend(str(v) for v in values[start : end + 1])
        start = end + 1
    return "[" + ", ".join(parts) + "]"


def _resources_block(values: dict[str, int | str]) -> str:
    if not values:
        return ""
    lines = ["        resources:"]
    for key, value in sorted(values.items()):
        lines.append(f"            {key}={value!r},")
    return "\n".join(lines) + "\n"


def chunks(batches: tuple[int, ...], size: int | None = None) -> list[tuple[int, ...]]:
    """Consecutive groups of at most ``size`` (default :func:`chunk_size`) batches."""
    size = size or chunk_size()
    return [batches[i : i + size] for i in range(0, len(batches), size)] or [()]


def chunk_size() -> int:
    """Batches per chunk Snakefile: ``$GERYON_CHUNK_BATCHES`` or :data:`CHUNK_BATCHES`."""
    text = os.environ.get(CHUNK_ENV, "").strip()
    if not text:
        return CHUNK_BATCHES
    if not text.isdigit() or int(text) < 1:
        raise ConfigError(
            f"environment variable {CHUNK_ENV}={text!r} is not a positive integer",
            hint=f"Unset it to use the default of {CHUNK_BATCHES} batches per chunk",
        )
    return int(text)


def write_snakefiles(
    layout: RunLayout, selection: Selection, selection_path: Path, spec: RuleSpec
) -> list[Path]:
    """Write ``exec/Snakefile`` (every batch) and, for big selections, one chunk
    Snakefile per :func:`chunk_size` batches. Returns the files to run, in order.
    """
    whole = render(
        layout,
        selection,
        selection_path,
        selection.batch_indices,
        spec,
        snakefile=layout.snakefile,
    )
    write_text_atomic(layout.snakefile, whole)
    write_text_atomic(layout.snakemake_config, _config_text(selection, selection_path))
    parts = chunks(selection.batch_indices)
    if len(parts) == 1:
        return [layout.snakefile]
    return [
        _write_chunk(layout, selection, selection_path, spec, number, len(parts), part)
        for number, part in enumerate(parts)
    ]


def _write_chunk(
    layout: RunLayout,
    selection: Selection,
    selection_path: Path,
    spec: RuleSpec,
    number: int,
    total: int,
    part: tuple[int, ...],
) -> Path:
    path = layout.exec_dir / "chunks" / f"Snakefile_{number:04d}"
    note = f", chunk {number + 1} of {total} (batches {part[0]}..{part[-1]})"
    text = render(
        layout, selection, selection_path, part, spec, snakefile=path, chunk_note=note
    )
    write_text_atomic(path, text)
    return path


def _config_text(selection: Selection, selection_path: Path) -> str:
    """``exec/snakemake.yaml``: the values the Snakefile was generated from."""
    data = {
        "run_id": selection.run_id,
        "selection_id": selection.selection_id,
        "selection_file": str(selection_path),
        "num_batches": len(selection.batch_indices),
        "settings_digest": canonical.sha1_hex(selection.settings.to_json()),
    }
    header = "# What exec/Snakefile was generated from (informational).\n"
    return header + yaml.safe_dump(data, sort_keys=True)
