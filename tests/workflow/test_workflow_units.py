"""The Python side of the Snakemake module, without Snakemake: config checks, run
naming, the plan step and its refusal to mix two sweeps under one run id."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from workflow_helpers import load_sweep_helpers

from geryon.errors import ConfigError
from geryon.plan import plan_experiment

sweep = load_sweep_helpers()

EXPERIMENT = """\
schema:
  version: 4
command:
  program: python
  args: ["-c", "print('ok')"]
select:
  packs:
    - name: x
      options:
        - {id: x1, params: {x: 1}}
        - {id: x2, params: {x: 2}}
        - {id: x3, params: {x: 3}}
run_sets:
  small:
    replace:
      select:
        packs:
          - name: x
            options:
              - {id: x1, params: {x: 1}}
"""


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "exp dir ü" / "experiment.yaml"
    path.parent.mkdir()
    path.write_text(EXPERIMENT, encoding="utf-8")
    return path


def config_for(experiment: Path, **extra: Any) -> dict[str, Any]:
    return {"experiment": str(experiment), "out": "results", "batch_size": 1, **extra}


def test_default_run_id_is_stable_and_follows_the_sweep(experiment: Path) -> None:
    first = sweep.read_config(config_for(experiment))
    assert re.fullmatch(r"run_[0-9a-f]{12}", first.run_id)
    assert sweep.read_config(config_for(experiment)).run_id == first.run_id
    assert (
        sweep.read_config(config_for(experiment, batch_size=2)).run_id != first.run_id
    )
    with_set = sweep.read_config(config_for(experiment, run_set="small"))
    assert re.fullmatch(r"run_[0-9a-f]{12}_small", with_set.run_id)
    experiment.write_text(EXPERIMENT.replace("x3", "x4"), encoding="utf-8")
    assert sweep.read_config(config_for(experiment)).run_id != first.run_id


def test_explicit_run_id_and_paths(experiment: Path) -> None:
    cfg = sweep.read_config(config_for(experiment, run_id="base.v1", out="out/{x}"))
    assert cfg.run_id == "base.v1" and cfg.run_id_explicit
    assert cfg.run_root == "out/{x}/runs/base.v1"
    assert cfg.state_path == "out/{x}/pipeline/base.v1/sweep.json"
    assert cfg.summary_path == "out/{x}/runs/base.v1/exec/results/summary.json"
    # Braces of the path are literal in the batch rule's output pattern.
    assert cfg.marker_pattern == (
        "out/{{x}}/runs/base.v1/exec/markers/{selection}/batch_{batch}.done"
    )
    assert sweep.run_root_of_state(cfg.state_path) == Path(cfg.run_root)


def test_include_style_config_nests_under_geryon(experiment: Path) -> None:
    cfg = sweep.read_config({"geryon": config_for(experiment), "samples": ["a"]})
    assert cfg.batch_size == 1 and cfg.backend == "local"


def test_missing_key_message(experiment: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        sweep.read_config({"experiment": str(experiment), "batch_size": 2})
    assert str(caught.value) == (
        "at out: geryon module config: missing required key 'out'. Set experiment, "
        "out, batch_size in the module's config (see workflow/config/config.yaml)"
    )


@pytest.mark.parametrize(
    ("extra", "key", "problem"),
    [
        ({"batch_size": "4"}, "batch_size", "expected a positive integer, got '4'"),
        ({"batch_size": 0}, "batch_size", "expected a positive integer, got 0"),
        ({"batch_size": True}, "batch_size", "expected a positive integer, got True"),
        ({"backend": "aws"}, "backend", "backend must be one of local, slurm"),
        ({"run_id": "../escape"}, "run_id", "invalid run id '../escape'"),
        ({"run_set": ""}, "run_set", "expected a non-empty string, got ''"),
        ({"resources": ["mem_mb"]}, "resources", "expected a mapping"),
        ({"batchsize": 3}, "batchsize", "unknown key 'batchsize'"),
    ],
)
def test_bad_config_values(
    experiment: Path, extra: dict[str, Any], key: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        sweep.read_config(config_for(experiment, **extra))
    assert caught.value.key_path == key
    assert problem in caught.value.problem


def test_missing_experiment_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        sweep.read_config(config_for(tmp_path / "nope.yaml"))
    assert "nope.yaml" in str(caught.value)


def plan_args(state: Path, experiment: Path, *extra: str) -> list[str]:
    return [
        "plan",
        "--state",
        str(state),
        "--experiment",
        str(experiment),
        "--batch-size",
        "1",
        *extra,
    ]


def test_plan_step_writes_state_selection_and_reuses_the_plan(
    tmp_path: Path, experiment: Path
) -> None:
    state = tmp_path / "out" / "pipeline" / "r1" / "sweep.json"
    assert sweep.main(plan_args(state, experiment)) == 0
    run = tmp_path / "out" / "runs" / "r1"
    data = json.loads(state.read_text(encoding="utf-8"))
    assert data["batch_indices"] == [0, 1, 2]
    assert data["run_root"] == str(run)
    selection = json.loads(Path(data["selection_file"]).read_text(encoding="utf-8"))
    assert selection["selection_id"] == data["selection_id"]
    assert selection["batch_indices"] == [0, 1, 2]
    assert selection["resume"] is True and selection["backend"] == "local"
    run_json = (run / "run.json").read_bytes()

    state.unlink()
    assert sweep.main(plan_args(state, experiment)) == 0
    assert (run / "run.json").read_bytes() == run_json
    again = json.loads(state.read_text(encoding="utf-8"))
    assert again["selection_id"] == data["selection_id"]


def test_plan_step_refuses_a_different_sweep_under_the_same_run_id(
    tmp_path: Path, experiment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "out" / "pipeline" / "r1" / "sweep.json"
    assert sweep.main(plan_args(state, experiment)) == 0
    experiment.write_text(EXPERIMENT.replace("x3", "x4"), encoding="utf-8")
    state.unlink()
    assert sweep.main(plan_args(state, experiment)) == 2
    err = capsys.readouterr().err
    assert "[config error]" in err
    assert "run 'r1' already exists and was planned from a different sweep" in err
    assert not state.exists()


def test_plan_step_adopts_a_matching_cli_plan_only(
    tmp_path: Path, experiment: Path
) -> None:
    plan_experiment(experiment, out=tmp_path / "out", batch_size=1, run_id="r1")
    state = tmp_path / "out" / "pipeline" / "r1" / "sweep.json"
    assert sweep.main(plan_args(state, experiment)) == 0
    assert json.loads(state.read_text(encoding="utf-8"))["batch_indices"] == [0, 1, 2]

    plan_experiment(experiment, out=tmp_path / "out", batch_size=2, run_id="r2")
    other = tmp_path / "out" / "pipeline" / "r2" / "sweep.json"
    assert sweep.main(plan_args(other, experiment)) == 2


def test_threads_and_settings_digest_follow_the_profile(
    tmp_path: Path, experiment: Path
) -> None:
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(
        "profiles:\n"
        "  wide:\n"
        "    defaults:\n"
        "      run_local: {cores_per_task: 2, max_concurrent_tasks: 3}\n",
        encoding="utf-8",
    )
    plain = sweep.read_config(config_for(experiment))
    wide = sweep.read_config(
        config_for(experiment, profile="wide", profiles_file=str(profiles))
    )
    plain_threads, plain_digest = sweep.batch_job_sizing(plain)
    wide_threads, wide_digest = sweep.batch_job_sizing(wide)
    assert (plain_threads, wide_threads) == (1, 6)
    assert plain_digest != wide_digest
    assert wide.plan_arguments()[-4:] == [
        "--profile",
        "wide",
        "--profiles-file",
        str(profiles),
    ]


def test_slurm_backend_uses_run_slurm_settings(
    tmp_path: Path, experiment: Path
) -> None:
    cfg = sweep.read_config(config_for(experiment, backend="slurm"))
    assert sweep.task_log_dir("r", cfg.backend, "007") == str(
        Path("r") / "exec" / "batch_logs" / "task_slurm_7"
    )
    state = tmp_path / "out" / "pipeline" / "r1" / "sweep.json"
    assert sweep.main([*plan_args(state, experiment), *cfg.plan_arguments()[4:]]) == 0
    data = json.loads(state.read_text(encoding="utf-8"))
    selection = json.loads(Path(data["selection_file"]).read_text(encoding="utf-8"))
    assert data["selection_id"].startswith("sel_slurm_")
    assert selection["backend"] == "slurm"
    # The built-in run_slurm executor (spec E1), as with `geryon run-slurm`.
    assert selection["settings"]["executor"] == "tmux"
