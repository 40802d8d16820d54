"""Shared building blocks: canonical JSON, atomic storage, sanitisers, CLI edge."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geryon import canonical
from geryon.cli import main
from geryon.errors import ConfigError, key_path
from geryon.sanitize import is_safe_run_id, path_component, tag_for_name
from geryon.storage import JsonlStats, append_jsonl, read_jsonl


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ({"b": 1, "a": [1.0, 1e-05, 1e16]}, '{"a":[1.0,1e-05,1e+16],"b":1}'),
        ("é\u0001\n/", '"\\u00e9\\u0001\\n/"'),
        ("\U0001f600", '"\\ud83d\\ude00"'),
        ([True, None, 10**30], "[true,null,1000000000000000000000000000000]"),
        (float("nan"), "NaN"),
    ],
)
def test_canonical_json_appendix_a(value: object, text: str) -> None:
    assert canonical.dumps(value) == text


def test_config_id_of_spec_worked_example() -> None:
    obj = {
        "params": {"model": {"width": 64}, "seed": 1, "train": {"epochs": 10}},
        "tags": ["base", "m-small"],
    }
    assert canonical.sha1_hex(obj) == "3d293c9d7f60738cb33c4c10395ff078be8d00a4"


def test_torn_last_line_is_skipped_with_count(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    append_jsonl(path, {"a": 1})
    with path.open("a") as handle:
        handle.write('{"a": 2, "b"')
    stats = JsonlStats()
    assert list(read_jsonl(path, stats=stats)) == [{"a": 1}]
    assert stats.corrupt_lines == 1
    with pytest.raises(ConfigError, match="line 2"):
        list(read_jsonl(path, strict=True))


def test_sanitisers() -> None:
    assert path_component("a b/ç") == "a-b-ç"
    assert path_component("///") == "x"
    assert tag_for_name("  lr = 0.1 ") == "lr-0.1"
    assert is_safe_run_id("run_20250101T000000Z_ab")
    assert not is_safe_run_id("../escape")
    assert not is_safe_run_id("a/b")


def test_key_path_rendering() -> None:
    assert key_path(["select", "packs", 2, "options", 0, "id"]) == (
        "select.packs[2].options[0].id"
    )


def test_cli_help_and_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_config_error_message_names_file_and_key() -> None:
    error = ConfigError(
        "expected a string",
        file="exp.yaml",
        key_path="command.program",
        hint="Quote it",
    )
    assert str(error) == "exp.yaml at command.program: expected a string. Quote it"
    assert json.dumps(str(error))
