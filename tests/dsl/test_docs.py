"""Every code block of docs/dsl.md runs: Python blocks execute in order in one
namespace, in an empty directory; each YAML block is compared with the file its
``<!-- compare: path -->`` marker names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "dsl.md"
FENCE = re.compile(
    r"(?:<!-- compare: (?P<target>[^>]+?) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```",
    re.DOTALL,
)


def blocks() -> list[tuple[str, str | None, str]]:
    return [
        (m["lang"], m["target"], m["body"])
        for m in FENCE.finditer(DOC.read_text("utf-8"))
    ]


def test_the_doc_has_examples_of_each_kind() -> None:
    kinds = {lang for lang, _, _ in blocks()}
    assert kinds == {"python", "yaml"}


def test_every_block_of_docs_dsl_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "docs_dsl"}
    for index, (lang, target, body) in enumerate(blocks()):
        if lang == "python":
            exec(compile(body, f"docs/dsl.md block {index}", "exec"), namespace)
        else:
            assert target is not None, f"block {index} has no compare marker"
            assert (tmp_path / target).read_text("utf-8") == body
