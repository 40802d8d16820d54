"""Every example runs with the one command at the top of its README."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from example_runner import (
    EXAMPLES,
    Workspace,
    latest_by_option,
    readme_commands,
    readme_lines,
)

EXAMPLE_NAMES = (
    "basics",
    "composition",
    "constraints",
    "resilience",
    "recovery",
    "slurm",
    "dsl",
)


def run_readme(ws: Workspace, example: str, index: int = 0, expected: int = 0) -> str:
    command = readme_commands(example)[index]
    done = ws.run(command)
    assert done.returncode == expected, (
        f"{command}\nexit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_every_example_has_a_readme_command_and_a_real_hydra_app(example: str) -> None:
    first = readme_commands(example)[0]
    assert first.startswith(("uv run ", "bash examples/"))
    for path in (EXAMPLES / example).glob("*.yaml"):
        document = yaml.safe_load(path.read_text())
        if "command" in document:
            assert document["command"]["args"] == ["../apps/train.py"]
    app = (EXAMPLES / "apps" / "train.py").read_text()
    assert '@hydra.main(version_base=None, config_path="conf"' in app


def test_basics(workspace: Workspace) -> None:
    run_readme(workspace, "basics")
    assert workspace.status("basics")["configs"]["latest_by_status"] == {"success": 4}
    metrics = sorted(
        workspace.root.glob("outputs/runs/basics/exec/workdirs/*/*/*/metrics.json")
    )
    seen = {
        (m["optimizer"], m["seed"])
        for m in (json.loads(p.read_text()) for p in metrics)
    }
    assert seen == {("adam", 7), ("sgd", 7)}
    assert len(metrics) == 4


def test_composition(workspace: Workspace) -> None:
    run_readme(workspace, "composition")
    only = workspace.configs("comp_adam_only")
    tiny = workspace.configs("comp_adam_tiny")
    assert {c["selected_options"]["optimizer"] for c in only} == {"adam"}
    assert {c["selected_options"]["architecture"] for c in only} == {"mlp", "wide"}
    assert len(only) == 4
    assert [c["selected_options"] for c in tiny] == [
        {"architecture": "tiny", "optimizer": "adam", "seed": "s1"},
        {"architecture": "tiny", "optimizer": "adam", "seed": "s2"},
    ]
    assert all(c["tags"] == ["tiny"] for c in tiny)
    dry = workspace.run(
        "geryon plan --experiment examples/composition/experiment.yaml --out outputs "
        "--batch-size 4 --dry-run --format json"
    )
    assert json.loads(dry.stdout)["total_configs"] == 8


def test_constraints(workspace: Workspace) -> None:
    run_readme(workspace, "constraints")
    chosen = {
        (
            c["selected_options"]["model"],
            c["selected_options"]["batch"],
            c["selected_options"]["optimizer"],
        )
        for c in workspace.configs("constraints")
    }
    assert chosen == {
        ("small", "b16", "adam"),
        ("small", "b64", "adam"),
        ("small", "b64", "sgd"),
        ("medium", "b16", "adam"),
        ("medium", "b64", "adam"),
        ("medium", "b64", "sgd"),
        ("medium", "b256", "adam"),
        ("medium", "b256", "sgd"),
        ("large", "b256", "adam"),
    }
    diagnostics = json.loads(
        (workspace.root / "outputs/runs/constraints/plan/diagnostics.json").read_text()
    )
    assert diagnostics["predicates"]["dropped_candidates"] == 3


def test_resilience_timeouts_retries_and_fail_fast(workspace: Workspace) -> None:
    run_readme(workspace, "resilience", expected=1)
    attempts = latest_by_option(workspace, "resilience", "behaviour")
    assert attempts == {
        "broken": ["failed", "failed"],
        "steady": ["success"],
        "flaky": ["failed", "success"],
        "slow": ["terminated"],
    }
    reasons = {
        r["selected_options"]["behaviour"]: r["status_reason"]
        for r in workspace.attempts("resilience")
    }
    assert reasons["slow"] == "timeout_kill"

    fail_fast = next(c for c in readme_lines("resilience") if "--run-id fail_fast" in c)
    done = workspace.run(fail_fast)
    assert done.returncode == 1, done.stderr
    ran = latest_by_option(workspace, "fail_fast", "behaviour")
    # The first failure stops both batches: only their first commands ever ran.
    assert set(ran) <= {"broken", "flaky"}
    assert ran.get("broken", ["failed"]) == ["failed"]
    assert ran.get("flaky", ["failed"]) == ["failed"]
    assert ran
    events = "".join(
        path.read_text()
        for path in workspace.root.glob(
            "outputs/runs/fail_fast/exec/batch_logs/*/task.events.jsonl"
        )
    )
    assert '"event":"fail_fast_stop"' in events


def test_recovery_launch_status_recover(workspace: Workspace) -> None:
    run_readme(workspace, "recovery")
    data = workspace.status("recovery")
    assert data["configs"]["latest_by_status"] == {"success": 4}
    assert data["attempts"]["by_status"] == {"failed": 2, "success": 4}
    retries = list(
        (workspace.root / "outputs/runs/recovery/exec/retries").glob("retry_*.json")
    )
    assert len(retries) == 1
    assert json.loads(retries[0].read_text())["num_target_configs"] == 2


def test_slurm_dry_run_needs_no_cluster(workspace: Workspace) -> None:
    out = run_readme(workspace, "slurm")
    assert "--executor slurm" in out
    assert "nothing was written" in out
    run_root = workspace.root / "outputs/runs/slurm"
    assert (run_root / "run.json").is_file()
    assert not (run_root / "exec" / "results").exists() or not any(
        (run_root / "exec" / "results").iterdir()
    )


def test_dsl_script_writes_the_committed_yaml_and_launches(
    workspace: Workspace,
) -> None:
    run_readme(workspace, "dsl")
    written = (workspace.root / "examples/dsl/experiment.yaml").read_text()
    assert written == (EXAMPLES / "dsl" / "experiment.yaml").read_text()
    data = workspace.status("dsl")
    assert data["configs"]["latest_by_status"] == {"success": 4}
    models = {
        c["selected_options"]["model"] + "@" + c["selected_options"]["lr"]
        for c in workspace.configs("dsl")
    }
    assert models == {"mlp@lr_0.001", "mlp@lr_0.01", "mlp@lr_0.1", "wide@lr_0.001"}


def test_examples_map_lists_every_example() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "examples.md").read_text()
    for example in (*EXAMPLE_NAMES, "quickstart", "apps"):
        assert f"examples/{example}" in page
