"""Hydra overrides round-trip exactly through real Hydra apps (spec §6.5, E15).

Every command is executed through ``bash -c`` exactly as the planner writes it, with
``sys.executable`` running the apps in ``tests/apps``. Many values travel in one
command (one key per value) so that the whole file needs only a few Hydra runs.
"""

from __future__ import annotations

import json
import math
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

from geryon import canonical
from geryon.plan.overrides import (
    flatten_params,
    hydra_run_dir_word,
    render_command,
)

# (name, value): values the upstream renderer mangles, and the usual suspects.
HOSTILE: list[tuple[str, Any]] = [
    ("space", "a b"),
    ("single_quote", "it's"),
    ("double_quote", 'say "hi"'),
    ("both_quotes", "it's \"quoted\" 'twice'"),
    ("comma", "a,b"),
    ("equals", "k=v"),
    ("hash", "#not a comment"),
    ("brackets", "[1, 2]"),
    ("braces", "{a: 1}"),
    ("parens", "f(x)"),
    ("tilde", "~"),
    ("tilde_word", "~x"),
    ("interpolation", "${x}"),
    ("resolver", "${oc.env:HOME}"),
    ("escaped_interpolation", "\\${x}"),
    ("unclosed_interpolation", "${x"),
    ("dollar_brace_pair", "$${a}{b}"),
    ("backslash", "\\"),
    ("trailing_backslash", "a\\"),
    ("backslash_quote", '\\"'),
    ("backslash_single_quote", "\\'"),
    ("windows_path", "C:\\temp\\new"),
    ("escaped_comma", "a\\,b"),
    ("newline", "line1\nline2"),
    ("tab", "a\tb"),
    ("crlf", "a\r\nb"),
    ("non_ascii", "é ü ß"),
    ("cjk", "中文"),
    ("emoji", "😀🚀"),
    ("leading_space", " lead"),
    ("trailing_space", "trail "),
    ("only_spaces", "   "),
    ("str_one", "1"),
    ("str_float", "1.0"),
    ("str_true", "true"),
    ("str_True", "True"),
    ("str_TRUE", "TRUE"),
    ("str_null", "null"),
    ("str_None", "None"),
    ("str_exp", "1e-05"),
    ("str_hex", "0x10"),
    ("str_inf", "inf"),
    ("str_nan", "nan"),
    ("str_neg", "-1"),
    ("str_underscore_int", "1_000"),
    ("empty_string", ""),
    ("shell_meta", "$HOME $(echo hi) `id` ; | & > <"),
    ("glob", "*?[a]"),
    ("percent", "100%"),
    ("at_sign", "user@host"),
    ("colon", "a:b"),
    ("dashdash", "--flag"),
    ("plus", "+x"),
    ("close_brace", "}"),
    ("bare_word", "adam"),
    ("wandb_like", "base_m-small_3d293c9d"),
    ("long_text", "x y" * 2000),
    ("null", None),
    ("true", True),
    ("false", False),
    ("zero", 0),
    ("neg_int", -1),
    ("big_int", 10**30),
    ("neg_big_int", -(10**30)),
    ("float", 1.5),
    ("small_float", 1e-05),
    ("big_float", 1e16),
    ("neg_zero", -0.0),
    ("whole_float", 100000000.0),
    ("inf", math.inf),
    ("neg_inf", -math.inf),
    ("nan", math.nan),
    ("empty_list", []),
    ("empty_dict", {}),
    ("mixed_list", [1, "a b", True, None]),
    ("nested_dict", {"a": {"b": []}, "c": {}}),
    ("list_of_dicts", [{"a": 1}, {"b c": "d,e", "f": [{"g": None}]}]),
    ("nested_lists", [[], [[1.5, -0.0]], ["${x}", "1"]]),
    ("list_of_hostile_strings", ["1", "true", "", "a,b", "it's", "é", "\\", "a b"]),
    ("dict_with_grammar_keys", [{"k ey": 1, "k:v": 2, "k=v": 3, "k,w": 4, "$x": 5}]),
    ("dict_with_bracket_keys", [{"k{x}": 1, "k[0]": 2, "k(a)": 3, "k\\": 4, "-": 5}]),
    (
        "dict_with_number_like_keys",
        [{"1a": 1, "0x10": 2, "01": 3, " 1": 4, "1.5.6": 5}],
    ),
]

