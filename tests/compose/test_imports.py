"""Files and imports (spec C1–C11), the schema block and top-level keys (S1–S4),
and the quirk decisions Q1, Q4 and Q7."""

from __future__ import annotations

from pathlib import Path

import pytest

from geryon.compose import compose

from .conftest import COMMAND, Write, compose_error, pack_summary

ONE_PACK = COMMAND + "select:\n  packs: [{name: p, options: [{id: a, params: {}}]}]\n"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("", "an empty file"),
        ("- a\n- b\n", "a list of 2 item(s)"),
        ("just text\n", "the string 'just text'"),
        ("42\n", "the number 42"),
    ],
)
def test_C1_root_must_be_a_mapping(write: Write, text: str, found: str) -> None:
    path = write("exp.yaml", text)
    err = compose_error(path)
    assert err.file == str(path)
    assert f"YAML root must be a mapping, found {found}" in str(err)


def test_C1_imported_file_must_be_a_mapping(write: Write) -> None:
    lib = write("lib.yaml", "- 1\n")
    path = write("exp.yaml", "imports: [{path: lib.yaml}]\n" + ONE_PACK)
    err = compose_error(path)
    assert err.file == str(lib)
    assert "YAML root must be a mapping" in str(err)


def test_C1_syntax_error_in_import_names_that_file(write: Write) -> None:
    lib = write("lib.yaml", "option_sets: {a: [\n")
    path = write("exp.yaml", "imports: [{path: lib.yaml}]\n" + ONE_PACK)
    err = compose_error(path)
    assert err.file == str(lib)
    assert "YAML syntax error at line 2" in str(err)


def test_missing_root_file_is_a_config_error(tmp_path: Path) -> None:
    err = compose_error(tmp_path / "missing.yaml")
    assert err.file == str(tmp_path / "missing.yaml")
    assert "cannot read the experiment file: file not found" in str(err)
    assert "--experiment" in str(err)


def test_C2_imports_null_means_none(write: Write) -> None:
    path = write("exp.yaml", "imports: null\n" + ONE_PACK)
    assert pack_summary(compose(path)) == [("p", ["a"])]


@pytest.mark.parametrize(
    ("imports", "key_path", "fragment"),
    [
        ("imports: lib.yaml", "imports", "expected a list or null"),
        ("imports: [lib.yaml]", "imports[0]", "expected a mapping"),
        ("imports: [{path: lib.yaml, pkg: x}]", "imports[0].pkg", "unknown key 'pkg'"),
        ("imports: [{package: x}]", "imports[0]", "missing required key 'path'"),
        ("imports: [{path: '  '}]", "imports[0].path", "expected a non-empty string"),
        ("imports: [{path: a, package: 3}]", "imports[0].package", "expected a string"),
    ],
)
def test_C2_C3_import_entry_shape(
    write: Write, imports: str, key_path: str, fragment: str
) -> None:
    path = write("exp.yaml", imports + "\n" + ONE_PACK)
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(path), key_path)
    assert fragment in str(err)


def test_C3_blank_package_means_no_package(write: Write) -> None:
    write("lib.yaml", "option_sets: {s: [{id: a, params: {}}]}\n")
    path = write(
        "exp.yaml",
        "imports: [{path: lib.yaml, package: '  '}]\n"
        + COMMAND
        + "select: {packs: [{name: p, options_from: [{ref: s}]}]}\n",
    )
    composition = compose(path)
    assert composition.diagnostics["registry"]["option_sets"] == ["s"]
    assert composition.diagnostics["files"][0]["package"] is None


def test_C3_package_is_trimmed_and_may_contain_dots(write: Write) -> None:
    write("lib.yaml", "option_sets: {s: [{id: a, params: {}}]}\n")
    path = write(
        "exp.yaml",
        "imports: [{path: lib.yaml, package: ' lib.v2 '}]\n"
        + COMMAND
        + "select: {packs: [{name: p, options_from: [{ref: lib.v2.s}]}]}\n",
    )
    assert pack_summary(compose(path)) == [("p", ["a"])]


