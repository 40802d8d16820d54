"""Shared output helpers: JSON on stdout for machines, rich for people."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

FORMAT_TABLE_JSON = click.Choice(["table", "json"])


def format_option(*choices: str, default: str | None = None) -> Any:
    """The ``--format`` flag every command has; the first choice is the default."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(choices)),
        default=default or choices[0],
        show_default=True,
        help="Output format; 'json' prints one JSON document on stdout and nothing else.",
    )


def emit_json(payload: Any) -> None:
    """Pretty JSON with sorted keys on stdout (spec O19)."""
    sys.stdout.write(json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def console() -> Console:
    """A console on stdout for tables (no colour codes when stdout is not a tty)."""
    return Console(soft_wrap=False)


def err_console() -> Console:
    return Console(stderr=True)
