"""The DSL against geryon's own validator, composer and planner (spec Y12–Y13, Q40, Q41).

The central check: a non-trivial experiment written with the DSL plans exactly
like the same experiment written by hand (same config ids, commands and
batches), for the base selection and for run sets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from geryon.dsl import (
    Experiment,
    OptionSource,
    Pack,
    Predicate,
    PredicateArg,
    match_ids,
    pack_map,
    pack_param_values,
    require,
)
from geryon.errors import ConfigError
from geryon.plan import plan_experiment

OPTIONS_YAML = """\
option_sets:
  arch_family:
    - {id: arch_a, tag: arch-a, params: {model: {type: A}}}
    - {id: arch_b, tag: arch-b, params: {model: {type: B, width: 128}}}
  seeds:
    - {id: seed1, tag: seed1, params: {seed: 1}}
    - {id: seed2, tag: seed2, params: {seed: 2}}
  optimizers:
    - {id: sgd mom, params: {optim: {name: sgd, momentum: 0.9}}}
    - {id: adam, tag: "adam é", params: {optim: {name: adam}}}
    - {id: $lion, params: {optim: {name: "lion's"}}}
"""

GROUPS_YAML = """\
packs:
  architecture:
    name: architecture
    options_from: [{ref: arch_family}]
  seed_pack:
    name: seed
    options_from: [{ref: seeds}]
groups:
  core:
    - ref: seed_pack
"""

HAND_WRITTEN_YAML = """\
imports:
  - {path: ../defs/options.yaml, package: presets}
  - {path: ../defs/groups.yaml, package: presets}
schema: {version: 4}
command:
  program: python
  args: [app.py, --name, "it's"]
defaults:
  params: {train: {epochs: 3, batch_size: 32}}
  tags: [base]
merge:
  mode: merge
select:
  groups: [presets.core]
  packs:
    - ref: presets.architecture
      replace_options: true
      options_from:
        - {ref: presets.arch_family, include_ids: [arch_b, arch_a]}
    - name: optimizer
      options_from: [{ref: presets.optimizers}]
    - name: lr
      options:
        - {id: lr_0.1, tag: "lr:0.1", params: {train: {lr: 0.1}}}
        - {id: lr_0.01, tag: "lr:0.01", params: {train: {lr: 0.01}}}
        - {id: lr_0.001, tag: "lr:0.001", params: {train: {lr: 0.001}}}
constraints:
  exclude:
    - when: {architecture: [arch_b], lr: [lr_0.1]}
  predicates:
    - id: match_architecture_optimizer
      args:
        left: {pack_id: architecture}
        right: {pack_id: optimizer}
      expr:
        or:
          - and: [{eq: [$left, arch_a]}, {eq: [$right, sgd mom]}]
          - and: [{eq: [$left, arch_a]}, {eq: [$right, $$lion]}]
          - and: [{eq: [$left, arch_b]}, {eq: [$right, adam]}]
          - and: [{eq: [$left, arch_b]}, {eq: [$right, $$lion]}]
    - id: require
      args:
        pack_optimizer: {pack_id: optimizer}
        param_train_lr: {param: train.lr}
        param_train_epochs: {param: train.epochs}
      expr:
        or:
          - and: [{eq: [$pack_optimizer, sgd mom]}, {gte: [$param_train_lr, 0.01]}]
          - and: [{eq: [$pack_optimizer, adam]}, {in: [$param_train_lr, [0.01, 0.001]]}]
          - and:
              - {eq: [$pack_optimizer, $$lion]}
              - {eq: [$param_train_lr, 0.001]}
              - {between: [$param_train_epochs, 1, 5]}
run_sets:
  quick:
    append: {defaults: {tags: [quick]}}
    replace: {select: {groups: []}}
  lion_only:
    extends: [quick]
    patch_packs:
      optimizer:
        name: optimizer
        options_from: [{ref: presets.optimizers, include_ids: [$lion]}]