@pytest.mark.parametrize("folder", ["defs", "with space", "ünï cødé"])
def test_C4_relative_imports_resolve_against_the_importing_file(
    write: Write, folder: str
) -> None:
    write(f"{folder}/inner/sets.yaml", "option_sets: {s: [{id: a, params: {}}]}\n")
    write(f"{folder}/lib.yaml", "imports: [{path: inner/sets.yaml}]\n")
    path = write(
        "exp.yaml",
        f"imports: [{{path: '{folder}/lib.yaml'}}]\n"
        + COMMAND
        + "select: {packs: [{name: p, options_from: [{ref: s}]}]}\n",
    )
    composition = compose(path)
    assert pack_summary(composition) == [("p", ["a"])]
    paths = [record["path"] for record in composition.diagnostics["files"]]
    assert paths[0].endswith(f"{folder}/inner/sets.yaml")
    assert all(Path(item).is_absolute() for item in paths)


def test_C4_dot_dot_and_symlinks_are_normalised(write: Write, tmp_path: Path) -> None:
    real = write("real/sets.yaml", "option_sets: {s: [{id: a, params: {}}]}\n")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    path = write(
        "exp/exp.yaml",
        "imports: [{path: ../link/sets.yaml}, {path: ../real/../real/sets.yaml}]\n"
        + ONE_PACK,
    )
    composition = compose(path)
    # Both edges reach the same (path, package) pair: loaded once (C7).
    assert [str(item.path) for item in composition.files] == [str(real), str(path)]


def test_C4_tilde_is_not_expanded(write: Write, tmp_path: Path) -> None:
    path = write("exp.yaml", "imports: [{path: ~/lib.yaml}]\n" + ONE_PACK)
    err = compose_error(path)
    assert str(tmp_path / "~" / "lib.yaml") in str(err)


def test_C4_root_path_is_resolved_from_the_working_directory(
    write: Write, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write("sub/exp.yaml", ONE_PACK)
    monkeypatch.chdir(tmp_path)
    composition = compose("sub/../sub/exp.yaml")
    assert composition.root_path == tmp_path / "sub" / "exp.yaml"


def test_C5_missing_import_names_the_importing_file_and_package(write: Write) -> None:
    lib = write("lib.yaml", "imports: [{path: gone.yaml, package: x}]\n")
    path = write("exp.yaml", "imports: [{path: lib.yaml, package: mylib}]\n" + ONE_PACK)
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(lib), "imports[0].path")
    assert f"imported file {lib.parent / 'gone.yaml'}: file not found" in str(err)
    assert f"imported from {lib} (package mylib)" in str(err)


def test_C6_imports_register_before_the_importing_file(write: Write) -> None:
    write(
        "a.yaml",
        "imports: [{path: b.yaml}]\noption_sets: {sa: [{id: a, params: {}}]}\n",
    )
    write("b.yaml", "option_sets: {sb: [{id: b, params: {}}]}\n")
    write("c.yaml", "option_sets: {sc: [{id: c, params: {}}]}\n")
    path = write("exp.yaml", "imports: [{path: a.yaml}, {path: c.yaml}]\n" + ONE_PACK)
    composition = compose(path)
    names = [Path(record["path"]).name for record in composition.diagnostics["files"]]
    assert names == ["b.yaml", "a.yaml", "c.yaml", "exp.yaml"]


def test_C7_diamond_import_loads_the_file_once(write: Write) -> None:
    write("base.yaml", "option_sets: {s: [{id: a, params: {}}]}\n")
    write("left.yaml", "imports: [{path: base.yaml, package: lib}]\n")
    write("right.yaml", "imports: [{path: base.yaml, package: lib}]\n")
    path = write(
        "exp.yaml", "imports: [{path: left.yaml}, {path: right.yaml}]\n" + ONE_PACK
    )
    composition = compose(path)
    assert composition.diagnostics["registry"]["option_sets"] == ["lib.s"]
    assert [item.path.name for item in composition.files].count("base.yaml") == 1


