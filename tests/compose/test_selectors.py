"""Selection, selectors, option sources, filters and the composed output (C19–C32)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from geryon.compose import compose

from .conftest import COMMAND, Write, compose_error, pack_summary

DEFS = """\
option_sets:
  seeds: [{id: s1, params: {seed: 1}}, {id: s2, params: {seed: 2}}, {id: s3, params: {seed: 3}}]
  opts: [{id: sgd, params: {opt: sgd}}, {id: adam, params: {opt: adam}}]
packs:
  seed_pack: {name: seed, options_from: [{ref: seeds}]}
  opt_pack: {name: optimizer, options_from: [{ref: opts}], priority: 2}
groups:
  core: [{ref: seed_pack}]
  all: [{group: core}, {ref: opt_pack}]
"""


def experiment(write: Write, select: str, extra: str = "") -> Path:
    return write("exp.yaml", DEFS + COMMAND + extra + "select:\n" + select)


def test_seed_readme_composed_example_yields_only_arch_b_with_core() -> None:
    source = Path(__file__).parent / "data" / "seed_readme"
    composition = compose(source / "experiment.yaml")
    assert pack_summary(composition) == [
        ("seed", ["seed1", "seed2"]),
        ("architecture", ["arch_b"]),
    ]
    assert composition.document["packs"][1]["options"] == [
        {"id": "arch_b", "tag": "arch-b", "params": {"model": {"type": "B"}}}
    ]
    expansion = composition.diagnostics["expansion"]
    assert [item["ref"] for item in expansion["group_refs"]] == ["presets.core"]
    assert expansion["final_pack_count"] == 2


def test_C19_select_null_means_no_packs(write: Write) -> None:
    path = write("exp.yaml", COMMAND + "select: null\n")
    assert compose(path).document["packs"] == []


def test_C19_unknown_select_key_is_an_error(write: Write) -> None:
    path = experiment(write, "  groups: [core]\n  pack: []\n")
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(path), "select.pack")
    assert "unknown key 'pack' in select" in str(err)


def test_C19_unknown_select_key_with_warn_is_dropped(write: Write) -> None:
    path = experiment(
        write,
        "  groups: [core]\n  pack: [x]\n",
        extra="schema: {unknown_key_behavior: warn}\n",
    )
    composition = compose(path)
    assert pack_summary(composition) == [("seed", ["s1", "s2", "s3"])]
    assert composition.diagnostics["warnings"] == [
        f"{path}: unknown key 'select.pack' ignored (unknown_key_behavior: warn)"
    ]


@pytest.mark.parametrize(
    ("select", "key_path", "fragment"),
    [
        ("  groups: core\n", "select.groups", "expected a list or null"),
        ("  groups: ['  ']\n", "select.groups[0]", "expected a non-empty string"),
        ("  groups: [1]\n", "select.groups[0]", "found the number 1"),
        ("  packs: {ref: seed_pack}\n", "select.packs", "expected a list or null"),
        ("  packs: [seed_pack]\n", "select.packs[0]", "expected a mapping"),
    ],
)
def test_C20_C21_select_shapes(
    write: Write, select: str, key_path: str, fragment: str
) -> None:
    err = compose_error(experiment(write, select))
    assert err.key_path == key_path
    assert fragment in str(err)


def test_C20_group_names_are_trimmed(write: Write) -> None:
    path = experiment(write, "  groups: ['  core ']\n")
    assert pack_summary(compose(path)) == [("seed", ["s1", "s2", "s3"])]


def test_C22_groups_come_first_whatever_the_key_order(write: Write) -> None:
    path = experiment(write, "  packs: [{ref: opt_pack}]\n  groups: [core]\n")
    assert [name for name, _ in pack_summary(compose(path))] == ["seed", "optimizer"]


def test_C22_C24_depth_first_flattening_and_duplicates(write: Write) -> None:
    path = experiment(write, "  groups: [all, core]\n  packs: [{group: core}]\n")
    names = [name for name, _ in pack_summary(compose(path))]
    assert names == ["seed", "optimizer", "seed", "seed"]


def test_C23_group_selector_with_other_keys_is_an_error(write: Write) -> None:
    err = compose_error(experiment(write, "  packs: [{group: core, name: x}]\n"))
    assert err.key_path == "select.packs[0].name"
    assert "unknown key 'name'. Allowed keys here: group" in str(err)


def test_C24_group_entries_resolve_in_the_group_package(write: Write) -> None:
    write("lib.yaml", DEFS)
    path = write(
        "exp.yaml",
        "imports: [{path: lib.yaml, package: lib}]\n"
        + COMMAND
        + "select: {groups: [lib.all]}\n",
    )
    assert [name for name, _ in pack_summary(compose(path))] == ["seed", "optimizer"]


def test_C24_group_include_cycle_shows_chain(write: Write) -> None:
    path = write(
        "exp.yaml",
        "groups:\n  a: [{group: b}]\n  b: [{group: c}]\n  c: [{group: a}]\n"
        + COMMAND
        + "select: {groups: [a]}\n",
    )
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(path), "groups.c[0].group")
    assert (
        "Group include cycle detected:\n  1. a -> b\n  2. b -> c\n  3. c -> a"
        in str(err)
    )


def test_C25_inline_pack(write: Write) -> None:
    path = experiment(
        write,
        "  packs:\n    - name: ' lr '\n      priority: 3\n"
        "      options_from: [{ref: seeds, include_ids: [s2]}]\n"
        "      options: [{id: x, params: {lr: 0.1}}]\n",
    )
    assert compose(path).document["packs"] == [
        {
            "name": "lr",
            "priority": 3,
            "options": [
                {"id": "s2", "params": {"seed": 2}},
                {"id": "x", "params": {"lr": 0.1}},
            ],
        }
    ]


@pytest.mark.parametrize(
    ("pack", "key_path", "fragment"),
    [
        (
            "{options: [{id: a, params: {}}]}",
            "select.packs[0]",
            "missing required key 'name'",
        ),
        ("{name: p, filter: {}}", "select.packs[0].filter", "unknown key 'filter'"),
        (
            "{name: p, replace_options: true}",
            "select.packs[0].replace_options",
            "unknown key",
        ),
        ("{name: p, options: [a]}", "select.packs[0].options[0]", "expected a mapping"),
        (
            "{name: p, options: {}}",
            "select.packs[0].options",
            "expected a list or null",
        ),
        ("{name: p, priority: x}", "select.packs[0].priority", "expected an integer"),
    ],
)
def test_C25_inline_pack_shape(
    write: Write, pack: str, key_path: str, fragment: str
) -> None:
    err = compose_error(experiment(write, f"  packs: [{pack}]\n"))
    assert err.key_path == key_path
    assert fragment in str(err)


def test_C25_zero_options_is_an_error(write: Write) -> None:
    path = experiment(
        write,
        "  packs: [{name: empty, options_from: [{ref: seeds, include_ids: [zz]}]}]\n",
    )
    err = compose_error(path)
    assert err.key_path == "select.packs[0]"
    assert "pack 'empty' resolved to zero options" in str(err)


@pytest.mark.parametrize("priority", ["true", "false", "1.5", "1.0"])
def test_C25_Q3_boolean_and_float_priorities_are_rejected(
    write: Write, priority: str
) -> None:
    err = compose_error(
        experiment(
            write,
            f"  packs: [{{name: p, priority: {priority}, options: [{{id: a, params: {{}}}}]}}]\n",
        )
    )
    assert err.key_path == "select.packs[0].priority"
    assert "expected an integer (not a boolean)" in str(err)


def test_C31_priority_is_kept_when_non_zero_and_omitted_when_zero(write: Write) -> None:
    path = experiment(
        write, "  packs: [{ref: opt_pack}, {ref: opt_pack, priority: 0}]\n"
    )
    packs = compose(path).document["packs"]
    assert packs[0]["priority"] == 2
    assert "priority" not in packs[1]
    assert list(packs[1]) == ["name", "options"]


def test_C26_pack_ref_rename_replace_add_filter(write: Write) -> None:
    path = experiment(
        write,
        "  packs:\n    - ref: seed_pack\n      name: seeds2\n      priority: 5\n"
        "      replace_options: true\n      options_from: [{ref: seeds, exclude_ids: [s1]}]\n"
        "      options: [{id: s9, params: {seed: 9}}]\n"
        "      filter: {exclude_ids: [s3]}\n",
    )
    assert pack_summary(compose(path)) == [("seeds2", ["s2", "s9"])]
    assert compose(path).document["packs"][0]["priority"] == 5


def test_C26_options_are_appended_to_the_definition_by_default(write: Write) -> None:
    path = experiment(
        write, "  packs: [{ref: seed_pack, options: [{id: s4, params: {seed: 4}}]}]\n"
    )
    assert pack_summary(compose(path)) == [("seed", ["s1", "s2", "s3", "s4"])]


def test_C26_errors_in_the_definition_surface_even_when_replaced(write: Write) -> None:
    path = write(
        "exp.yaml",
        "packs: {broken: {name: b, options_from: [{ref: nothing}]}}\n"
        + COMMAND
        + "select: {packs: [{ref: broken, replace_options: true,\n"
        "  options: [{id: a, params: {}}]}]}\n",
    )
    err = compose_error(path)
    assert err.key_path == "packs.broken.options_from[0].ref"


def test_C26_selector_that_removes_all_options(write: Write) -> None:
    path = experiment(
        write, "  packs: [{ref: seed_pack, filter: {include_ids: [nope]}}]\n"
    )
    err = compose_error(path)
    assert err.key_path == "select.packs[0]"
    assert "selector for 'seed_pack' removed all options" in str(err)


@pytest.mark.parametrize(
    ("selector", "key_path"),
    [
        (
            "{ref: seed_pack, replace_options: yes please}",
            "select.packs[0].replace_options",
        ),
        ("{ref: seed_pack, name: ''}", "select.packs[0].name"),
        ("{ref: seed_pack, group: core}", "select.packs[0].ref"),
        ("{ref: seed_pack, filter: {include: [a]}}", "select.packs[0].filter.include"),
        (
            "{ref: seed_pack, filter: {include_ids: [1]}}",
            "select.packs[0].filter.include_ids[0]",
        ),
    ],
)
def test_C26_C29_selector_shapes(write: Write, selector: str, key_path: str) -> None:
    assert (
        compose_error(experiment(write, f"  packs: [{selector}]\n")).key_path
        == key_path
    )


def test_C26_selector_options_from_resolve_in_the_selector_package(
    write: Write,
) -> None:
    write("lib.yaml", DEFS)
    write(
        "lib2.yaml",
        "option_sets: {opts: [{id: o, params: {}}]}\n"
        "groups: {g: [{ref: lib.seed_pack, replace_options: true, options_from: [{ref: opts}]}]}\n",
    )
    path = write(
        "exp.yaml",
        "imports: [{path: lib.yaml, package: lib}, {path: lib2.yaml, package: two}]\n"
        + COMMAND
        + "select: {groups: [two.g]}\n",
    )
    assert pack_summary(compose(path)) == [("seed", ["o"])]


def test_C28_options_from_entry_shape(write: Write) -> None:
    err = compose_error(
        experiment(
            write, "  packs: [{name: p, options_from: [{ref: seeds, only: [s1]}]}]\n"
        )
    )
    assert err.key_path == "select.packs[0].options_from[0].only"
    err = compose_error(
        experiment(write, "  packs: [{name: p, options_from: [{include_ids: [s1]}]}]\n")
    )
    assert "missing required key 'ref'" in str(err)


def test_C28_empty_source_is_fine_when_the_pack_has_other_options(write: Write) -> None:
    path = experiment(
        write,
        "  packs: [{name: p, options_from: [{ref: seeds, include_ids: [zz]}, {ref: opts}]}]\n",
    )
    assert pack_summary(compose(path)) == [("p", ["sgd", "adam"])]


def test_C28_options_are_copies(write: Write) -> None:
    path = experiment(
        write, "  packs: [{ref: seed_pack}, {ref: seed_pack, name: again}]\n"
    )
    packs = compose(path).document["packs"]
    packs[0]["options"][0]["params"]["seed"] = 99
    assert packs[1]["options"][0]["params"]["seed"] == 1


def test_C29_filter_trims_drops_blanks_keeps_order(write: Write) -> None:
    path = experiment(
        write,
        "  packs: [{name: p, options_from: [{ref: seeds, include_ids: [' s3 ', '', s1, s1, zz], "
        "exclude_ids: [s3]}]}]\n",
    )
    composition = compose(path)
    assert pack_summary(composition) == [("p", ["s1"])]
    source = composition.diagnostics["expansion"]["option_sources"][0]
    assert source["filter"] == {
        "include_ids": ["s3", "s1", "zz"],
        "exclude_ids": ["s3"],
    }
    assert (source["before"], source["after"]) == (3, 1)


def test_C29_ids_are_compared_as_written(write: Write) -> None:
    path = write(
        "exp.yaml",
        "option_sets: {s: [{id: ' a', params: {}}, {id: b, params: {}}]}\n"
        + COMMAND
        + "select: {packs: [{name: p, options_from: [{ref: s, include_ids: [a, b]}]}]}\n",
    )
    assert pack_summary(compose(path)) == [("p", ["b"])]


def test_C30_composed_document_keeps_sections_and_drops_composition_keys(
    write: Write,
) -> None:
    path = write(
        "exp.yaml",
        "defaults: {params: {lr: 0.1}, tags: [t]}\n"
        + DEFS
        + COMMAND
        + "merge: {mode: none}\nconstraints: {exclude: [{when: {seed: s1}}]}\n"
        "run_sets: {x: {}}\nselect: {groups: [core]}\n",
    )
    document = compose(path).document
    assert list(document) == [
        "defaults",
        "packs",
        "command",
        "merge",
        "constraints",
        "schema",
    ]
    assert document["defaults"] == {"params": {"lr": 0.1}, "tags": ["t"]}
    assert document["schema"] == {"version": 4, "unknown_key_behavior": "error"}


def test_C30_root_pack_definitions_are_not_selected_by_themselves(write: Write) -> None:
    path = experiment(write, "  groups: []\n")
    assert compose(path).document["packs"] == []


def test_C32_expansion_diagnostics(write: Write) -> None:
    path = experiment(
        write,
        "  groups: [all]\n  packs: [{name: inl, options: [{id: a, params: {}}]}]\n",
    )
    expansion = compose(path).diagnostics["expansion"]
    assert [(g["ref"], g["key_path"]) for g in expansion["group_refs"]] == [
        ("all", "select.groups[0]"),
        ("core", "groups.all[0].group"),
    ]
    assert [p["ref"] for p in expansion["pack_refs"]] == ["seed_pack", "opt_pack"]
    assert [s["ref"] for s in expansion["option_sources"]] == ["seeds", "opts"]
    assert expansion["inline_packs"] == 1
    assert expansion["final_pack_count"] == 3


def test_C32_inline_packs_inside_groups_are_counted(write: Write) -> None:
    path = write(
        "exp.yaml",
        "groups: {g: [{name: a, options: [{id: x, params: {}}]}]}\n"
        + COMMAND
        + "select: {groups: [g, g]}\n",
    )
    assert compose(path).diagnostics["expansion"]["inline_packs"] == 2


def test_composition_of_sixty_options_takes_milliseconds(write: Write) -> None:
    sets = "".join(
        f"  s{p}: ["
        + ", ".join(
            f"{{id: o{i}, params: {{p{p}: {{lr: {i}, n: {i}}}}}}}" for i in range(10)
        )
        + "]\n"
        for p in range(6)
    )
    packs = "".join(
        f"  - {{name: pack{p}, options_from: [{{ref: s{p}}}]}}\n" for p in range(6)
    )
    path = write(
        "exp.yaml", "option_sets:\n" + sets + COMMAND + "select:\n  packs:\n" + packs
    )
    compose(path)
    started = time.perf_counter()
    for _ in range(5):
        composition = compose(path)
    elapsed_ms = (time.perf_counter() - started) / 5 * 1000
    assert len(composition.document["packs"]) == 6
    assert elapsed_ms < 100, f"composition took {elapsed_ms:.1f} ms"
