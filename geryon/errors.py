"""The one exception hierarchy of geryon.

Every error a user can cause is a :class:`ConfigError` (exit code 2); everything
that goes wrong while running is a :class:`GeryonError` (exit code 1). Both are
caught once, at the CLI edge, and printed as a single paragraph.
"""

from __future__ import annotations

from pathlib import Path


class GeryonError(Exception):
    """A runtime failure: a tool is missing, a run is locked, a job failed to start."""

    exit_code = 1
    label = "runtime error"


class ConfigError(GeryonError):
    """Bad input: a malformed experiment, profile, flag or retry file.

    The message is built from the parts a user needs to fix the problem: the file,
    the key path inside it (``select.packs[2].options[0].id``), what is wrong and
    what to do next.
    """

    exit_code = 2
    label = "config error"

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        key_path: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.key_path = key_path or None
        self.problem = message
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.key_path:
            where.append(f"at {self.key_path}")
        text = self.problem
        if where:
            text = f"{': '.join([' '.join(where)])}: {text}"
        if self.hint:
            text = f"{text.rstrip('.')}. {self.hint}"
        return text


class RunLockedError(GeryonError):
    """Another geryon or Snakemake process is working on the same run."""


def key_path(parts: list[str | int] | tuple[str | int, ...]) -> str:
    """Render a key path the way users write it: ``select.packs[2].options[0].id``."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif text:
            text += f".{part}"
        else:
            text = str(part)
    return text