def test_C7_same_file_under_two_packages_registers_twice(write: Write) -> None:
    base = write("base.yaml", "option_sets: {s: [{id: a, params: {}}]}\n")
    path = write(
        "exp.yaml",
        "imports: [{path: base.yaml, package: one}, {path: base.yaml, package: two}]\n"
        + ONE_PACK,
    )
    composition = compose(path)
    assert composition.diagnostics["registry"]["option_sets"] == ["one.s", "two.s"]
    loaded = [(item.path, item.package) for item in composition.files]
    assert loaded[:2] == [(base, "one"), (base, "two")]
    assert composition.files[0].text == base.read_text()


def test_C8_import_cycle_shows_chain(write: Write) -> None:
    a = write("a.yaml", "imports: [{path: b.yaml}]\n")
    b = write("b.yaml", "imports: [{path: a.yaml}]\n")
    path = write("exp.yaml", "imports: [{path: a.yaml}]\n" + ONE_PACK)
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(b), "imports[0].path")
    assert (
        "Import cycle detected:\n"
        f"  1. {path} (package <none>) -> {a} (package <none>)\n"
        f"  2. {a} (package <none>) -> {b} (package <none>)\n"
        f"  3. {b} (package <none>) -> {a} (package <none>)"
    ) in str(err)


def test_C8_cycle_through_another_package_is_found_one_hop_later(write: Write) -> None:
    write("a.yaml", "imports: [{path: b.yaml, package: p}]\n")
    write("b.yaml", "imports: [{path: a.yaml, package: q}]\n")
    path = write("exp.yaml", "imports: [{path: a.yaml, package: q}]\n" + ONE_PACK)
    err = compose_error(path)
    text = str(err)
    assert "Import cycle detected" in text
    assert text.count(" -> ") == 3


def test_C8_self_import_is_a_cycle(write: Write) -> None:
    path = write("exp.yaml", "imports: [{path: exp.yaml}]\n" + ONE_PACK)
    err = compose_error(path)
    assert "Import cycle detected:\n  1." in str(err)
    assert err.key_path == "imports[0].path"


def test_C9_Q1_ignored_sections_of_imports_warn_once(write: Write) -> None:
    lib = write(
        "lib.yaml",
        COMMAND + "select: {bogus: 1}\ndefaults: {params: {a: 1}}\n"
        "option_sets: {s: [{id: a, params: {}}]}\n",
    )
    path = write(
        "exp.yaml",
        "imports: [{path: lib.yaml, package: x}, {path: lib.yaml, package: y}]\n"
        + ONE_PACK,
    )
    composition = compose(path)
    assert "defaults" not in composition.document
    warnings = composition.diagnostics["warnings"]
    assert warnings == [
        f"{lib}: imported file has section(s) command, select, defaults that are "
        "ignored; only schema, imports, option_sets, packs and groups of an "
        "imported file take effect"
    ]


def test_C9_ignored_sections_are_not_validated(write: Write) -> None:
    write("lib.yaml", "command: 5\nrun_sets: [1]\n")
    path = write("exp.yaml", "imports: [{path: lib.yaml}]\n" + ONE_PACK)
    assert len(compose(path).diagnostics["warnings"]) == 1


def test_C9_Q1_warning_is_logged(
    write: Write, caplog: pytest.LogCaptureFixture
) -> None:
    write("lib.yaml", COMMAND)
    path = write("exp.yaml", "imports: [{path: lib.yaml}]\n" + ONE_PACK)
    with caplog.at_level("WARNING", logger="geryon.compose"):
        compose(path)
    assert "ignored" in caplog.text


def test_C10_each_file_uses_its_own_unknown_key_behavior(write: Write) -> None:
    write("lenient.yaml", "schema: {unknown_key_behavior: warn}\nextra: 1\n")
    strict = write("strict.yaml", "extra: 1\n")
    path = write(
        "exp.yaml", "imports: [{path: lenient.yaml}, {path: strict.yaml}]\n" + ONE_PACK
    )
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(strict), "extra")
    assert "unknown top-level key 'extra'" in str(err)


