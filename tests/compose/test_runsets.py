"""Run sets (spec R1–R14) and the quirk decisions Q5 and Q6."""

from __future__ import annotations

from pathlib import Path

import pytest

from geryon.compose import compose, run_set_names
from geryon.errors import ConfigError

from .conftest import COMMAND, Write, compose_error, pack_summary

BASE = (
    COMMAND
    + """\
option_sets:
  seeds: [{id: s1, params: {seed: 1}}, {id: s2, params: {seed: 2}}]
packs:
  seed_pack: {name: seed, options_from: [{ref: seeds}]}
groups:
  core: [{ref: seed_pack}]
defaults: {params: {lr: 0.1, nested: {a: 1}}, tags: [base]}
select:
  groups: [core]
  packs:
    - name: optimizer
      options: [{id: sgd, params: {opt: sgd}}, {id: adam, params: {opt: adam}}]
    - ref: seed_pack
"""
)


def with_run_sets(write: Write, run_sets: str, base: str = BASE) -> Path:
    return write("exp.yaml", base + "run_sets:\n" + run_sets)


def test_R1_only_the_root_run_sets_count(write: Write) -> None:
    write("lib.yaml", "run_sets: {lib_only: {}}\n")
    path = write("exp.yaml", "imports: [{path: lib.yaml}]\n" + BASE)
    composition = compose(path)
    assert composition.run_set_names == []
    with pytest.raises(ConfigError, match="unknown run set 'lib_only'"):
        compose(path, run_set="lib_only")


@pytest.mark.parametrize(
    ("run_sets", "key_path", "fragment"),
    [
        ("  - a\n", "run_sets", "expected a mapping or null"),
        ("  '  ': {}\n", "run_sets", "key '  ' is not allowed"),
        ("  a: [extends]\n", "run_sets.a", "expected a mapping"),
        ("  a: {extend: [b]}\n", "run_sets.a.extend", "unknown key 'extend'"),
        ("  a: {extends: b}\n", "run_sets.a.extends", "expected a list or null"),
        (
            "  a: {extends: ['']}\n",
            "run_sets.a.extends[0]",
            "expected a non-empty string",
        ),
    ],
)
def test_R1_R2_R3_run_set_shapes(
    write: Write, run_sets: str, key_path: str, fragment: str
) -> None:
    err = compose_error(with_run_sets(write, run_sets))
    assert err.key_path == key_path
    assert fragment in str(err)


def test_R1_null_run_sets(write: Write) -> None:
    path = write("exp.yaml", BASE + "run_sets: null\n")
    assert compose(path).run_set_info == {
        "selected": None,
        "available": [],
        "resolved_order": [],
        "applied_operations": [],
    }


def test_R4_linearisation_parents_first_first_occurrence_wins(write: Write) -> None:
    path = with_run_sets(
        write,
        "  A: {append: {defaults: {tags: [a]}}}\n"
        "  B: {extends: [A], append: {defaults: {tags: [b]}}}\n"
        "  C: {extends: [A], append: {defaults: {tags: [c]}}}\n"
        "  D: {extends: [C, B], append: {defaults: {tags: [d]}}}\n",
    )
    composition = compose(path, run_set="D")
    assert composition.run_set_info["resolved_order"] == ["A", "C", "B", "D"]
    assert composition.document["defaults"]["tags"] == ["base", "a", "c", "b", "d"]


def test_R5_unknown_selected_run_set_lists_known_names(write: Write) -> None:
    path = with_run_sets(write, "  zeta: {}\n  alpha: {}\n")
    err = compose_error(path, run_set="beta")
    assert err.file == str(path)
    assert "unknown run set 'beta'. Known run sets: alpha, zeta" in str(err)


def test_R5_unknown_parent(write: Write) -> None:
    path = with_run_sets(write, "  a: {extends: [ghost]}\n")
    err = compose_error(path)
    assert err.key_path == "run_sets.a.extends[0]"
    assert "unknown run set 'ghost'" in str(err)


def test_R5_inheritance_cycle_shows_chain(write: Write) -> None:
    path = with_run_sets(
        write, "  a: {extends: [b]}\n  b: {extends: [c]}\n  c: {extends: [a]}\n"
    )
    err = compose_error(path, run_set="a")
    assert err.key_path == "run_sets.c.extends[0]"
    assert (
        "run_set inheritance cycle detected:\n  1. a -> b\n  2. b -> c\n  3. c -> a"
        in str(err)
    )


