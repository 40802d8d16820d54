"""The click group, error handling at the edge, logging setup and exit codes.

Exit codes (spec O18): 0 done; 1 runtime error or, for run commands, some selected
config did not succeed; 2 bad input or usage; 130 interrupted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from geryon import __version__
from geryon.cli import output
from geryon.errors import GeryonError

log = logging.getLogger("geryon.cli")

# Sections of `geryon --help`, in order; commands register into one by name.
HELP_SECTIONS: dict[str, list[str]] = {
    "Plan": ["plan", "validate-config", "inspect-config", "show-config", "schema"],
    "Run": ["launch", "run-local", "run-slurm", "list-profiles"],
    "Observe and recover": ["status", "report", "collect", "rerun", "recover", "clean"],
}
ALIASES = {"build": "plan", "local": "run-local", "slurm": "run-slurm"}


class GeryonGroup(click.Group):
    """A group with help sections and the compatibility aliases of the seed."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = ALIASES.get(cmd_name)
        if target is not None:
            log.debug("'%s' is an alias of '%s'", cmd_name, target)
            cmd_name = target
        return super().get_command(ctx, cmd_name)

    def format_commands(
        self, ctx: click.Context, formatter: click.HelpFormatter
    ) -> None:
        listed: set[str] = set()
        for section, names in HELP_SECTIONS.items():
            rows = []
            for name in names:
                command = self.commands.get(name)
                if command is None or command.hidden:
                    continue
                listed.add(name)
                rows.append((name, command.get_short_help_str(limit=70)))
            if rows:
                with formatter.section(section):
                    formatter.write_dl(rows)
        rest = [
            (name, cmd.get_short_help_str(limit=70))
            for name, cmd in sorted(self.commands.items())
            if name not in listed and not cmd.hidden
        ]
        if rest:
            with formatter.section("Other"):
                formatter.write_dl(rest)
        with formatter.section("Aliases"):
            formatter.write_dl([(old, f"= {new}") for old, new in ALIASES.items()])


@click.group(cls=GeryonGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="geryon")
@click.option(
    "-v", "--verbose", count=True, help="More log lines on stderr (-v info, -vv debug)."
)
def cli(verbose: int) -> None:
    """geryon: plan giant Hydra sweeps and run them on Snakemake, locally or on Slurm."""
    _configure_logging(verbose)


def _configure_logging(verbose: int) -> None:
    level_name = os.environ.get("GERYON_LOG_LEVEL", "").upper()
    level = logging.WARNING
    if level_name:
        level = getattr(logging, level_name, logging.WARNING)
    if verbose:
        level = logging.INFO if verbose == 1 else logging.DEBUG
    root = logging.getLogger("geryon")
    root.setLevel(logging.DEBUG)
    for handler in list(root.handlers):
        if getattr(handler, "_geryon_cli", False):
            root.removeHandler(handler)
    stderr_handler = logging.StreamHandler(sys.stderr)
    stderr_handler.setLevel(level)
    stderr_handler.setFormatter(logging.Formatter("geryon: %(levelname)s: %(message)s"))
    stderr_handler._geryon_cli = True  # type: ignore[attr-defined]
    root.addHandler(stderr_handler)
    log_file = os.environ.get("GERYON_LOG_FILE")
    if log_file:
        file_handler = logging.FileHandler(log_file)
        file_handler.setLevel(logging.INFO)
        file_handler.setFormatter(
            logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")
        )
        file_handler._geryon_cli = True  # type: ignore[attr-defined]
        root.addHandler(file_handler)


def _register_commands() -> None:
    from geryon.cli import commands

    for command in commands.all_commands():
        cli.add_command(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result: Any = cli.main(args=args, prog_name="geryon", standalone_mode=False)
    except click.exceptions.Exit as stop:
        return int(stop.exit_code)
    except click.ClickException as usage:
        usage.show()
        return 2
    except click.exceptions.Abort:
        click.echo("[interrupted]", err=True)
        return 130
    except KeyboardInterrupt:
        click.echo("[interrupted]", err=True)
        return 130
    except GeryonError as error:
        click.echo(f"[{error.label}] {error}", err=True)
        return error.exit_code
    except BrokenPipeError:
        return 1
    return result if isinstance(result, int) else 0


def entrypoint() -> None:
    """The ``geryon`` script: run the command and end the process."""
    output.process_ends_after_command()
    code = main()
    if output.has_kept_values():
        # End without freeing a huge index object by object (keep_until_exit):
        # flush what was written, then leave.
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
        logging.shutdown()
        os._exit(code)
    sys.exit(code)


_register_commands()
