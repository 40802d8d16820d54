"""Definitions and qualified names (spec C12–C18) and the Q2 decision."""

from __future__ import annotations

import pytest

from geryon.compose import compose

from .conftest import COMMAND, Write, compose_error, pack_summary

SETS = "option_sets:\n  s: [{id: a, params: {}}, {id: b, params: {}}]\n"


def select_from(ref: str) -> str:
    return (
        COMMAND
        + f"select: {{packs: [{{name: p, options_from: [{{ref: '{ref}'}}]}}]}}\n"
    )


@pytest.mark.parametrize(
    ("text", "key_path", "fragment"),
    [
        ("option_sets: [1]", "option_sets", "expected a mapping or null"),
        ("option_sets: {s: {id: a}}", "option_sets.s", "expected a list"),
        ("option_sets: {s: [a]}", "option_sets.s[0]", "expected a mapping"),
        ("packs: {p: [1]}", "packs.p", "expected a mapping"),
        ("groups: {g: {ref: x}}", "groups.g", "expected a list"),
        ("groups: {g: [x]}", "groups.g[0]", "expected a mapping"),
    ],
)
def test_C12_definition_shapes(
    write: Write, text: str, key_path: str, fragment: str
) -> None:
    path = write("exp.yaml", text + "\n" + COMMAND)
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(path), key_path)
    assert fragment in str(err)


def test_C12_null_sections_are_empty(write: Write) -> None:
    path = write("exp.yaml", "option_sets: null\npacks: null\ngroups: null\n" + COMMAND)
    registry = compose(path).diagnostics["registry"]
    assert registry == {"option_sets": [], "packs": [], "groups": []}


@pytest.mark.parametrize("key", ["''", "'   '", "1", "null"])
def test_C13_definition_keys_must_be_non_empty_strings(write: Write, key: str) -> None:
    path = write("exp.yaml", f"option_sets:\n  {key}: []\n" + COMMAND)
    err = compose_error(path)
    assert err.key_path == "option_sets"
    assert "is not allowed: expected a non-empty string" in str(err)


def test_C13_definition_keys_are_trimmed(write: Write) -> None:
    path = write(
        "exp.yaml", "option_sets:\n  ' s ': [{id: a, params: {}}]\n" + select_from("s")
    )
    assert pack_summary(compose(path)) == [("p", ["a"])]


@pytest.mark.parametrize("package", ["lib", "my lib", "ünï"])
def test_C14_packaged_keys_are_prefixed(write: Write, package: str) -> None:
    write("lib.yaml", SETS)
    path = write(
        "exp.yaml",
        f"imports: [{{path: lib.yaml, package: '{package}'}}]\n"
        + select_from(f"{package}.s"),
    )
    composition = compose(path)
    assert composition.diagnostics["registry"]["option_sets"] == [f"{package}.s"]
    assert pack_summary(composition) == [("p", ["a", "b"])]


def test_C14_slash_makes_a_global_name(write: Write) -> None:
    write("lib.yaml", "option_sets:\n  /shared: [{id: a, params: {}}]\n")
    path = write(
        "exp.yaml",
        "imports: [{path: lib.yaml, package: lib}]\n" + select_from("shared"),
    )
    assert compose(path).diagnostics["registry"]["option_sets"] == ["shared"]


def test_C14_packages_do_not_nest(write: Write) -> None:
    write("inner.yaml", SETS)
    write("outer.yaml", "imports: [{path: inner.yaml, package: inner}]\n")
    path = write(
        "exp.yaml",
        "imports: [{path: outer.yaml, package: lib}]\n" + select_from("inner.s"),
    )
    assert compose(path).diagnostics["registry"]["option_sets"] == ["inner.s"]


def test_C15_kinds_have_separate_namespaces(write: Write) -> None:
    path = write(
        "exp.yaml",
        "option_sets: {x: [{id: a, params: {}}]}\n"
        "packs: {x: {name: p, options_from: [{ref: x}]}}\n"
        "groups: {x: [{ref: x}]}\n" + COMMAND + "select: {groups: [x]}\n",
    )
    assert pack_summary(compose(path)) == [("p", ["a"])]


def test_C16_duplicate_definition_names_both_files(write: Write) -> None:
    first = write("one.yaml", SETS)
    second = write("two.yaml", SETS)
    path = write(
        "exp.yaml", "imports: [{path: one.yaml}, {path: two.yaml}]\n" + COMMAND
    )
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(second), "option_sets.s")
    assert (
        f"Duplicate option set definition 's' in {second}; first defined in {first} "
        "at option_sets.s"
    ) in str(err)


def test_C16_global_definition_imported_under_two_packages_is_a_duplicate(
    write: Write,
) -> None:
    write("lib.yaml", "option_sets:\n  /g: [{id: a, params: {}}]\n")
    path = write(
        "exp.yaml",
        "imports: [{path: lib.yaml, package: one}, {path: lib.yaml, package: two}]\n"
        + COMMAND,
    )
    assert "Duplicate option set definition 'g'" in str(compose_error(path))