def test_R5_self_extension_is_a_cycle(write: Write) -> None:
    path = with_run_sets(write, "  a: {extends: [a]}\n")
    assert "run_set inheritance cycle detected:\n  1. a -> a" in str(
        compose_error(path)
    )


def test_R6_order_append_then_replace_then_patch(write: Write) -> None:
    path = with_run_sets(
        write,
        "  x:\n"
        "    patch_packs: {optimizer: {options: [{id: sgd, params: {opt: sgd}}]}}\n"
        "    replace: {defaults: {tags: [r]}}\n"
        "    append: {defaults: {tags: [a]}}\n",
    )
    composition = compose(path, run_set="x")
    operations = [
        op["operation"] for op in composition.run_set_info["applied_operations"]
    ]
    assert operations == ["append", "replace", "patch_packs"]
    assert composition.document["defaults"]["tags"] == ["r"]
    assert pack_summary(composition)[1] == ("optimizer", ["sgd"])


def test_R6_run_sets_do_not_change_the_root_or_each_other(write: Write) -> None:
    path = with_run_sets(
        write, "  x: {append: {defaults: {params: {nested: {b: 2}}}}}\n"
    )
    assert compose(path, run_set="x").document["defaults"]["params"]["nested"] == {
        "a": 1,
        "b": 2,
    }
    assert compose(path).document["defaults"]["params"]["nested"] == {"a": 1}


@pytest.mark.parametrize("operation", ["append", "replace"])
def test_R7_only_four_roots(write: Write, operation: str) -> None:
    path = with_run_sets(write, f"  x: {{{operation}: {{command: {{program: sh}}}}}}\n")
    err = compose_error(path)
    assert err.key_path == f"run_sets.x.{operation}.command"
    assert "Allowed keys here: select, defaults, constraints, merge" in str(err)


def test_R7_empty_payload_is_not_recorded(write: Write) -> None:
    path = with_run_sets(write, "  x: {append: {}, replace: null, patch_packs: {}}\n")
    assert compose(path, run_set="x").run_set_info["applied_operations"] == []


def test_R8_append_semantics(write: Write) -> None:
    path = with_run_sets(
        write,
        "  x:\n    append:\n"
        "      defaults: {params: {lr: 0.5, new: 1, nested: {b: 2}}, tags: [t]}\n"
        "      merge: {mode: none}\n",
    )
    document = compose(path, run_set="x").document
    assert document["defaults"] == {
        "params": {"lr": 0.5, "nested": {"a": 1, "b": 2}, "new": 1},
        "tags": ["base", "t"],
    }
    assert document["merge"] == {"mode": "none"}


def test_R8_append_to_select_packs_concatenates(write: Write) -> None:
    path = with_run_sets(
        write,
        "  x: {append: {select: {packs: [{name: extra, options: [{id: e, params: {}}]}]}}}\n",
    )
    names = [name for name, _ in pack_summary(compose(path, run_set="x"))]
    assert names == ["seed", "optimizer", "seed", "extra"]


def test_R9_replace_keeps_groups_when_replacing_packs(write: Write) -> None:
    path = with_run_sets(
        write,
        "  x: {replace: {select: {packs: [{name: only, options: [{id: o, params: {}}]}]}}}\n"
        "  y: {replace: {select: {groups: [],\n"
        "        packs: [{name: only, options: [{id: o, params: {}}]}]}}}\n",
    )
    assert [name for name, _ in pack_summary(compose(path, run_set="x"))] == [
        "seed",
        "only",
    ]
    assert [name for name, _ in pack_summary(compose(path, run_set="y"))] == ["only"]


def test_R9_replace_lists_and_merges_mappings(write: Write) -> None:
    path = with_run_sets(
        write, "  x: {replace: {defaults: {params: {nested: {b: 2}}, tags: [z]}}}\n"
    )
    assert compose(path, run_set="x").document["defaults"] == {
        "params": {"lr": 0.1, "nested": {"a": 1, "b": 2}},
        "tags": ["z"],
    }


def test_R10_patch_packs_replaces_the_whole_named_entry(write: Write) -> None:
    path = with_run_sets(
        write,
        "  x: {patch_packs: {' optimizer ': {options: [{id: lion, params: {opt: lion}}]}}}\n",
    )
    composition = compose(path, run_set="x")
    assert pack_summary(composition) == [
        ("seed", ["s1", "s2"]),
        ("optimizer", ["lion"]),
        ("seed", ["s1", "s2"]),
    ]
    payload = composition.run_set_info["applied_operations"][0]["payload"]
    assert payload == {
        " optimizer ": {"options": [{"id": "lion", "params": {"opt": "lion"}}]}
    }