# Hostile parameter keys: every one is inside Hydra's key grammar.
HOSTILE_KEYS: dict[str, Any] = {
    "a-b": 1,
    "_under": 2,
    "$dollar": 3,
    "CamelCase": 4,
    "nested": {"0": "zero", "1_0": "ten", "x-y": {"$z": None}},
}

# What the *unresolved* config holds for strings containing `${`: OmegaConf's escape.
UNRESOLVED_FORM: dict[str, Any] = {
    "interpolation": "\\${x}",
    "resolver": "\\${oc.env:HOME}",
    "escaped_interpolation": "\\\\\\${x}",
    "unclosed_interpolation": "\\${x",
    "dollar_brace_pair": "$\\${a}{b}",
    "nested_lists": [[], [[1.5, -0.0]], ["\\${x}", "1"]],
}


def _value_key(index: int) -> str:
    return f"v{index:03d}"


def _hostile_params() -> dict[str, Any]:
    params = {_value_key(i): value for i, (_, value) in enumerate(HOSTILE)}
    params["keys"] = HOSTILE_KEYS
    return params


def _same(got: Any, expected: Any) -> bool:
    """Exact equality: types, -0.0 and nan included (canonical JSON tells them apart)."""
    return canonical.dumps(got) == canonical.dumps(expected)


def _select(config: Any, dotted_key: str) -> Any:
    node = config
    for part in dotted_key.split("."):
        if not isinstance(node, dict) or part not in node:
            return "<missing>"
        node = node[part]
    return node


def run_app(
    app: Path,
    params: dict[str, Any],
    work_dir: Path,
    *,
    extra_words: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Run the planned command of ``params`` through ``bash -c``; return the report."""
    report_path = work_dir / "report.json"
    command = render_command(shlex.join([sys.executable, str(app)]), params)
    words = [command, hydra_run_dir_word(str(work_dir / "hydra")), *extra_words]
    full_env = {**os.environ, "GERYON_ECHO_OUT": str(report_path), **(env or {})}
    result = subprocess.run(
        ["bash", "-c", " ".join(words)],
        cwd=work_dir,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"app failed:\n{result.stderr[-4000:]}"
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    return report


def _mismatches(report: dict[str, Any], params: dict[str, Any]) -> list[str]:
    """Compare every flattened parameter with what the app resolved and stored."""
    names = {_value_key(i): name for i, (name, _) in enumerate(HOSTILE)}
    problems = []
    for key, expected in flatten_params(params):
        name = names.get(key.split(".")[0], key)
        resolved = _select(report["resolved"], key)
        if not _same(resolved, expected):
            problems.append(f"{name}: sent {expected!r}, app read {resolved!r}")
        stored = _select(report["config"], key)
        want_stored = UNRESOLVED_FORM.get(name, expected)
        if not _same(stored, want_stored):
            problems.append(f"{name}: unresolved {stored!r}, expected {want_stored!r}")
    return problems


def test_spec_worked_example_command() -> None:
    params = {
        "model": {"width": 64},
        "seed": 1,
        "train": {"epochs": 10},
        "wandb": {"name": "base_m-small_3d293c9d", "tags": ["base", "m-small"]},
    }
    assert render_command("python train.py", params) == (
        "python train.py ++model.width=64 ++seed=1 ++train.epochs=10 "
        "++wandb.name=base_m-small_3d293c9d '++wandb.tags=[base,m-small]'"
    )


def test_hostile_values_reach_an_app_that_declares_nothing(
    hydra_apps_dir: Path, tmp_path: Path
) -> None:
    params = _hostile_params()
    report = run_app(hydra_apps_dir / "hydra_echo.py", params, tmp_path)
    assert report["resolve_error"] is None
    assert report["non_string_keys"] == []
    assert _mismatches(report, params) == []
    assert set(report["config"]) == set(params)
