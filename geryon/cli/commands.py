"""The list of CLI commands. Each command group lives in its own module."""

from __future__ import annotations

import importlib

import click

# Modules that define a module-level COMMANDS list of click commands.
COMMAND_MODULES = (
    "geryon.cli.plan_cmds",
    "geryon.cli.run_cmds",
    "geryon.cli.slurm_cmds",
    "geryon.cli.observe_cmds",
    "geryon.cli.schema_cmd",
)


def all_commands() -> list[click.Command]:
    commands: list[click.Command] = []
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as missing:
            if missing.name != name:
                raise
            continue
        commands.extend(module.COMMANDS)
    return commands