def test_R10_patch_needs_select_packs(write: Write) -> None:
    base = COMMAND + "select: {groups: []}\n"
    path = with_run_sets(
        write, "  x: {patch_packs: {p: {name: p, options: []}}}\n", base
    )
    err = compose_error(path)
    assert err.key_path == "run_sets.x.patch_packs"
    assert "patch_packs needs select.packs to be a list at this point" in str(err)


def test_R10_unnamed_entries_and_group_packs_are_never_matched(write: Write) -> None:
    path = with_run_sets(
        write, "  x: {patch_packs: {seed: {options: [{id: q, params: {}}]}}}\n"
    )
    err = compose_error(path)
    assert err.key_path == "run_sets.x.patch_packs.seed"
    assert "no entry of select.packs has the name 'seed'" in str(err)
    assert "Entries with a literal name: optimizer" in str(err)


def test_R10_replacement_name_must_match(write: Write) -> None:
    path = with_run_sets(
        write, "  x: {patch_packs: {optimizer: {name: other, options: []}}}\n"
    )
    err = compose_error(path)
    assert err.key_path == "run_sets.x.patch_packs.optimizer.name"
    assert "differs from the patched pack 'optimizer'" in str(err)


def test_R10_patched_selector_errors_point_into_the_run_set(write: Write) -> None:
    path = with_run_sets(write, "  fast: {patch_packs: {optimizer: {ref: missing}}}\n")
    err = compose_error(path, run_set="fast")
    assert err.key_path == "run_sets.fast.patch_packs.optimizer.ref"
    assert "with run set 'fast' (applied in order fast): unknown pack 'missing'" in str(
        err
    )


def test_R10_patch_with_a_pack_ref_keeps_the_name(write: Write) -> None:
    path = with_run_sets(write, "  x: {patch_packs: {optimizer: {ref: seed_pack}}}\n")
    assert pack_summary(compose(path, run_set="x"))[1] == ("optimizer", ["s1", "s2"])


def test_R11_run_set_name_is_trimmed_and_must_not_be_empty(write: Write) -> None:
    path = with_run_sets(write, "  fast: {}\n")
    assert compose(path, run_set="  fast ").run_set_info["selected"] == "fast"
    assert "--run-set must not be empty" in str(compose_error(path, run_set="   "))


def test_R11_without_run_set_no_overlay(write: Write) -> None:
    path = with_run_sets(write, "  x: {replace: {defaults: {tags: [x]}}}\n")
    composition = compose(path)
    assert composition.document["defaults"]["tags"] == ["base"]
    assert composition.run_set_info["available"] == ["x"]


@pytest.mark.parametrize("names", [["zeta", "alpha", "mid dle"], ["ünï", "a"]])
def test_R12_run_set_names_are_sorted(write: Write, names: list[str]) -> None:
    run_sets = "".join(f"  '{name}': {{}}\n" for name in names)
    path = with_run_sets(write, run_sets)
    assert run_set_names(path) == sorted(names)
    assert compose(path).run_set_names == sorted(names)


def test_R12_run_set_names_does_not_load_imports(write: Write) -> None:
    path = write(
        "exp.yaml",
        "imports: [{path: missing.yaml}]\n" + BASE + "run_sets: {b: {}, a: {}}\n",
    )
    assert run_set_names(path) == ["a", "b"]


def test_R14_run_set_info(write: Write) -> None:
    path = with_run_sets(
        write,
        "  base: {replace: {select: {groups: [core]}}}\n"
        "  fast: {extends: [base], append: {defaults: {tags: [fast]}}}\n",
    )
    composition = compose(path, run_set="fast")
    assert composition.run_set_info == {
        "selected": "fast",
        "available": ["base", "fast"],
        "resolved_order": ["base", "fast"],
        "applied_operations": [
            {
                "run_set": "base",
                "operation": "replace",
                "payload": {"select": {"groups": ["core"]}},
            },
            {
                "run_set": "fast",
                "operation": "append",
                "payload": {"defaults": {"tags": ["fast"]}},
            },
        ],
    }
    assert composition.diagnostics["run_set"] == composition.run_set_info


