"""Shared output helpers: JSON on stdout for machines, rich for people."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

FORMAT_TABLE_JSON = click.Choice(["table", "json"])

# Values a command leaves to the end of the process (see keep_until_exit).
_kept: list[Any] = []
_process_ends_after_command = False


def process_ends_after_command() -> None:
    """Declare that the process ends as soon as the command returns (the
    ``geryon`` script): :func:`keep_until_exit` then keeps what it is given."""
    global _process_ends_after_command
    _process_ends_after_command = True


def keep_until_exit(*values: Any) -> None:
    """Leave ``values`` to the end of the process instead of freeing them now.

    The index of a million-config status holds millions of objects: freeing
    them one by one takes a fifth of a second, and the ``geryon`` script ends
    the process without doing so (see :func:`geryon.cli.main.entrypoint`).
    Called from a long-lived process (tests, the API), this does nothing.
    """
    if _process_ends_after_command:
        _kept.extend(values)


def has_kept_values() -> bool:
    return bool(_kept)


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
