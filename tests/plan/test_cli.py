"""The planning CLI: exit codes (O18), pure JSON on stdout (O19), A13–A16."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from geryon.cli import main

from .test_artifacts import WORKED_YAML

RUN_SETS = """
run_sets:
  "a b":
    append: {defaults: {tags: [ab]}}
  zeta:
    append: {defaults: {tags: [z]}}
"""


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "experiment.yaml"
    path.write_text(WORKED_YAML + RUN_SETS, encoding="utf-8")
    return path


@pytest.fixture
def geryon(capsys: pytest.CaptureFixture[str]) -> Any:
    """``geryon(*args) -> (exit code, stdout, stderr)`` through ``cli.main``."""

    def run(*args: str | Path) -> tuple[int, str, str]:
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_plan_json_is_pure_and_follows_a13(
    geryon: Any, experiment: Path, tmp_path: Path
) -> None:
    code, out, err = geryon(
        "plan",
        "--experiment",
        experiment,
        "--out",
        tmp_path / "o",
        "--batch-size",
        "2",
        "--run-id",
        "r1",
        "--preview-configs",
        "1",
        "--format",
        "json",
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["run_id"] == "r1"
    assert (payload["total_configs"], payload["total_batches"]) == (3, 2)
    assert payload["run_root"] == str(tmp_path / "o" / "runs" / "r1")
    assert payload["run_set_path"].endswith("plan/run_set.json")
    assert payload["preview_configs"][0]["config_id"].startswith("3d293c9d")
    assert payload["dry_run"] is False


def test_plan_table_summary_and_build_alias(
    geryon: Any, experiment: Path, tmp_path: Path
) -> None:
    code, out, _ = geryon(
        "build",
        "--experiment",
        experiment,
        "--out",
        tmp_path / "o",
        "--batch-size",
        "2",
        "--run-id",
        "tbl",
    )
    assert code == 0
    assert "configs" in out and "3" in out
    assert "geryon run-local --run" in out


def test_all_run_sets_r12_r13(geryon: Any, experiment: Path, tmp_path: Path) -> None:
    code, out, err = geryon(
        "plan",
        "--experiment",
        experiment,
        "--out",
        tmp_path / "o",
        "--batch-size",
        "5",
        "--all-run-sets",
        "--run-id",
        "x",
        "--format",
        "json",
    )
    assert code == 0, err
    payload = json.loads(out)
    assert payload["all_run_sets"] is True and payload["num_run_sets"] == 2
    assert [i["run_id"] for i in payload["items"]] == ["x_a-b", "x_zeta"]
    assert [i["run_set"] for i in payload["items"]] == ["a b", "zeta"]
    run_set = json.loads((tmp_path / "o/runs/x_zeta/plan/run_set.json").read_text())
    assert run_set["selected"] == "zeta"


def test_run_set_and_all_run_sets_are_exclusive(
    geryon: Any, experiment: Path, tmp_path: Path
) -> None:
    code, out, err = geryon(
        "plan",
        "--experiment",
        experiment,
        "--out",
        tmp_path,
        "--batch-size",
        "1",
        "--run-set",
        "zeta",
        "--all-run-sets",
    )
    assert code == 2
    assert out == ""
    assert "mutually exclusive" in err


def test_q6_colliding_run_set_names_rejected_before_writing(
    geryon: Any, tmp_path: Path
) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(
        WORKED_YAML + 'run_sets:\n  "a b": {}\n  "a-b": {}\n', encoding="utf-8"
    )
    code, _, err = geryon(
        "plan",
        "--experiment",
        path,
        "--out",
        tmp_path / "o",
        "--batch-size",
        "1",
        "--all-run-sets",
    )
    assert code == 2
    assert "suffix 'a-b'" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("command: [unclosed\n", "YAML syntax error"),
        (
            "command: {program: python}\nselect: {packs: []}\n",
            "'packs' must be a non-empty list",
        ),
        (WORKED_YAML.replace("id: s2", "id: 2"), "experiment.yaml"),
        (WORKED_YAML + "merge: {mode: sometimes}\n", "merge.mode"),
        (WORKED_YAML.replace("[train.py]", "[train.py, 1]"), "command.args[1]"),
    ],
)
def test_malformed_experiment_exits_2_naming_the_file(
    geryon: Any, tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(text, encoding="utf-8")
    for command in ("plan", "validate-config"):
        extra = (
            ["--out", tmp_path / "o", "--batch-size", "1"] if command == "plan" else []
        )
        code, out, err = geryon(
            command, "--experiment", path, *extra, "--format", "json"
        )
        assert code == 2, err
        assert out == ""
        assert str(path) in err and expected in err
        assert "Traceback" not in err
        assert err.startswith("[config error]")


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--batch-size", "0"], "--batch-size must be a positive integer"),
        (["--batch-size", "1", "--preview-configs", "-1"], "--preview-configs"),
        (["--batch-size", "1", "--run-id", "../x"], "invalid run id"),
        (["--batch-size", "x"], "Invalid value"),
    ],
)
def test_bad_flags_exit_2(
    geryon: Any, experiment: Path, tmp_path: Path, flags: list[str], expected: str
) -> None:
    code, _, err = geryon("plan", "--experiment", experiment, "--out", tmp_path, *flags)
    assert code == 2
    assert expected in err


def test_missing_experiment_file_exits_2(geryon: Any, tmp_path: Path) -> None:
    code, _, err = geryon("validate-config", "--experiment", tmp_path / "nope.yaml")
    assert code == 2
    assert "nope.yaml" in err


def test_unwritable_out_is_a_runtime_error(
    geryon: Any, experiment: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code, _, err = geryon(
        "plan",
        "--experiment",
        experiment,
        "--out",
        blocker / "sub",
        "--batch-size",
        "1",
    )
    assert code == 1
    assert err.startswith("[runtime error] cannot create the plan")


def test_existing_run_directory_exits_2(
    geryon: Any, experiment: Path, tmp_path: Path
) -> None:
    args = (
        "plan",
        "--experiment",
        experiment,
        "--out",
        tmp_path,
        "--batch-size",
        "1",
        "--run-id",
        "r",
    )
    assert geryon(*args)[0] == 0
    code, _, err = geryon(*args)
    assert code == 2 and "Run directory already exists" in err


def test_validate_config_a14(geryon: Any, experiment: Path) -> None:
    code, out, _ = geryon(
        "validate-config",
        "--experiment",
        experiment,
        "--run-set",
        "zeta",
        "--show-diagnostics",
        "--format",
        "json",
    )
    assert code == 0
    payload = json.loads(out)
    assert payload["valid"] is True
    assert payload["run_set"] == "zeta"
    assert payload["base_command"] == "python train.py"
    assert (
        payload["num_packs"],
        payload["num_constraints"],
        payload["num_predicates"],
    ) == (2, 1, 0)
    assert sorted(payload["diagnostics"]) == [
        "composition",
        "constraints",
        "merge_effective",
        "merge_input",
        "packs",
    ]


def test_inspect_config_a15(geryon: Any, experiment: Path, tmp_path: Path) -> None:
    code, out, _ = geryon("inspect-config", "--experiment", experiment)
    assert code == 0
    assert out.startswith("command:")
    code, out, _ = geryon(
        "inspect-config",
        "--experiment",
        experiment,
        "--format",
        "json",
        "--show-diagnostics",
    )
    payload = json.loads(out)
    assert sorted(payload) == ["diagnostics", "experiment"]
    assert [p["name"] for p in payload["experiment"]["packs"]] == ["model", "seed"]
    target = tmp_path / "deep" / "composed.json"
    code, out, _ = geryon(
        "inspect-config",
        "--experiment",
        experiment,
        "--format",
        "json",
        "--out",
        target,
    )
    assert json.loads(out) == {"output_path": str(target)}
    assert json.loads(target.read_text())["command"]["program"] == "python"


def test_show_config_a16(geryon: Any, experiment: Path, tmp_path: Path) -> None:
    geryon(
        "plan",
        "--experiment",
        experiment,
        "--out",
        tmp_path,
        "--batch-size",
        "2",
        "--run-id",
        "s",
    )
    run_dir = tmp_path / "runs" / "s"
    code, out, _ = geryon("show-config", "--run", run_dir, "2d2d", "--format", "json")
    assert code == 0
    record = json.loads(out)
    assert record["config_id"] == "2d2db22262352efb73b0efb368d0f585492b26d0"
    assert record["batch_file"] == str(run_dir / "plan" / "batches" / "batch_000.txt")
    code, _, err = geryon("show-config", "--run", run_dir, "ffff")
    assert code == 2 and "no planned config id starts with 'ffff'" in err
    code, out, _ = geryon(
        "show-config", "--run", run_dir, "080ad9fc", "--format", "yaml"
    )
    assert code == 0 and "wandb_name: base_080ad9fc" in out


def test_show_config_ambiguous_prefix_lists_candidates(
    geryon: Any, tmp_path: Path
) -> None:
    options = "\n".join(
        f"        - {{id: o{i}, params: {{i: {i}}}}}" for i in range(40)
    )
    path = tmp_path / "e.yaml"
    path.write_text(
        "command: {program: p}\nselect:\n  packs:\n    - name: n\n      options:\n"
        + options
        + "\n",
        encoding="utf-8",
    )
    geryon(
        "plan",
        "--experiment",
        path,
        "--out",
        tmp_path,
        "--batch-size",
        "10",
        "--run-id",
        "amb",
    )
    run_dir = tmp_path / "runs" / "amb"
    ids = [
        json.loads(line)["config_id"]
        for line in (run_dir / "plan/configs.jsonl").open()
    ]
    prefix = next(c[0] for c in ids if sum(i.startswith(c[0]) for i in ids) > 1)
    code, _, err = geryon("show-config", "--run", run_dir, prefix)
    assert code == 2
    assert "planned configs start with" in err and "Give more characters" in err


def test_a_group_param_that_is_not_an_option_name_exits_2(
    geryon: Any, tmp_path: Path
) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(
        WORKED_YAML.replace(
            "args: [train.py]}", "args: [train.py], config_groups: [model]}"
        ),
        encoding="utf-8",
    )
    code, out, err = geryon(
        "plan", "--experiment", path, "--out", tmp_path / "o", "--batch-size", "2"
    )
    assert code == 2 and out == ""
    assert "packs[0].options[0].params.model" in err
    assert "must be the name of one of the group's options" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o" / "runs").exists() or not any(
        (tmp_path / "o" / "runs").iterdir()
    )
