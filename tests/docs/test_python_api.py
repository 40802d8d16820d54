"""The ```python blocks of docs/python-api.md run, in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from shell_blocks import DOCS, prepare_workspace

PAGE = DOCS / "python-api.md"
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def test_every_api_name_is_documented() -> None:
    from geryon import api

    text = PAGE.read_text(encoding="utf-8")
    missing = [name for name in api.__all__ if f"`{name}`" not in text]
    assert not missing


def test_python_blocks_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = prepare_workspace(tmp_path)
    monkeypatch.setenv("PATH", env["PATH"])
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "python_api_page"}
    blocks = PYTHON_BLOCK.findall(PAGE.read_text(encoding="utf-8"))
    assert len(blocks) >= 8
    for number, block in enumerate(blocks, start=1):
        code = compile(block, f"python-api.md block {number}", "exec")
        exec(code, namespace)
    assert (tmp_path / "outputs" / "runs" / "api_demo" / "plan").is_dir()
    assert not (tmp_path / "outputs" / "runs" / "api_demo" / "exec").exists()
