"""Plan artifacts (§7), identity (§6) and the streaming writer's guarantees.

Golden files of the spec's worked example (§6.8) live in
``tests/golden/plan/worked_example/``. To regenerate them after a deliberate
change, run ``GERYON_UPDATE_GOLDEN=1 uv run pytest tests/plan/test_artifacts.py -k golden``
and review the diff.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from geryon.errors import ConfigError
from geryon.layout import RunLayout
from geryon.plan import plan_experiment
from geryon.plan.identity import default_run_id, wandb_name
from geryon.plan.overrides import render_command
from geryon.planfiles import iter_configs, load_batch_configs, load_batches

from .conftest import WORKED_EXAMPLE, packs_doc, stream_of

GOLDEN = Path(__file__).parents[1] / "golden" / "plan" / "worked_example"
WORKED_YAML = """\
command: {program: python, args: [train.py]}
defaults:
  params: {train: {epochs: 10}}
  tags: [base]
select:
  packs:
    - name: model
      options:
        - {id: small, tag: m-small, params: {model: {width: 64}}}
        - {id: large, params: {model: {width: 256}}}
    - name: seed
      options:
        - {id: s1, params: {seed: 1}}
        - {id: s2, params: {seed: 2}}
constraints:
  exclude:
    - when: {model: large, seed: s2}