"""


def build_experiment() -> Experiment:
    """The DSL twin of HAND_WRITTEN_YAML."""
    return (
        Experiment()
        .add_import("../defs/options.yaml", package="presets")
        .add_import("../defs/groups.yaml", package="presets")
        .command("python", "app.py", "--name", "it's")
        .defaults(params={"train": {"epochs": 3, "batch_size": 32}}, tags=["base"])
        .merge(mode="merge")
        .select_group("presets.core")
        .add_pack_ref(
            "presets.architecture",
            replace_options=True,
            options_from=[
                OptionSource(
                    ref="presets.arch_family", include_ids=["arch_b", "arch_a"]
                )
            ],
        )
        .add_pack(
            Pack(
                name="optimizer", options_from=[OptionSource(ref="presets.optimizers")]
            )
        )
        .add_pack(
            pack_param_values(
                pack_name="lr",
                param_path="train.lr",
                values=[0.1, 0.01, 1e-3],
                id_prefix="lr",
                tag_prefix="lr",
            )
        )
        .exclude({"architecture": "arch_b", "lr": "lr_0.1"})
        .add_predicate(
            match_ids(
                left_pack="architecture",
                right_pack="optimizer",
                pairs=[
                    ("arch_a", "sgd mom"),
                    ("arch_a", "$lion"),
                    ("arch_b", "adam"),
                    ("arch_b", "$lion"),
                ],
            )
        )
        .add_predicate(
            require(
                rules=[
                    ({"optimizer": "sgd mom"}, {"train.lr": ("gte", 0.01)}),
                    ({"optimizer": "adam"}, {"train.lr": ("in", [0.01, 0.001])}),
                    (
                        {"optimizer": "$lion"},
                        {"train.lr": 0.001, "train.epochs": ("between", 1, 5)},
                    ),
                ]
            )
        )
        .variant("quick", replace_groups=[], append={"defaults": {"tags": ["quick"]}})
        .run_set(
            "lion_only",
            extends=["quick"],
            patch_packs={
                "optimizer": Pack(
                    name="optimizer",
                    options_from=[
                        OptionSource(ref="presets.optimizers", include_ids=["$lion"])
                    ],
                )
            },
        )
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """``defs/`` with the library files and an empty ``exp/`` beside it."""
    (tmp_path / "defs").mkdir()
    (tmp_path / "defs" / "options.yaml").write_text(OPTIONS_YAML, encoding="utf-8")
    (tmp_path / "defs" / "groups.yaml").write_text(GROUPS_YAML, encoding="utf-8")
    (tmp_path / "exp").mkdir()
    return tmp_path


def plan_lines(
    experiment: Path, out: Path, run_set: str | None
) -> dict[str, list[Any]]:
    result = plan_experiment(
        experiment, out=out, batch_size=4, run_set=run_set, run_id="same"
    )
    assert result.run_root is not None
    plan_dir = result.run_root / "plan"
    return {
        name: [
            json.loads(line)
            for line in (plan_dir / name).read_text("utf-8").splitlines()
        ]
        for name in ("configs.jsonl", "batches.jsonl")
    }


@pytest.mark.parametrize("run_set", [None, "quick", "lion_only"])
def test_dsl_file_plans_exactly_like_the_hand_written_file(
    project: Path, run_set: str | None
) -> None:
    hand = project / "exp" / "hand.yaml"
    hand.write_text(HAND_WRITTEN_YAML, encoding="utf-8")
    dsl = build_experiment().to_yaml_file(
        project / "exp" / "dsl.yaml",
        validate_with_geryon=True,
        validate_run_set=run_set,
    )

    from_hand = plan_lines(hand, project / "out_hand", run_set)
    from_dsl = plan_lines(dsl, project / "out_dsl", run_set)

    assert from_dsl == from_hand
    configs = from_dsl["configs.jsonl"]
    assert len(configs) == {None: 12, "quick": 6, "lion_only": 2}[run_set]
    assert len({config["config_id"] for config in configs}) == len(configs)


def test_config_count_of_the_example(project: Path) -> None:
    exp = build_experiment()
    base = project / "exp"
    assert exp.planned_config_count(base_dir=base) == 12
    assert exp.planned_config_count("lion_only", base_dir=base) == 2


def test_validate_with_geryon_resolves_relative_imports_q40(project: Path) -> None:
    target = project / "exp" / "deeper" / "e.yaml"
    exp = build_experiment()
    with pytest.raises(ConfigError, match=re.escape(str(target))):
        exp.to_yaml_file(target, validate_with_geryon=True)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []

    written = exp.to_yaml_file(project / "exp" / "e.yaml", validate_with_geryon=True)
    assert Experiment.from_yaml(written).document == exp.document


def test_composer_errors_name_the_target_file(project: Path) -> None:
    exp = build_experiment().select_group("presets.missing")
    target = project / "exp" / "e.yaml"
    with pytest.raises(ConfigError) as caught:
        exp.to_yaml_file(target, validate_with_geryon=True)
    assert "presets.missing" in str(caught.value)
    assert caught.value.file == str(target)
    assert ".dsl-check" not in str(caught.value)
    assert sorted(p.name for p in target.parent.iterdir()) == []


def test_config_budget(project: Path) -> None:
    target = project / "exp" / "e.yaml"
    exp = build_experiment()
    with pytest.raises(
        ConfigError,
        match=re.escape("the experiment plans 12 configs, more than max_configs=6"),
    ):
        exp.to_yaml_file(target, max_configs=6)
    assert not target.exists()
    exp.to_yaml_file(target, max_configs=2, config_budget_run_set="lion_only")
    assert target.exists()


@pytest.mark.parametrize("limit", [0, -1, True, 2.5])
def test_config_budget_must_be_positive(project: Path, limit: Any) -> None:
    with pytest.raises(
        ConfigError, match="argument 'max_configs' must be a positive integer"
    ):
        build_experiment().to_yaml_file(project / "exp" / "e.yaml", max_configs=limit)


def test_strict_emission_uses_the_yaml_schema_q41() -> None:
    exp = Experiment().command("python").add_pack_def("p", {"name": "p", "ref": "x"})
    with pytest.raises(ConfigError) as caught:
        exp.to_dict()
    assert caught.value.file == "Experiment.to_dict(strict=True)"
    assert caught.value.key_path == "packs.p.ref"
    assert exp.to_dict(strict=False)["packs"]["p"] == {"name": "p", "ref": "x"}


def test_strict_emission_checks_expression_structure() -> None:
    exp = Experiment().add_predicate(
        Predicate(id="p", args={"a": PredicateArg.pack_id("m")}, expr={"and": 3})
    )
    with pytest.raises(ConfigError) as caught:
        exp.to_yaml()
    assert caught.value.key_path == "constraints.predicates[0].expr.and"


def test_from_dict_completes_the_schema_block() -> None:
    exp = Experiment.from_dict({"command": {"program": "python"}})
    assert exp.document["schema"] == {"version": 4, "unknown_key_behavior": "error"}
    warn = Experiment.from_dict({"schema": {"unknown_key_behavior": "warn"}})
    assert warn.document["schema"] == {"version": 4, "unknown_key_behavior": "warn"}


def test_from_dict_validates() -> None:
    with pytest.raises(ConfigError) as caught:
        Experiment.from_dict({"schema": {"version": 3}})
    assert caught.value.file == "Experiment.from_dict"
    assert caught.value.key_path == "schema.version"


def test_from_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("command: {program: python, shell: true}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        Experiment.from_yaml(path)
    assert caught.value.file == str(path)
    assert caught.value.key_path == "command.shell"


def test_from_yaml_round_trips_the_hand_written_file(project: Path) -> None:
    hand = project / "exp" / "hand.yaml"
    hand.write_text(HAND_WRITTEN_YAML, encoding="utf-8")
    loaded = Experiment.from_yaml(hand)
    copy = loaded.to_yaml_file(project / "exp" / "copy.yaml", validate_with_geryon=True)
    assert plan_lines(copy, project / "o1", None) == plan_lines(
        hand, project / "o2", None
    )


HOSTILE_IDS = [
    "it's",
    'say "hi"',
    "$dollar",
    "$$two",
    "yes",
    "010",
    "é ü",
    "a: b",
    "#c",
    "x=1,y",
]


def test_hostile_ids_reach_the_plan_intact(tmp_path: Path) -> None:
    exp = (
        Experiment()
        .command("python", "app.py")
        .add_pack(
            pack_map(pack_name="odd pack", options={i: {"v": i} for i in HOSTILE_IDS})
        )
        .add_pack(pack_map(pack_name="other", options={"x": {"o": 1}, "$y": {"o": 2}}))
        .exclude({"odd pack": ["yes"]})
        .add_predicate(
            match_ids(
                left_pack="odd pack",
                right_pack="other",
                pairs=[(i, "x") for i in HOSTILE_IDS] + [("$dollar", "$y")],
            )
        )
        .add_predicate(
            require(
                rules=[
                    ({"other": "$y"}, {"v": "$dollar"}),
                    ({"other": "x"}, {"v": ("ne", "#")}),
                ]
            )
        )
    )
    path = exp.to_yaml_file(
        tmp_path / "dir with space" / "é.yaml", validate_with_geryon=True
    )
    lines = plan_lines(path, tmp_path / "out", None)["configs.jsonl"]
    selected = [
        tuple(c["selected_options"][p] for p in ("odd pack", "other")) for c in lines
    ]
    expected = [(i, "x") for i in HOSTILE_IDS if i != "yes"]
    expected.insert(HOSTILE_IDS.index("$dollar") + 1, ("$dollar", "$y"))
    assert selected == expected
    assert [c["params"]["v"] for c in lines] == [pair[0] for pair in expected]


def test_no_scratch_file_is_left_behind(project: Path) -> None:
    base = project / "exp"
    build_experiment().planned_config_count(base_dir=base)
    build_experiment().to_yaml_file(
        base / "e.yaml", validate_with_geryon=True, max_configs=50
    )
    assert sorted(p.name for p in base.iterdir()) == ["e.yaml"]


def test_from_yaml_reports_syntax_errors(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("command: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="YAML syntax error") as caught:
        Experiment.from_yaml(path)
    assert caught.value.file == str(path)


def test_validate_with_geryon_runs_the_planner_checks(project: Path) -> None:
    exp = build_experiment().exclude({"no such pack": "x"})
    target = project / "exp" / "e.yaml"
    with pytest.raises(ConfigError, match="no such pack"):
        exp.to_yaml_file(target, validate_with_geryon=True)
    assert not target.exists()
    exp.to_yaml_file(target)
    assert target.exists()


def test_from_yaml_refuses_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    with pytest.raises(
        ConfigError, match="the document must be a mapping, got null"
    ) as caught:
        Experiment.from_yaml(path)
    assert caught.value.file == str(path)


def test_from_yaml_refuses_dates_q17(tmp_path: Path) -> None:
    path = tmp_path / "dated.yaml"
    path.write_text("defaults: {params: {day: 2024-01-01}}\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"holds date .* at document\.defaults\.params\.day"
    ):
        Experiment.from_yaml(path)


def test_from_dict_refuses_non_data_values() -> None:
    with pytest.raises(ConfigError) as caught:
        Experiment.from_dict({"defaults": {"params": {"s": {1, 2}}}})
    assert str(caught.value).startswith(
        "Experiment.from_dict: argument 'document' holds set {1, 2} at "
        "document.defaults.params.s"
    )
