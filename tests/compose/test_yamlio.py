"""geryon.yamlio: YAML 1.1 safe loading and errors that name file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from geryon.errors import ConfigError
from geryon.yamlio import find_non_json, load_yaml_file, reject_non_json


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-3", "1e-3"),
        ("1.0e-3", 0.001),
        ("yes", True),
        ("off", False),
        ("010", 8),
        ("0x10", 16),
        ("1_000", 1000),
        ("~", None),
    ],
)
def test_yaml_1_1_typing_of_spec_section_0(
    tmp_path: Path, text: str, value: object
) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(f"v: {text}\n")
    assert load_yaml_file(path) == {"v": value}


def test_duplicate_keys_last_one_wins(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("a: 1\na: 2\n")
    assert load_yaml_file(path) == {"a": 2}


def test_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad file é.yaml"
    path.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(ConfigError) as caught:
        load_yaml_file(path)
    assert caught.value.file == str(path)
    assert "YAML syntax error at line 3, column 2" in str(caught.value)


def test_tab_indentation_error_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "tab.yaml"
    path.write_text("a:\n\tb: 1\n")
    with pytest.raises(ConfigError, match="YAML syntax error at line 2"):
        load_yaml_file(path)


def test_unsafe_tags_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("a: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ConfigError, match="YAML syntax error"):
        load_yaml_file(path)


def test_missing_file_and_directory_and_bad_encoding(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_yaml_file(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_yaml_file(tmp_path)
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: \xe9\n")
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_yaml_file(latin)


def test_empty_file_loads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert load_yaml_file(path) is None


def test_date_value_is_found_with_its_key_path(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text("a:\n  - {when: 2024-01-01}\n")
    found = find_non_json(load_yaml_file(path))
    assert found is not None
    assert found[0] == ["a", 0, "when"]
    with pytest.raises(ConfigError) as caught:
        reject_non_json(load_yaml_file(path), file=path)
    assert caught.value.key_path == "a[0].when"
    assert "a YAML date (2024-01-01) is not allowed here" in str(caught.value)
    assert "Quote it" in str(caught.value)


def test_date_key_and_binary_and_set_are_rejected(tmp_path: Path) -> None:
    cases = {
        "2024-01-01: x\n": "a YAML date",
        "a: !!binary aGVsbG8=\n": "a YAML binary value",
        "a: !!set {x, y}\n": "a YAML set",
        "a: 2024-01-01T10:00:00\n": "a YAML timestamp",
    }
    for text, phrase in cases.items():
        path = tmp_path / "x.yaml"
        path.write_text(text)
        with pytest.raises(ConfigError, match=phrase):
            reject_non_json(load_yaml_file(path), file=path)


def test_recursive_alias_is_reported_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("a: &x [1, *x]\n")
    with pytest.raises(ConfigError, match="recursive YAML alias"):
        reject_non_json(load_yaml_file(path), file=path)


def test_shared_aliases_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("a: &x {k: [1, 2]}\nb: *x\nc: *x\n")
    assert find_non_json(load_yaml_file(path)) is None
