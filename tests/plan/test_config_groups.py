"""``command.config_groups``: packs choose options of the app's Hydra config groups.

The end-to-end test plans a real experiment file (composition, schema and planner)
and runs the planned commands with ``bash -c`` against the real group app
``tests/apps/hydra_groups.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from geryon.errors import ConfigError
from geryon.plan import normalise, plan_experiment
from geryon.plan.overrides import MAX_COMMAND_BYTES, hydra_run_dir_word, render_command

from .conftest import FILE, packs_doc, stream_of

GROUPS = {"config_groups": ["optimizer", "model/encoder"]}


def _experiment(app: Path) -> dict[str, Any]:
    return {
        "command": {"program": sys.executable, "args": [str(app)], **GROUPS},
        "defaults": {"params": {"optimizer": "adam", "seed": 7}},
        "select": {
            "packs": [
                {
                    "name": "opt",
                    "options": [{"id": "sgd", "params": {"optimizer": "sgd.v2"}}],
                },
                {
                    "name": "encoder",
                    "options": [
                        {"id": "cnn", "params": {"model": {"encoder": "cnn"}}},
                        {
                            "id": "vit",
                            "params": {"model": {"encoder": "vit large", "depth": 3}},
                        },
                    ],
                },
            ]
        },
    }


def _run(command: str, work_dir: Path) -> dict[str, Any]:
    """Run a planned command as the wrapper does; return the app's report."""
    work_dir.mkdir()
    report = work_dir / "report.json"
    line = f"{command} {hydra_run_dir_word(str(work_dir / 'hydra'))}"
    done = subprocess.run(
        ["bash", "-c", line],
        cwd=work_dir,
        env={**os.environ, "GERYON_ECHO_OUT": str(report)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
    return result


def test_planned_group_selections_reach_the_app(
    hydra_apps_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(_experiment(hydra_apps_dir / "hydra_groups.py")))
    result = plan_experiment(path, out=tmp_path / "out", batch_size=10, run_id="g")
    assert result.run_root is not None
    batch = result.run_root / "plan" / "batches"
    commands = next(batch.iterdir()).read_text(encoding="utf-8").splitlines()
    assert len(commands) == 2
    assert "'model/encoder=\"vit large\"'" in commands[1]
    assert "++model.depth=3" in commands[1] and "++optimizer" not in commands[1]
    cnn, vit = (_run(c, tmp_path / f"run{i}") for i, c in enumerate(commands))
    sgd = {"name": "sgd", "lr": 0.1, "momentum": 0.9}
    assert cnn["config"]["optimizer"] == sgd == vit["config"]["optimizer"]
    assert cnn["config"]["model"] == {
        "encoder": {"kind": "cnn", "channels": 64},
        "depth": 2,
    }
    assert vit["config"]["model"] == {
        "encoder": {"kind": "vit", "patch": 16},
        "depth": 3,
    }
    assert vit["config"]["seed"] == 7


def test_group_words_match_render_command() -> None:
    document = packs_doc(
        [
            {"id": "a", "params": {"optimizer": "adam", "lr": 0.5}},
            {"id": "b", "params": {"optimizer": "sgd.v2", "model": {"encoder": "x"}}},
        ],
        command={"program": "python", "args": ["app.py"], **GROUPS},
    )
    groups = frozenset({"optimizer", "model.encoder"})
    for config in stream_of(document).result.preview:
        expected = render_command("python app.py", config["params"], group_keys=groups)
        assert config["command"] == expected
        assert "optimizer=" in expected and "++optimizer" not in expected


@pytest.mark.parametrize(
    ("params", "defaults", "key_path", "shown"),
    [
        ({"optimizer": 3}, {}, "packs[0].options[1].params.optimizer", "an integer 3"),
        (
            {"model": {"encoder": {"kind": "vit"}}},
            {},
            "packs[0].options[1].params.model.encoder",
            "a mapping {'kind': 'vit'}",
        ),
        ({"optimizer": ""}, {}, "packs[0].options[1].params.optimizer", "a string ''"),
        ({}, {"optimizer": None}, "defaults.params.optimizer", "null"),
    ],
)
def test_a_group_param_must_be_an_option_name(
    params: dict[str, Any], defaults: dict[str, Any], key_path: str, shown: str
) -> None:
    document = packs_doc(
        [
            {"id": "ok", "params": {"optimizer": "adam"}},
            {"id": "bad", "params": params},
        ],
        command={"program": "python", **GROUPS},
        defaults={"params": defaults},
    )
    with pytest.raises(ConfigError) as caught:
        normalise(document, FILE)
    err = caught.value
    assert err.key_path == key_path
    assert err.file == str(FILE)
    assert "must be the name of one of the group's options" in err.problem
    assert f"got {shown}" in err.problem


@pytest.mark.parametrize(
    ("groups", "index", "message"),
    [
        (["model", "bad//path"], 1, "expected a Hydra config group path"),
        (["model", 3], 1, "got an integer 3"),
        (["model.encoder"], 0, "expected a Hydra config group path"),
        (["model/encoder", "model"], 0, "lies inside config group model"),
    ],
)
def test_config_group_paths_are_checked(
    groups: list[Any], index: int, message: str
) -> None:
    document = packs_doc(
        [{"id": "a", "params": {}}],
        command={"program": "python", "config_groups": groups},
    )
    with pytest.raises(ConfigError, match=message) as caught:
        normalise(document, FILE)
    assert caught.value.key_path == f"command.config_groups[{index}]"


def test_the_schema_rejects_a_bad_group_path(tmp_path: Path) -> None:
    experiment = _experiment(Path("app.py"))
    experiment["command"]["config_groups"] = ["model/"]
    path = tmp_path / "experiment.yaml"
    path.write_text(yaml.safe_dump(experiment))
    with pytest.raises(ConfigError, match="a Hydra config group path") as caught:
        plan_experiment(path, out=tmp_path / "out", batch_size=1, dry_run=True)
    assert caught.value.key_path == "command.config_groups[0]"


def test_an_over_long_command_fails_at_plan_time_naming_the_config(
    plan_doc: Any, tmp_path: Path
) -> None:
    long_text = "x" * (MAX_COMMAND_BYTES + 10)
    document = packs_doc(
        [
            {"id": "short", "params": {"v": "y"}},
            {"id": "long", "params": {"v": long_text}},
        ]
    )
    with pytest.raises(ConfigError) as caught:
        plan_doc(document, run_id="r")
    err = caught.value
    assert "(selected options: p0=long)" in err.problem
    assert err.problem.startswith("config ") and "bytes long" in err.problem
    assert err.file == str(tmp_path / "experiment.yaml")
    assert not (tmp_path / "out" / "runs" / "r").exists()
