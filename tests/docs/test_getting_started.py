"""Every ```bash block of docs/getting-started.md runs, in order, as documented."""

from __future__ import annotations

from pathlib import Path

from shell_blocks import prepare_workspace, run_block, shell_blocks


def test_page_has_runnable_blocks_and_marks_the_others() -> None:
    blocks = shell_blocks("getting-started.md")
    run = [b for b in blocks if b.expected_exit is not None]
    assert len(run) >= 6
    assert any("geryon launch" in b.body for b in run)
    assert any("geryon recover" in b.body for b in run)
    assert any(b.expected_exit == 2 for b in blocks)


def test_every_shell_block_runs(tmp_path: Path) -> None:
    env = prepare_workspace(tmp_path)
    for block in shell_blocks("getting-started.md"):
        if block.expected_exit is None:
            continue
        run_block(block, tmp_path, env)
    run_root = tmp_path / "outputs" / "runs" / "quickstart"
    assert (run_root / "run.json").is_file()
    assert (tmp_path / "report.md").read_text().startswith("# Geryon Report")
    attempts = sum(
        len(path.read_text().splitlines())
        for path in (run_root / "exec" / "results").glob("task_*.jsonl")
    )
    assert attempts == 9
