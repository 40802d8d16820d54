"""The engine's entry-point types: what to execute and what happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BACKENDS = ("local", "slurm")


@dataclass(frozen=True, kw_only=True)
class ExecutionRequest:
    """One execution of (part of) a planned run; see docs/architecture.md.

    ``force_resume`` names why resume is forced on (``True`` means
    ``"retry_file"``); ``recover`` passes ``"recover"``. ``progress_ok`` tells the
    engine that a live dashboard may be drawn on stdout (table output on a tty).
    """

    run_dir: Path
    backend: str = "local"
    profile: str | None = None
    profiles_file: str | Path | None = None
    batch_indices: tuple[int, ...] = ()
    config_ids: tuple[str, ...] = ()
    retry_file: str | Path | None = None
    force_resume: bool | str = False
    dry_run: bool = False
    snakemake_args: tuple[str, ...] = ()
    cli_overrides: dict[str, Any] = field(default_factory=dict)
    # Backend-specific CLI values (run-slurm's Slurm flags), read by the backend.
    backend_options: dict[str, Any] = field(default_factory=dict)
    progress_ok: bool = False
    # Snakemake's output live on stderr (-v / --snakemake-output); otherwise it
    # only goes to exec/snakemake_logs/.
    echo_snakemake: bool = False
    # Instead of Snakemake's output: a compact progress line (stderr is a
    # terminal) or a few plain lines (it is not).
    progress_line: bool = False
    notices: bool = False
    # Called once everything is decided and written, before Snakemake starts,
    # with a report holding no outcomes yet (the CLI prints the plan summary).
    announce: Callable[[ExecutionReport], None] | None = None


@dataclass
class ConfigOutcome:
    """The latest attempt of one selected config (or none: ``missing``)."""

    config_id: str
    batch_index: int
    line_index: int
    status: str
    stdout_path: str | None = None
    stderr_path: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ExecutionReport:
    """What an execution did. ``exit_code`` is 0 iff every selected config succeeded."""

    run_id: str
    run_root: str
    backend: str
    dry_run: bool
    selection: dict[str, Any]
    resolved: dict[str, Any]
    snakemake: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[ConfigOutcome] = field(default_factory=list)
    payloads: list[dict[str, Any]] = field(default_factory=list)
    exit_code: int = 0
    # True when ``announce`` already showed the settings and Snakemake commands.
    announced: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``--format json`` payload of run-local (E39 keys plus geryon's own)."""
        return {
            "run_id": self.run_id,
            "run_root": self.run_root,
            "backend": self.backend,
            "dry_run": self.dry_run,
            "selection": self.selection,
            "profile": self.resolved.get("profile"),
            "profiles_file": self.resolved.get("profiles_file"),
            "settings": self.resolved.get("settings"),
            "resolved_defaults_sources": self.resolved.get("resolved_defaults_sources"),
            "snakemake": self.snakemake,
            "configs": self.counts,
            "failures": [f.to_json() for f in self.failures],
            "payloads": self.payloads,
            "exit_code": self.exit_code,
        }