def test_Q5_errors_in_unselected_run_sets_are_reported(write: Write) -> None:
    path = with_run_sets(
        write, "  ok: {}\n  broken: {append: {select: {groups: [nowhere]}}}\n"
    )
    err = compose_error(path, run_set="ok")
    assert err.key_path == "run_sets.broken.append.select.groups[0]"
    assert (
        "with run set 'broken' (applied in order broken): unknown group 'nowhere'"
        in str(err)
    )
    assert "with run set 'broken'" in str(compose_error(path))


def test_Q5_selected_run_set_is_checked_first(write: Write) -> None:
    path = with_run_sets(
        write,
        "  a: {append: {select: {groups: [bad_a]}}}\n  b: {append: {select: {groups: [bad_b]}}}\n",
    )
    assert "bad_b" in str(compose_error(path, run_set="b"))
    assert "bad_a" in str(compose_error(path))


def test_Q5_problems_of_the_base_are_reported_with_a_run_set(write: Write) -> None:
    base = BASE.replace("groups: [core]\n  packs", "groups: [nope]\n  packs")
    path = with_run_sets(write, "  fix: {replace: {select: {groups: [core]}}}\n", base)
    err = compose_error(path, run_set="fix")
    assert err.key_path == "select.groups[0]"
    assert str(err).endswith("unknown group 'nope'. Known groups: core")


def test_R10_group_selector_cannot_patch_a_pack(write: Write) -> None:
    path = with_run_sets(write, "  x: {patch_packs: {optimizer: {group: core}}}\n")
    err = compose_error(path)
    assert err.key_path == "run_sets.x.patch_packs.optimizer.group"
    assert "unknown key 'group'" in str(err)


def test_run_set_select_unknown_keys_follow_root_behaviour(write: Write) -> None:
    path = with_run_sets(write, "  x: {append: {select: {pakcs: []}}}\n")
    err = compose_error(path)
    assert err.key_path == "run_sets.x.append.select.pakcs"
    warned = write(
        "warn.yaml",
        "schema: {unknown_key_behavior: warn}\n"
        + BASE
        + "run_sets:\n  x: {append: {select: {pakcs: []}}}\n",
    )
    composition = compose(warned, run_set="x")
    assert composition.diagnostics["warnings"] == [
        f"{warned}: unknown key 'run_sets.x.append.select.pakcs' ignored "
        "(unknown_key_behavior: warn)"
    ]
    assert composition.run_set_info["applied_operations"][0]["payload"] == {
        "select": {}
    }


@pytest.mark.parametrize(
    ("first", "second"), [("a b", "a-b"), ("x/y", "x?y"), ("v1", " v1 ")]
)
def test_Q6_names_with_the_same_run_id_suffix_are_rejected(
    write: Write, first: str, second: str
) -> None:
    path = with_run_sets(write, f"  '{first}': {{}}\n  '{second}': {{}}\n")
    err = compose_error(path)
    assert err.key_path == f"run_sets.{second}"
    assert (
        f"run set names '{first}' and '{second}' both become the run-id suffix"
        in str(err)
    )
    with pytest.raises(ConfigError, match="both become the run-id suffix"):
        run_set_names(path)


def test_seed_readme_run_set_example(write: Write) -> None:
    write(
        "defs/presets.yaml",
        """\
        option_sets:
          seeds: [{id: seed1, params: {seed: 1}}, {id: seed2, params: {seed: 2}}]
        packs:
          seed_pack: {name: seed, options_from: [{ref: seeds}]}
          reward:
            name: reward
            options: [{id: pbrs, params: {reward: {mode: pbrs}}}]
        groups:
          core: [{ref: seed_pack}]
        """,
    )
    path = write(
        "experiment.yaml",
        """\
        imports: [{path: defs/presets.yaml, package: presets}]
        command: {program: python, args: ["-c", "print('run')"]}
        select:
          packs: [{ref: presets.reward}]
        run_sets:
          baseline:
            replace:
              select:
                groups: [presets.core]
          no_pbrs:
            extends: [baseline]
            replace:
              select:
                packs:
                  - ref: presets.reward
                    replace_options: true
                    options:
                      - id: sparse
                        params:
                          reward:
                            mode: sparse
        """,
    )
    assert run_set_names(path) == ["baseline", "no_pbrs"]
    assert pack_summary(compose(path, run_set="baseline")) == [
        ("seed", ["seed1", "seed2"]),
        ("reward", ["pbrs"]),
    ]
    composition = compose(path, run_set="no_pbrs")
    assert pack_summary(composition) == [
        ("seed", ["seed1", "seed2"]),
        ("reward", ["sparse"]),
    ]
    assert composition.run_set_info["resolved_order"] == ["baseline", "no_pbrs"]
