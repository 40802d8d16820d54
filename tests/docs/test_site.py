"""The MkDocs site builds in strict mode, and every page is in the navigation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml
from shell_blocks import DOCS, REPO

REQUIRED_PAGES = {
    "index.md",
    "getting-started.md",
    "experiments.md",
    "packs.md",
    "dsl.md",
    "interface.md",
    "profiles.md",
    "runtime-artifacts.md",
    "python-api.md",
    "examples.md",
    "snakemake.md",
    "quirks.md",
    "architecture.md",
    "slurm.md",
}


def nav_pages(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [page for item in node for page in nav_pages(item)]
    if isinstance(node, dict):
        return [page for value in node.values() for page in nav_pages(value)]
    return []


def test_nav_lists_every_page() -> None:
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text())
    listed = set(nav_pages(config["nav"]))
    on_disk = {path.name for path in DOCS.glob("*.md")}
    assert on_disk >= REQUIRED_PAGES
    assert listed == on_disk


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--site-dir",
            str(tmp_path / "site"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "quirks" / "index.html").is_file()


def test_quirks_page_decides_every_quirk_once() -> None:
    text = (DOCS / "quirks.md").read_text(encoding="utf-8")
    rows = [
        line.split("|")[1].strip()
        for line in text.splitlines()
        if line.startswith("| Q")
    ]
    assert sorted(rows, key=lambda quirk: int(quirk[1:])) == [
        f"Q{n}" for n in range(1, 44)
    ]
