"""``geryon schema``: print the JSON Schema of an input file for editors and tools."""

from __future__ import annotations

import json

import click

from geryon.schemas import SCHEMA_NAMES, load_schema


@click.command("schema")
@click.argument("name", type=click.Choice(list(SCHEMA_NAMES)))
def schema_command(name: str) -> None:
    """Print the JSON Schema (draft 2020-12) of an experiment or profiles file.

    Point your editor's YAML language server at the output, e.g.
    `geryon schema experiment > experiment.schema.json`.
    """
    click.echo(json.dumps(load_schema(name), indent=2, ensure_ascii=False))


COMMANDS = [schema_command]