"""
GOLDEN_FILES = (
    "run.json",
    "plan/configs.jsonl",
    "plan/batches.jsonl",
    "plan/batches/batch_000.txt",
    "plan/batches/batch_001.txt",
    "plan/manifest.jsonl",
    "plan/manifest.csv",
    "plan/diagnostics.json",
    "plan/diagnostics.summary.txt",
    "plan/run_set.json",
    "plan/experiment.snapshot.yaml",
    "plan/snapshot/index.json",
    "plan/snapshot/experiment.yaml",
)


def masked(text: str, tmp_path: Path) -> str:
    """Hide what changes between runs: temp paths, time and user."""
    text = text.replace(str(tmp_path), "<TMP>")
    info = None
    if text.startswith("{") and '"created_at"' in text:
        info = json.loads(text)
        info["created_at"] = "<CREATED_AT>"
        info["host_user"] = "<USER>"
        text = json.dumps(info, sort_keys=True, separators=(",", ":")) + "\n"
    return text


@pytest.fixture
def worked_run(tmp_path: Path) -> RunLayout:
    experiment = tmp_path / "experiment.yaml"
    experiment.write_text(WORKED_YAML, encoding="utf-8")
    result = plan_experiment(
        experiment, out=tmp_path / "out", batch_size=2, run_id="golden"
    )
    assert result.run_root is not None
    return RunLayout(result.run_root)


def test_golden_artifacts_of_the_worked_example(
    worked_run: RunLayout, tmp_path: Path
) -> None:
    for name in GOLDEN_FILES:
        actual = masked((worked_run.root / name).read_bytes().decode("utf-8"), tmp_path)
        golden = GOLDEN / name
        if os.environ.get("GERYON_UPDATE_GOLDEN"):
            golden.parent.mkdir(parents=True, exist_ok=True)
            golden.write_bytes(actual.encode("utf-8"))
        assert actual == golden.read_bytes().decode("utf-8"), name


def test_worked_example_ids_names_and_command(worked_run: RunLayout) -> None:
    configs = list(iter_configs(worked_run))
    assert [(c["batch_index"], c["line_index"]) for c in configs] == [
        (0, 0),
        (0, 1),
        (1, 0),
    ]
    assert [c["config_id"] for c in configs] == [
        "3d293c9d7f60738cb33c4c10395ff078be8d00a4",
        "2d2db22262352efb73b0efb368d0f585492b26d0",
        "080ad9fc8fbfce8915eb3d9b02200ffe9557a012",
    ]
    assert [c["wandb_name"] for c in configs] == [
        "base_m-small_3d293c9d",
        "base_m-small_2d2db222",
        "base_080ad9fc",
    ]
    assert configs[0]["command"] == (
        "python train.py ++model.width=64 ++seed=1 ++train.epochs=10 "
        "++wandb.name=base_m-small_3d293c9d '++wandb.tags=[base,m-small]'"
    )
    assert configs[2]["params"]["wandb"] == {"name": "base_080ad9fc", "tags": ["base"]}


def test_a10_run_json_is_written_last_and_names_the_experiment_dir(
    worked_run: RunLayout, tmp_path: Path
) -> None:
    info = worked_run.run_info()
    assert info["experiment_dir"] == str(tmp_path)
    assert info["schema_version"] == 3
    assert (info["num_configs"], info["num_batches"], info["batch_size"]) == (3, 2, 2)
    newest = max(
        p.stat().st_mtime_ns for p in worked_run.root.rglob("*") if p.is_file()
    )
    assert worked_run.run_json.stat().st_mtime_ns == newest
    assert sorted(p.name for p in worked_run.exec_dir.iterdir()) == sorted(
        [
            "batch_logs",
            "cmd_logs",
            "workdirs",
            "results",
            "retries",
            "selections",
            "markers",
            "state",
        ]
    )


def test_batch_byte_ranges_select_exactly_the_batch(
    tmp_path: Path, plan_doc: Any
) -> None:
    options = [{"id": f"o{i}", "tag": "é", "params": {"s": f"ü{i}"}} for i in range(7)]
    result = plan_doc(packs_doc(options), batch_size=3, run_id="ranges")
    layout = RunLayout.open(result.run_root)
    everything = list(iter_configs(layout))
    for batch in load_batches(layout):
        expected = [c for c in everything if c["batch_index"] == batch["batch_index"]]
        assert load_batch_configs(layout, batch) == expected
        assert batch["num_commands"] == len(expected)
        lines = (layout.root / batch["path"]).read_text(encoding="utf-8").splitlines()
        assert lines == [c["command"] for c in expected]


def test_a4_batch_names_grow_beyond_three_digits(plan_doc: Any) -> None:
    options = [{"id": f"o{i}", "params": {"i": i}} for i in range(1001)]
    result = plan_doc(packs_doc(options), batch_size=1, run_id="many")
    assert (result.run_root / "plan/batches/batch_1000.txt").is_file()
    assert (result.run_root / "plan/batches/batch_999.txt").is_file()


def test_a1_failure_in_the_last_combination_leaves_no_run_directory(
    tmp_path: Path, plan_doc: Any
) -> None:
    options = [{"id": f"o{i}", "params": {"n": i}} for i in range(50)]
    # Only the last combination (n = 49) reaches the comparison with a string.
    predicate = {
        "id": "boom",
        "args": {"n": {"param": "n"}},
        "expr": {"or": [{"lt": ["$n", 49]}, {"lt": ["$n", "x"]}]},
    }
    document = packs_doc(options, constraints={"predicates": [predicate]})
    with pytest.raises(ConfigError, match="Predicate evaluation failed"):
        plan_doc(document, run_id="crash")
    assert list((tmp_path / "out" / "runs").iterdir()) == []


def test_i24_existing_run_directory_is_refused_and_dry_run_writes_nothing(
    tmp_path: Path, plan_doc: Any
) -> None:
    plan_doc(WORKED_EXAMPLE, run_id="same")
    with pytest.raises(ConfigError, match="Run directory already exists"):
        plan_doc(WORKED_EXAMPLE, run_id="same")
    dry = plan_doc(
        WORKED_EXAMPLE,
        run_id="dry",
        dry_run=True,
        preview_configs=2,
        out=tmp_path / "dry",
    )
    assert not (tmp_path / "dry").exists()
    assert dry.to_json()["run_root"] is None
    assert [c["config_id"][:8] for c in dry.preview_configs] == ["3d293c9d", "2d2db222"]


def test_a12_negative_preview_and_i20_bad_batch_size(plan_doc: Any) -> None:
    with pytest.raises(ConfigError, match="--preview-configs"):
        plan_doc(WORKED_EXAMPLE, preview_configs=-1)
    with pytest.raises(ConfigError, match="--batch-size must be a positive integer"):
        plan_doc(WORKED_EXAMPLE, batch_size=0)


def test_q16_two_combinations_with_equal_params_are_an_error() -> None:
    document = packs_doc(
        [{"id": "a", "params": {"x": 1}}, {"id": "b", "params": {"x": 1}}],
        [{"id": "z", "params": {}}],
    )
    with pytest.raises(ConfigError) as caught:
        stream_of(document)
    assert "p0=a, p1=z and p0=b, p1=z" in str(caught.value)


def test_p13_q9_zero_configs_reports_real_counts() -> None:
    document = packs_doc(
        [{"id": "a", "params": {}}, {"id": "b", "params": {"x": 1}}],
        constraints={"exclude": [{"when": {"p0": ["a", "b"]}}]},
    )
    with pytest.raises(ConfigError) as caught:
        stream_of(document)
    assert "total combinations 2, constraint-excluded 2, predicate-dropped 0" in str(
        caught.value
    )


def test_k8_include_then_exclude() -> None:
    document = packs_doc(
        [{"id": f"a{i}", "params": {"a": i}} for i in range(3)],
        [{"id": f"b{i}", "params": {"b": i}} for i in range(2)],
        constraints={
            "include": [{"when": {"p0": ["a0", "a1"]}}],
            "exclude": [{"when": {"p0": "a1", "p1": "b1"}}],
        },
    )
    chosen = [
        tuple(c["selected_options"].values())
        for c in stream_of(document).result.preview
    ]
    assert chosen == [("a0", "b0"), ("a0", "b1"), ("a1", "b0")]


def test_batch_count_warning_suggests_a_batch_size(plan_doc: Any) -> None:
    options = [{"id": f"o{i}", "params": {"i": i}} for i in range(2001)]
    result = plan_doc(packs_doc(options), batch_size=1, dry_run=True)
    assert result.warnings == [
        "2001 batches is more than one Snakemake run schedules well (about 2000); "
        "consider --batch-size 2 or more"
    ]


def test_i8_wandb_name_is_cut_to_128_characters() -> None:
    name = wandb_name(["t" * 200], "0123456789abcdef")
    assert len(name) == 128 and name == "t" * 128
    assert wandb_name([], "0123456789abcdef") == "exp_01234567"
    assert wandb_name(["lr = 0.1", "a/b"], "ffffffff00") == "lr-0.1_a-b_ffffffff"


def test_i9_wandb_keys_kept_name_and_tags_overwritten_and_non_mapping_rejected() -> (
    None
):
    document = packs_doc(
        [{"id": "a", "params": {"wandb": {"project": "p", "name": "mine"}}}]
    )
    params = stream_of(document).result.preview[0]["params"]
    assert params["wandb"]["project"] == "p"
    assert params["wandb"]["name"].startswith("exp_")
    bad = packs_doc([{"id": "a", "params": {"wandb": "off"}}])
    with pytest.raises(ConfigError, match="wandb must be a mapping"):
        stream_of(bad)


def test_i5_config_id_ignores_option_ids_and_command() -> None:
    first = stream_of(packs_doc([{"id": "a", "params": {"x": 1}}])).result.preview[0]
    other = packs_doc([{"id": "zzz", "params": {"x": 1}}])
    other["command"] = {"program": "other"}
    second = stream_of(other).result.preview[0]
    assert first["config_id"] == second["config_id"]


def test_incremental_render_matches_render_command() -> None:
    document = packs_doc(
        [
            {"id": "a", "params": {"m": {"x": 1, "y": "a b"}, "l": [1, {"k": "v"}]}},
            {"id": "b", "params": {"m": {"x": "__delete__"}, "e": {}}},
        ],
        [
            {
                "id": "c",
                "tag": "it's 1",
                "params": {"m": {"z": None}, "wandb": {"project": "p"}},
            },
            {"id": "d", "params": {"m": "__delete__", "f": 1.5, "s": "it's"}},
        ],
        [
            {"id": "e", "params": {"cb": [2]}},
            {"id": "f", "params": {"cb": [3], "wandb": {}}},
        ],
        defaults={"params": {"cb": [1], "top": {"n": True}}, "tags": ["d"]},
        merge={"strategies": {"cb": "append_unique"}},
    )
    document["packs"][1]["priority"] = 1
    configs = stream_of(document).result.preview
    assert len(configs) == 8
    for config in configs:
        assert config["command"] == render_command("python app.py", config["params"])
        assert shlex.split(config["command"])[:2] == ["python", "app.py"]


def test_q20_default_run_ids_differ_within_a_second() -> None:
    assert re.fullmatch(r"run_\d{8}T\d{6}\.\d{6}Z", default_run_id(None))
    assert len({default_run_id("a b") for _ in range(50)}) > 1
    assert default_run_id("no dropout").endswith("Z_no-dropout")


@pytest.mark.parametrize("run_id", ["../up", "a/b", ".hidden", "", "x" * 201])
def test_q21_unsafe_run_ids_rejected(run_id: str, plan_doc: Any) -> None:
    with pytest.raises(ConfigError, match="invalid run id"):
        plan_doc(WORKED_EXAMPLE, run_id=run_id)


def test_q23_snapshot_keeps_imported_files_in_their_layout(tmp_path: Path) -> None:
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "packs.yaml").write_text(
        "packs:\n  seeds:\n    name: seed\n    options:\n"
        "      - {id: s1, params: {seed: 1}}\n",
        encoding="utf-8",
    )
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        "imports: [{path: defs/packs.yaml, package: lib}]\n"
        "command: {program: python}\n"
        "select: {packs: [{ref: lib.seeds}]}\n",
        encoding="utf-8",
    )
    result = plan_experiment(
        experiment, out=tmp_path / "out", batch_size=4, run_id="snap"
    )
    snapshot = result.run_root / "plan" / "snapshot"
    assert (snapshot / "exp.yaml").read_text() == experiment.read_text()
    assert (snapshot / "defs" / "packs.yaml").is_file()
    replanned = plan_experiment(
        snapshot / "exp.yaml", out=tmp_path / "again", batch_size=4
    )
    assert replanned.total_configs == 1


@pytest.mark.parametrize("where", ["defaults", "option"])
def test_params_keys_hydra_cannot_read_are_config_errors(where: str) -> None:
    params = {"bad key": 1}
    if where == "defaults":
        document = packs_doc([{"id": "a", "params": {}}], defaults={"params": params})
        expected = "defaults.params.bad key"
    else:
        document = packs_doc([{"id": "a", "params": params}])
        expected = "params.bad key"
    with pytest.raises(ConfigError) as caught:
        stream_of(document)
    assert caught.value.key_path == expected
    assert caught.value.file == "/exp/experiment.yaml"


def test_i13_words_sorted_by_full_key_when_a_key_prefixes_another() -> None:
    document = packs_doc([{"id": "a", "params": {"a": {"x": 1}, "a-b": 2, "a_c": 3}}])
    command = stream_of(document).result.preview[0]["command"]
    assert command.split()[2:5] == ["++a-b=2", "++a.x=1", "++a_c=3"]


def test_nested_empty_mapping_and_empty_key() -> None:
    document = packs_doc([{"id": "a", "params": {"a": {"e": {}, "x": 1}}}])
    command = stream_of(document).result.preview[0]["command"]
    assert "'++a.e={}' ++a.x=1" in command
    bad = packs_doc([{"id": "a", "params": {"a": {"": 1}}}])
    with pytest.raises(ConfigError) as caught:
        stream_of(bad)
    assert caught.value.file == "/exp/experiment.yaml"


def test_interrupt_while_writing_leaves_no_run_directory(
    tmp_path: Path, plan_doc: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from geryon.plan.writer import ArtifactWriter

    real_add = ArtifactWriter.add
    calls = []

    def interrupted_add(self: ArtifactWriter, *record: Any) -> None:
        calls.append(record)
        if len(calls) == 5:
            raise KeyboardInterrupt
        real_add(self, *record)

    monkeypatch.setattr(ArtifactWriter, "add", interrupted_add)
    options = [{"id": f"o{i}", "params": {"n": i}} for i in range(20)]
    with pytest.raises(KeyboardInterrupt):
        plan_doc(packs_doc(options), run_id="ctrl_c")
    assert list((tmp_path / "out" / "runs").iterdir()) == []
