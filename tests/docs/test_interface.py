"""docs/interface.md documents every command and flag of the click CLI."""

from __future__ import annotations

import re

import click
import pytest
from shell_blocks import DOCS

from geryon.cli.main import ALIASES, cli

PAGE = (DOCS / "interface.md").read_text(encoding="utf-8")


def sections() -> dict[str, str]:
    """Command name -> the text of its ``## `name` `` section."""
    parts = re.split(r"^## `([^`]+)`\n", PAGE, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def flags_of(command: click.Command) -> list[str]:
    found = []
    for param in command.params:
        if isinstance(param, click.Option):
            found += [*param.opts, *param.secondary_opts]
        elif isinstance(param, click.Argument):
            found.append(param.human_readable_name)
    return [flag for flag in found if flag not in ("-h", "--help")]


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_flag_of_every_command_is_documented(name: str) -> None:
    documented = sections()
    assert name in documented, f"command {name!r} has no section in docs/interface.md"
    missing = [
        flag
        for flag in flags_of(cli.commands[name])
        if f"`{flag}`" not in documented[name]
    ]
    assert not missing, (
        f"{name}: flags missing from docs/interface.md: {missing}; "
        "run `uv run python docs/gen_interface.py`"
    )


def test_no_section_documents_a_command_that_does_not_exist() -> None:
    assert set(sections()) <= set(cli.commands)


def test_aliases_and_global_flags_are_documented() -> None:
    for old, new in ALIASES.items():
        assert f"`{old}` = `{new}`" in PAGE
    for flag in flags_of(cli):
        assert f"`{flag}`" in PAGE
