"""Extracting and running the ```bash blocks of a documentation page.

A block may be preceded by an HTML comment that tells the test what to expect:

* ``<!-- docs-test: exit-code N -->``: the block must exit with status N;
* ``<!-- docs-test: skip (why) -->``: the block is shown but not run.

Every other block must exit with status 0.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
VENV_BIN = Path(sys.executable).parent

BLOCK = re.compile(
    r"(?:<!--\s*docs-test:\s*(?P<marker>[^>]*?)\s*-->\s*\n)?```(?P<lang>\w*)\n(?P<body>.*?)```",
    re.S,
)


@dataclass(frozen=True)
class ShellBlock:
    page: str
    line: int
    body: str
    expected_exit: int | None  # None: skipped

    @property
    def label(self) -> str:
        return f"{self.page}:{self.line}"


def shell_blocks(page: str) -> list[ShellBlock]:
    text = (DOCS / page).read_text(encoding="utf-8")
    blocks = []
    for match in BLOCK.finditer(text):
        if match.group("lang") != "bash":
            continue
        marker = (match.group("marker") or "").strip()
        expected: int | None = 0
        if marker.startswith("skip"):
            expected = None
        elif marker.startswith("exit-code"):
            expected = int(marker.split()[1])
        line = text.count("\n", 0, match.start("body"))
        blocks.append(ShellBlock(page, line, match.group("body"), expected))
    return blocks


def prepare_workspace(folder: Path) -> dict[str, str]:
    """A folder with a copy of ``examples/`` and the environment to run blocks in:
    the venv's ``bin`` (``geryon``, ``python``, ``snakemake``) first on PATH."""
    shutil.copytree(
        REPO / "examples",
        folder / "examples",
        ignore=shutil.ignore_patterns("outputs", "__pycache__", ".snakemake"),
    )
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.pop("GERYON_LOG_LEVEL", None)
    return env


def run_block(block: ShellBlock, cwd: Path, env: dict[str, str]) -> None:
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", block.body],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == block.expected_exit, (
        f"{block.label}: exit {result.returncode}, expected {block.expected_exit}\n"
        f"--- block\n{block.body}--- stdout\n{result.stdout[-3000:]}"
        f"--- stderr\n{result.stderr[-3000:]}"
    )
