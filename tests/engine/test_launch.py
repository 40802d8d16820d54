"""launch end to end with the quickstart example (a real Hydra app)."""

from __future__ import annotations

import json
from pathlib import Path

from geryon.cli.main import main

QUICKSTART = Path(__file__).resolve().parents[2] / "examples" / "quickstart"


def test_launch_quickstart_runs_every_config(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "launch",
            "--experiment",
            str(QUICKSTART / "experiment.yaml"),
            "--out",
            str(tmp_path / "outputs"),
            "--batch-size",
            "4",
            "--run-id",
            "quick",
            "--format",
            "json",
        ]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["backend"] == "local"
    assert payload["validation"]["valid"] is True
    assert payload["plan"]["total_configs"] == 8
    assert payload["plan"]["total_batches"] == 2
    execution = payload["execution"]
    assert execution["configs"] == {"selected": 8, "success": 8}
    run_root = Path(payload["plan"]["run_root"])
    metrics = sorted(run_root.glob("exec/workdirs/*/*/*/metrics.json"))
    assert len(metrics) == 8
    seen = {
        (m["model"], m["lr"], m["seed"])
        for m in (json.loads(path.read_text()) for path in metrics)
    }
    assert seen == {
        (model, lr, seed)
        for model in ("mlp", "cnn")
        for lr in (0.001, 0.01)
        for seed in (1, 2)
    }


def test_launch_dry_run_plans_but_runs_nothing(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "launch",
            "--experiment",
            str(QUICKSTART / "experiment.yaml"),
            "--out",
            str(tmp_path / "outputs"),
            "--batch-size",
            "3",
            "--dry-run",
            "--skip-validate",
            "--format",
            "json",
        ]
    )
    payload = json.loads(capsys.readouterr().out)
    assert code == 0
    assert payload["validation"] is None
    assert payload["execution"]["dry_run"] is True
    assert payload["execution"]["configs"] == {"selected": 8}
    run_root = Path(payload["plan"]["run_root"])
    assert (run_root / "run.json").is_file()
    assert not (run_root / "exec" / "results").exists() or not any(
        (run_root / "exec" / "results").iterdir()
    )
    assert not (run_root / "exec" / "Snakefile").exists()