def test_C10_imported_schema_block_is_validated(write: Write) -> None:
    lib = write("lib.yaml", "schema: {version: 3}\n")
    path = write("exp.yaml", "imports: [{path: lib.yaml}]\n" + ONE_PACK)
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(lib), "schema.version")
    assert "expected the integer 4, found the number 3" in str(err)


@pytest.mark.parametrize("key", ["registry", "package"])
def test_C11_removed_keys_are_rejected_even_with_warn(write: Write, key: str) -> None:
    path = write(
        "exp.yaml", f"schema: {{unknown_key_behavior: warn}}\n{key}: x\n" + ONE_PACK
    )
    err = compose_error(path)
    assert err.key_path == key
    assert f"top-level key '{key}' was removed in experiment schema version 4" in str(
        err
    )


@pytest.mark.parametrize(
    ("schema", "key_path", "fragment"),
    [
        ("schema: [4]", "schema", "expected a mapping or null"),
        ("schema: {version: 4, strict: true}", "schema.strict", "unknown key 'strict'"),
        ("schema: {version: '4'}", "schema.version", "expected the integer 4"),
        ("schema: {version: true}", "schema.version", "found the boolean true"),
        ("schema: {version: 4.0}", "schema.version", "found the number 4.0"),
        (
            "schema: {unknown_key_behavior: ignore}",
            "schema.unknown_key_behavior",
            "expected one of 'error', 'warn'",
        ),
    ],
)
def test_S1_S2_S3_schema_block(
    write: Write, schema: str, key_path: str, fragment: str
) -> None:
    path = write("exp.yaml", schema + "\n" + ONE_PACK)
    err = compose_error(path)
    assert err.key_path == key_path
    assert fragment in str(err)


def test_S1_null_schema_block_gets_defaults(write: Write) -> None:
    path = write("exp.yaml", "schema: null\n" + ONE_PACK)
    assert compose(path).document["schema"] == {
        "version": 4,
        "unknown_key_behavior": "error",
    }


def test_S4_unknown_top_level_key_is_an_error_by_default(write: Write) -> None:
    path = write("exp.yaml", ONE_PACK + "comand: {}\n")
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(path), "comand")
    assert "Allowed top-level keys: schema, imports" in str(err)
    assert "unknown_key_behavior: warn" in str(err)


def test_S4_Q4_Q7_warn_drops_unknown_root_keys_and_warns_once(write: Write) -> None:
    path = write(
        "exp.yaml", "schema: {unknown_key_behavior: warn}\nnotes: hello\n" + ONE_PACK
    )
    composition = compose(path)
    assert "notes" not in composition.document
    assert composition.diagnostics["warnings"] == [
        f"{path}: unknown top-level key 'notes' ignored (unknown_key_behavior: warn)"
    ]


def test_S6_unknown_keys_elsewhere_are_errors_even_with_warn(write: Write) -> None:
    path = write(
        "exp.yaml",
        "schema: {unknown_key_behavior: warn}\n"
        + COMMAND
        + "select: {packs: [{name: p, colour: red, options: [{id: a, params: {}}]}]}\n",
    )
    err = compose_error(path)
    assert err.key_path == "select.packs[0].colour"
    assert "unknown key 'colour'" in str(err)


def test_date_value_in_params_is_rejected_at_load(write: Write) -> None:
    path = write(
        "exp.yaml",
        COMMAND
        + "select: {packs: [{name: p, options: [{id: a, params: {d: 2024-01-01}}]}]}\n",
    )
    err = compose_error(path)
    assert err.key_path == "select.packs[0].options[0].params.d"
    assert "a YAML date (2024-01-01) is not allowed here" in str(err)


def test_symlink_loop_in_an_import_is_a_config_error(
    write: Write, tmp_path: Path
) -> None:
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    path = write("exp.yaml", "imports: [{path: loop.yaml}]\n" + ONE_PACK)
    err = compose_error(path)
    assert (err.file, err.key_path) == (str(path), "imports[0].path")