def test_C16_keys_equal_after_trimming_are_duplicates(write: Write) -> None:
    path = write("exp.yaml", "option_sets:\n  s: []\n  ' s': []\n" + COMMAND)
    assert "Duplicate option set definition 's'" in str(compose_error(path))


def test_C17_short_ref_in_packaged_file_uses_its_package(write: Write) -> None:
    write("lib.yaml", SETS + "packs: {pk: {name: p, options_from: [{ref: s}]}}\n")
    path = write(
        "exp.yaml",
        "imports: [{path: lib.yaml, package: lib}]\n"
        + COMMAND
        + "select: {packs: [{ref: lib.pk}]}\n",
    )
    assert pack_summary(compose(path)) == [("p", ["a", "b"])]


def test_C17_refs_from_the_root_are_verbatim(write: Write) -> None:
    write("lib.yaml", SETS)
    path = write(
        "exp.yaml", "imports: [{path: lib.yaml, package: lib}]\n" + select_from("s")
    )
    err = compose_error(path)
    assert err.key_path == "select.packs[0].options_from[0].ref"
    assert "unknown option set 's'" in str(err)
    assert "Known option sets: lib.s" in str(err)


def test_C17_cross_package_ref_from_a_packaged_file(write: Write) -> None:
    write("sets.yaml", SETS)
    write("packs.yaml", "packs: {pk: {name: p, options_from: [{ref: sets.s}]}}\n")
    path = write(
        "exp.yaml",
        "imports: [{path: sets.yaml, package: sets}, {path: packs.yaml, package: packs}]\n"
        + COMMAND
        + "select: {packs: [{ref: packs.pk}]}\n",
    )
    assert pack_summary(compose(path)) == [("p", ["a", "b"])]


def test_C17_slash_ref_from_a_packaged_file_is_global(write: Write) -> None:
    write("sets.yaml", SETS)
    write("packs.yaml", "packs: {pk: {name: p, options_from: [{ref: /s}]}}\n")
    path = write(
        "exp.yaml",
        "imports: [{path: sets.yaml}, {path: packs.yaml, package: lib}]\n"
        + COMMAND
        + "select: {packs: [{ref: lib.pk}]}\n",
    )
    assert pack_summary(compose(path)) == [("p", ["a", "b"])]


def test_Q2_dotted_local_name_is_reachable_in_its_package(write: Write) -> None:
    write(
        "lib.yaml",
        "option_sets:\n  arch.v1: [{id: a, params: {}}]\n"
        "packs: {pk: {name: p, options_from: [{ref: arch.v1}]}}\n",
    )
    path = write(
        "exp.yaml",
        "imports: [{path: lib.yaml, package: lib}]\n"
        + COMMAND
        + "select: {packs: [{ref: lib.pk}]}\n",
    )
    composition = compose(path)
    assert composition.diagnostics["registry"]["option_sets"] == ["lib.arch.v1"]
    assert pack_summary(composition) == [("p", ["a"])]


def test_Q2_dotted_name_of_an_unpackaged_file_needs_a_slash(write: Write) -> None:
    write("sets.yaml", "option_sets:\n  arch.v1: [{id: a, params: {}}]\n")
    packs = write(
        "packs.yaml", "packs: {pk: {name: p, options_from: [{ref: arch.v1}]}}\n"
    )
    path = write(
        "exp.yaml",
        "imports: [{path: sets.yaml}, {path: packs.yaml, package: lib}]\n"
        + COMMAND
        + "select: {packs: [{ref: lib.pk}]}\n",
    )
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(packs), "packs.pk.options_from[0].ref")
    assert (
        "unknown option set 'lib.arch.v1' (written 'arch.v1' in package 'lib')"
        in str(err)
    )


def test_C18_unknown_ref_lists_eight_known_names(write: Write) -> None:
    sets = "".join(f"  s{i}: []\n" for i in range(10))
    path = write("exp.yaml", "option_sets:\n" + sets + select_from("nope"))
    err = compose_error(path)
    assert "Known option sets: s0, s1, s2, s3, s4, s5, s6, s7, ..." in str(err)


def test_C18_unknown_ref_with_nothing_defined(write: Write) -> None:
    path = write("exp.yaml", COMMAND + "select: {packs: [{ref: nope}]}\n")
    err = compose_error(path)
    assert err.key_path == "select.packs[0].ref"
    assert "unknown pack 'nope'. No packs are defined" in str(err)


def test_C18_C27_broken_refs_in_unused_definitions_are_not_reported(
    write: Write,
) -> None:
    path = write(
        "exp.yaml",
        "packs: {unused: {name: u, options_from: [{ref: missing}]}}\n"
        "groups: {g: [{ref: missing}]}\n"
        + COMMAND
        + "select: {packs: [{name: p, options: [{id: a, params: {}}]}]}\n",
    )
    assert pack_summary(compose(path)) == [("p", ["a"])]


def test_structure_of_unused_definitions_is_checked_at_load(write: Write) -> None:
    path = write("exp.yaml", "packs: {unused: {name: u, colour: red}}\n" + COMMAND)
    err = compose_error(path)
    assert err.key_path == "packs.unused.colour"
