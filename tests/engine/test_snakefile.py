"""The generated Snakefile: golden text, chunking, rule names.

Regenerate the golden file after a deliberate template change with

    GERYON_REGEN_GOLDEN=1 uv run pytest tests/engine/test_snakefile.py

and review the diff of tests/golden/engine/Snakefile.small.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from engine_plans import write_plan

from geryon.engine import ExecutionRequest, prepare
from geryon.engine.snakefile import (
    CHUNK_BATCHES,
    RuleSpec,
    compact_int_list,
    render,
    rule_prefix,
    write_snakefiles,
)

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "engine" / "Snakefile.small"


def _masked(text: str, root: Path) -> str:
    return text.replace(sys.executable, "<python>").replace(str(root), "<run>")


def test_golden_snakefile_of_a_small_plan(tmp_path: Path) -> None:
    root = write_plan(tmp_path / "runs" / "demo-run.1", ["true"] * 7, batch_size=2)
    plan = prepare(
        ExecutionRequest(run_dir=root, cli_overrides={"max_concurrent_tasks": 2})
    )
    spec = RuleSpec(threads=2, resources={})
    text = render(
        plan.layout,
        plan.selection,
        plan.selection_path,
        plan.selection.batch_indices,
        spec,
        snakefile=plan.layout.snakefile,
    )
    got = _masked(text, root)
    if os.environ.get("GERYON_REGEN_GOLDEN"):
        GOLDEN.write_text(got)
    assert got == GOLDEN.read_text()


def test_rule_names_are_identifiers_unique_per_run() -> None:
    assert rule_prefix("2026-01-02.run set") == "geryon_2026_01_02_run_set"
    assert rule_prefix("abc").isidentifier()


def test_compact_batch_list_is_exact() -> None:
    values = (0, 1, 2, 3, 7, 9, 10, 11, 12, 20, 21)
    text = compact_int_list(values)
    assert text == "[*range(0, 4), 7, *range(9, 13), 20, 21]"
    assert tuple(eval(text)) == values


def test_big_selection_is_split_into_chunks(tmp_path: Path) -> None:
    total = CHUNK_BATCHES * 2 + 5
    root = write_plan(tmp_path / "runs" / "big", ["true"] * total, batch_size=1)
    plan = prepare(ExecutionRequest(run_dir=root))
    paths = write_snakefiles(
        plan.layout, plan.selection, plan.selection_path, plan.spec.rule
    )
    assert paths == plan.snakefiles
    assert [p.name for p in paths] == [
        "Snakefile_0000",
        "Snakefile_0001",
        "Snakefile_0002",
    ]
    seen: list[int] = []
    for path in paths:
        namespace: dict[str, object] = {}
        line = next(
            ln
            for ln in path.read_text().splitlines()
            if ln.startswith("_geryon_batches =")
        )
        exec(line, namespace)
        seen += list(namespace["_geryon_batches"])  # type: ignore[call-overload]
    assert seen == list(range(total))
    assert "batch(es), chunk 3 of 3 (batches 4000..4004)" in paths[2].read_text()
    assert "_geryon_batches = [*range(0, 4005)]" in plan.layout.snakefile.read_text()
