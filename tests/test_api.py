"""The Python API (geryon.api, re-exported by geryon): plan, run, observe, recover.

One real run (Snakemake + the shared Hydra example app) is planned and executed
once per module; the observe/recover tests read and extend it in order.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import geryon
from geryon import api

APP = Path(__file__).resolve().parents[1] / "examples" / "apps" / "train.py"


def experiment_document(**extra: Any) -> dict[str, Any]:
    """Two seeds x (steady, flaky): the flaky configs fail their first attempt."""
    document: dict[str, Any] = {
        "schema": {"version": 4},
        "command": {"program": sys.executable, "args": [str(APP)]},
        "defaults": {"params": {"steps": 5}, "tags": ["api"]},
        "select": {
            "packs": [
                {
                    "name": "seed",
                    "options": [
                        {"id": "s1", "params": {"seed": 1}},
                        {"id": "s2", "params": {"seed": 2}},
                    ],
                },
                {
                    "name": "mode",
                    "options": [
                        {"id": "steady", "params": {"chaos": {"fail_attempts": 0}}},
                        {"id": "flaky", "params": {"chaos": {"fail_attempts": 1}}},
                    ],
                },
            ]
        },
    }
    document.update(extra)
    return document


def write_experiment(folder: Path, **extra: Any) -> Path:
    path = folder / "experiment.yaml"
    path.write_text(yaml.safe_dump(experiment_document(**extra), sort_keys=False))
    return path


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("api")
    experiment = write_experiment(folder)
    plan = geryon.plan_experiment(
        experiment, out=folder / "outputs", batch_size=2, run_id="api_run"
    )
    report = geryon.run_local(plan.run_root)
    return {"plan": plan, "report": report, "folder": folder}


def test_every_public_name_is_exported_and_resolves() -> None:
    top_level = set(api.__all__) - {"compose"}
    assert top_level <= set(geryon.__all__)
    for name in top_level:
        assert getattr(geryon, name) is getattr(api, name)
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = geryon.no_such_name  # type: ignore[attr-defined]


def test_import_geryon_does_not_load_the_engine() -> None:
    code = (
        "import sys, geryon; "
        "print(any(m.startswith(('geryon.engine', 'geryon.api', 'snakemake')) "
        "for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_compose_and_validate(tmp_path: Path) -> None:
    experiment = write_experiment(tmp_path)
    composition = geryon.compose_experiment(experiment)
    assert [pack["name"] for pack in composition.document["packs"]] == ["seed", "mode"]
    checked = geryon.validate_experiment(experiment)
    assert checked["valid"] is True
    assert checked["num_packs"] == 2
    assert checked["run_set"] is None


def test_validate_rejects_bad_input_with_a_config_error(tmp_path: Path) -> None:
    experiment = write_experiment(tmp_path, command={"program": ""})
    with pytest.raises(geryon.ConfigError, match="program"):
        geryon.validate_experiment(experiment)


def test_plan_dry_run_writes_nothing(tmp_path: Path) -> None:
    experiment = write_experiment(tmp_path)
    result = geryon.plan_experiment(
        experiment, out=tmp_path / "out", batch_size=3, dry_run=True, preview_configs=1
    )
    assert (result.total_configs, result.total_batches) == (4, 2)
    assert result.run_root is None
    assert result.preview_configs[0]["selected_options"] == {
        "seed": "s1",
        "mode": "steady",
    }
    assert not (tmp_path / "out").exists()


def test_plan_all_run_sets_plans_each_in_name_order(tmp_path: Path) -> None:
    run_sets = {
        "only_s1": {"patch_packs": {"seed": {"options": [{"id": "s1", "params": {}}]}}},
        "all": {"append": {"defaults": {"tags": ["all"]}}},
    }
    experiment = write_experiment(tmp_path, run_sets=run_sets)
    assert geryon.run_set_names(experiment) == ["all", "only_s1"]
    results = geryon.plan_all_run_sets(
        experiment, out=tmp_path / "out", batch_size=8, run_id="rs"
    )
    assert [(r.run_set, r.run_id, r.total_configs) for r in results] == [
        ("all", "rs_all", 4),
        ("only_s1", "rs_only_s1", 2),
    ]


def test_execute_runs_the_hydra_app_and_reports_failures(
    executed: dict[str, Any],
) -> None:
    report = executed["report"]
    assert report.exit_code == 1
    assert report.counts["selected"] == 4
    assert report.counts["success"] == 2
    assert report.counts["failed"] == 2
    run_root = Path(executed["plan"].run_root)
    metrics = sorted(run_root.glob("exec/workdirs/*/*/*/metrics.json"))
    assert len(metrics) == 4


def test_status_report_and_collect(executed: dict[str, Any]) -> None:
    run_root = executed["plan"].run_root
    data = geryon.status(run_root, by_pack=["mode"])
    assert data["configs"]["latest_by_status"] == {"failed": 2, "success": 2}
    groups = {
        g["key"]["mode"]: g["complete"] for g in data["grouped_by_packs"]["groups"]
    }
    assert groups == {"flaky": 0, "steady": 2}
    payload = geryon.report(run_root)
    assert payload["run_id"] == "api_run"
    markdown = geryon.report_markdown(run_root)
    assert markdown.startswith("# Geryon Report\n")
    summary = geryon.collect(run_root)
    assert summary["configs"]["final_by_status"] == {"failed": 2, "success": 2}
    written = json.loads(Path(summary["summary_path"]).read_text())
    assert written["attempts"]["total"] == 4


def test_storage_readers(executed: dict[str, Any]) -> None:
    run_root = executed["plan"].run_root
    layout = geryon.open_run(run_root)
    assert layout.run_id == "api_run"
    assert len(list(geryon.iter_configs(layout))) == 4
    assert [b["num_commands"] for b in geryon.load_batches(layout)] == [2, 2]
    attempts = list(geryon.iter_attempts(run_root))
    assert sorted(a["status"] for a in attempts) == [
        "failed",
        "failed",
        "success",
        "success",
    ]


def test_rerun_then_recover_fixes_the_flaky_configs(executed: dict[str, Any]) -> None:
    run_root = executed["plan"].run_root
    planned = geryon.rerun(run_root, dry_run=True)
    assert planned["retry_file"] is None
    assert planned["num_target_configs"] == 2
    result = geryon.recover(run_root)
    assert result.exit_code == 0
    assert Path(result.payload["retry"]["retry_file"]).is_file()
    data = geryon.status(run_root)
    assert data["configs"]["latest_by_status"] == {"success": 4}
    assert data["attempts"]["total"] == 6


def test_main_runs_the_cli_in_process(executed: dict[str, Any], capsys) -> None:
    run_root = str(executed["plan"].run_root)
    assert geryon.main(["status", "--run", run_root, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["run_id"] == "api_run"
    assert geryon.main(["status", "--run", str(Path(run_root) / "nope")]) == 2


def test_profiles(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(
        "profiles:\n"
        "  quick:\n"
        "    defaults:\n"
        "      run_local: {max_concurrent_tasks: 2, max_retries: 1}\n"
    )
    listed = geryon.list_profiles(profiles)
    assert listed["count"] == 1
    assert list(listed["profiles"]) == ["quick"]
    resolved = geryon.resolve_profile(
        "quick", profiles_file=profiles, overrides={"max_retries": 3}
    )
    assert resolved.settings.max_concurrent_tasks == 2
    assert resolved.settings.max_retries == 3
    assert resolved.sources["max_concurrent_tasks"] == "profile.defaults"
    assert resolved.sources["max_retries"] == "cli"
    with pytest.raises(geryon.ConfigError, match="nope"):
        geryon.resolve_profile("nope", profiles_file=profiles)


def test_clean_needs_a_part_and_removes_exec(tmp_path: Path) -> None:
    experiment = write_experiment(tmp_path)
    plan = geryon.plan_experiment(experiment, out=tmp_path / "out", batch_size=4)
    with pytest.raises(geryon.ConfigError, match="at least one"):
        geryon.clean(plan.run_root)
    removed = geryon.clean(plan.run_root, exec_=True)
    assert removed["removed"] == [str(Path(plan.run_root) / "exec")]
    assert (Path(plan.run_root) / "plan").is_dir()
