"""Hydra overrides round-trip exactly through real Hydra apps (spec §6.5, E15).

Every command is executed through ``bash -c`` exactly as the planner writes it, with
``sys.executable`` running the apps in ``tests/apps``. Many values travel in one
command (one key per value) so that the whole file needs only a few Hydra runs.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from geryon import canonical
from geryon.errors import ConfigError
from geryon.plan.overrides import (
    MAX_COMMAND_BYTES,
    flatten_params,
    group_word,
    hydra_run_dir_word,
    override_value,
    override_word,
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
    ("missing_marker", "???"),
    ("missing_marker_in_list", ["???", "a???"]),
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
    "missing_marker": "${oc.decode:'???'}",
    "missing_marker_in_list": ["${oc.decode:'???'}", "a???"],
    "typed.tags": ["a b", "true", "\\${x}", ""],
}


# Override words written the upstream way (Q18, Q19): they show that the harness
# notices re-typed values, and why geryon quotes.
UPSTREAM_WORDS: dict[str, tuple[str, Any]] = {
    "q19_exp": ("++q19_exp=1e-05", 1e-05),  # the string "1e-05" arrives as a float
    "q19_true": ("++q19_true=true", True),  # the string "true" arrives as a boolean
    "q18_none": ("++q18_none=None", "None"),  # null arrives as the string "None"
}
TYPED_DICT_KEY_WORD = "++typed_key=[{1:a}]"

# A work directory with shell, Hydra-grammar and non-ASCII characters (no "${",
# which Hydra itself cannot use, see test_hydra_run_dir_with_interpolation_text...).
HOSTILE_RUN_DIR = Path("runs dir", 'it\'s "q" ü,a=b $x [1] {y} back\\slash ~', "w")


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


def run_planned(
    app: Path,
    params: dict[str, Any],
    work_dir: Path,
    *,
    run_dir: Path | None = None,
    extra_words: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    group_keys: frozenset[str] = frozenset(),
) -> subprocess.CompletedProcess[str]:
    """Run the planned command of ``params`` through ``bash -c``, as geryon would."""
    base = shlex.join([sys.executable, str(app)])
    command = render_command(base, params, group_keys=group_keys)
    run_dir_word = hydra_run_dir_word(str(run_dir or work_dir / "hydra"))
    report_path = work_dir / "report.json"
    full_env = {**os.environ, "GERYON_ECHO_OUT": str(report_path), **(env or {})}
    return subprocess.run(
        ["bash", "-c", " ".join([command, *extra_words, run_dir_word])],
        cwd=work_dir,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_app(app: Path, params: dict[str, Any], work_dir: Path, **options: Any) -> Any:
    """Run the planned command (see :func:`run_planned`); return the app's report."""
    result = run_planned(app, params, work_dir, **options)
    assert result.returncode == 0, f"app failed:\n{result.stderr[-4000:]}"
    return json.loads((work_dir / "report.json").read_text(encoding="utf-8"))


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


@pytest.fixture(scope="module")
def echo_report(hydra_apps_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One run of the undeclaring app: all hostile values plus upstream-style words,
    with a hostile ``hydra.run.dir`` (``HOSTILE_RUN_DIR`` under ``report["work_dir"]``).
    """
    work_dir = tmp_path_factory.mktemp("echo")
    raw_words = [shlex.quote(word) for word, _ in UPSTREAM_WORDS.values()]
    report = run_app(
        hydra_apps_dir / "hydra_echo.py",
        _hostile_params(),
        work_dir,
        run_dir=work_dir / HOSTILE_RUN_DIR,
        extra_words=(*raw_words, shlex.quote(TYPED_DICT_KEY_WORD)),
    )
    report["work_dir"] = str(work_dir)
    return report


def _decoy(value: Any) -> Any:
    """A declared default of a different shape than ``value`` (same nesting)."""
    if isinstance(value, dict) and value:
        return {key: _decoy(item) for key, item in value.items()}
    if isinstance(value, list):
        return ["decoy", {"decoy": 1}]
    return "decoy"


TYPED_PARAMS: dict[str, Any] = {
    "lr": 1e-05,
    "steps": 10**30,
    "name": "1e-05",
    "flag": True,
    "tags": ["a b", "true", "${x}", ""],
    "anything": None,
    "nested": {"k": [1, {"z": "y"}], "inner": "null"},
    "undeclared": "x,y",
}


@pytest.fixture(scope="module")
def declared_report(
    hydra_apps_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    """One run of the declaring app, each hostile key declared with a decoy default."""
    work_dir = tmp_path_factory.mktemp("declared")
    params = _hostile_params()
    defaults = {key: _decoy(value) for key, value in params.items()}
    defaults["merge_target"] = {"old": 1}
    defaults_path = work_dir / "defaults.json"
    defaults_path.write_text(json.dumps(defaults), encoding="utf-8")
    params.update(merge_target={}, typed=TYPED_PARAMS)
    return run_app(
        hydra_apps_dir / "hydra_declared.py",
        params,
        work_dir,
        env={"GERYON_ECHO_DEFAULTS": str(defaults_path)},
    )


def test_hostile_list_covers_the_brief() -> None:
    values = [canonical.dumps(value) for _, value in HOSTILE]
    assert len(HOSTILE) >= 54
    assert len({name for name, _ in HOSTILE}) == len(HOSTILE)
    for required in ["1", "true", "null", "1e-05", "", None, 10**30, -0.0, [], {}]:
        assert canonical.dumps(required) in values


def test_hostile_values_reach_an_app_that_declares_nothing(echo_report: Any) -> None:
    assert echo_report["resolve_error"] is None
    assert _mismatches(echo_report, _hostile_params()) == []


def test_undeclared_app_gets_exactly_the_planned_keys(echo_report: Any) -> None:
    upstream = {word.split("=")[0].lstrip("+") for word, _ in UPSTREAM_WORDS.values()}
    expected = {*_hostile_params(), *upstream, "typed_key"}
    assert set(echo_report["config"]) == expected


def test_upstream_style_words_are_retyped_by_hydra(echo_report: Any) -> None:
    # Evidence for Q18/Q19: the same values written without geryon's quoting change
    # type, and the harness sees it.
    for name, (_, hydra_reads) in UPSTREAM_WORDS.items():
        assert _same(echo_report["resolved"][name], hydra_reads), name


def test_unquotable_dict_keys_really_are_retyped(echo_report: Any) -> None:
    # Why override_value rejects a key like "1" inside a list: Hydra makes it an int.
    assert echo_report["non_string_keys"] == ["typed_key[0].1 (int)"]


def test_plain_run_dir_is_used_as_is(declared_report: Any) -> None:
    # run_app's default run dir is a plain path, written unquoted.
    work_dir = Path(declared_report["cwd"])
    assert declared_report["output_dir"] == str(work_dir / "hydra")
    assert (work_dir / "hydra" / ".hydra" / "overrides.yaml").is_file()


def test_hostile_values_override_declared_keys(declared_report: Any) -> None:
    params = _hostile_params()
    params["typed"] = TYPED_PARAMS
    assert declared_report["resolve_error"] is None
    assert declared_report["non_string_keys"] == []
    assert _mismatches(declared_report, params) == []


def test_typed_section_keeps_its_undeclared_defaults(declared_report: Any) -> None:
    typed = declared_report["resolved"]["typed"]
    assert typed["nested"] == {"inner": "null", "k": [1, {"z": "y"}]}
    assert typed["steps"] == 10**30
    assert typed["tags"] == ["a b", "true", "${x}", ""]


def test_empty_mapping_merges_into_a_declared_mapping(declared_report: Any) -> None:
    # ++merge_target={} is a Hydra merge: the declared keys stay, nothing is added.
    assert declared_report["config"]["merge_target"] == {"old": 1}


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


@pytest.mark.parametrize(
    ("value", "word"),
    [
        ("it's", "'++k=\"it'\"'\"'s\"'"),
        ('say "hi"', "'++k='\"'\"'say \"hi\"'\"'\"''"),
        ([1, "a b", True], "'++k=[1,\"a b\",true]'"),
        ("é", "'++k=\"é\"'"),
        (None, "++k=null"),
        ("None", "++k=None"),
        ("1e-05", "'++k=\"1e-05\"'"),
        (1e-05, "++k=1e-05"),
        ("${x}", "'++k=\"\\${x}\"'"),
        ({}, "'++k={}'"),
        (math.nan, "++k=nan"),
    ],
)
def test_override_word_text(value: Any, word: str) -> None:
    assert render_command("p", {"k": value}) == f"p {word}"


def test_hydra_run_dir_override_creates_exactly_that_directory(
    echo_report: Any,
) -> None:
    work_dir = Path(echo_report["work_dir"])
    run_dir = work_dir / HOSTILE_RUN_DIR
    assert echo_report["output_dir"] == str(run_dir)
    assert (run_dir / ".hydra" / "config.yaml").is_file()
    assert sorted(os.listdir(work_dir)) == ["report.json", "runs dir"]
    assert os.listdir(work_dir / "runs dir") == [run_dir.parent.name]


def test_hydra_run_dir_word_is_one_shell_word() -> None:
    assert (
        hydra_run_dir_word("/out/runs/r_1/w.0/l-2")
        == "hydra.run.dir=/out/runs/r_1/w.0/l-2"
    )
    assert hydra_run_dir_word("/tmp/é") == "'hydra.run.dir=\"/tmp/é\"'"
    assert shlex.split(hydra_run_dir_word("/a b/c'd")) == ['hydra.run.dir="/a b/c\'d"']


def test_hydra_run_dir_with_interpolation_text_is_rejected() -> None:
    with pytest.raises(ConfigError, match=r"contains '\$\{', which Hydra cannot use"):
        hydra_run_dir_word("/out/${x}/w")


def test_flatten_descends_into_mappings_only_in_code_point_order() -> None:
    params = {"a_b": 1, "a": {"b": 2, "c": [{"x": 1}]}, "B": 3, "e": {}, "n": {"e": {}}}
    assert flatten_params(params) == [
        ("B", 3),
        ("a.b", 2),
        ("a.c", [{"x": 1}]),
        ("a_b", 1),
        ("e", {}),
        ("n.e", {}),
    ]


def test_no_params_leave_the_base_command_unchanged() -> None:
    assert render_command("python train.py --flag", {}) == "python train.py --flag"


@pytest.mark.parametrize(
    ("params", "key_path"),
    [
        ({"a.b": 1}, None),
        ({"m": {"x.y": 1}}, "m"),
        ({"m": {1: "x"}}, "m"),
        ({"": 1}, None),
    ],
)
def test_flatten_rejects_keys_that_would_not_round_trip(
    params: dict[Any, Any], key_path: str | None
) -> None:
    with pytest.raises(
        ConfigError, match=r"keys must be non-empty strings without '\.'"
    ) as err:
        flatten_params(params)
    assert err.value.key_path == key_path


@pytest.mark.parametrize(
    "key", ["learning rate", "é", "1", "-a", "a#b", "a@b", "a/b", "a..b"]
)
def test_keys_outside_hydra_key_grammar_are_rejected(key: str) -> None:
    with pytest.raises(ConfigError, match="cannot be passed to Hydra") as err:
        override_word(key, 1)
    assert err.value.key_path == key
    assert repr(key) in str(err.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1, 2}, "of type set has no JSON form"),
        (datetime.date(2024, 1, 2), "of type date has no JSON form"),
        ((1, 2), "of type tuple has no JSON form"),
        (b"x", "of type bytes has no JSON form"),
        ("a\x00b", "contains a NUL character"),
        (["ok", "\ud800"], "contains a lone surrogate"),
        ([{"1": "a"}], "would reach the app as a number, boolean or null"),
        ([{"TRUE": "a"}], "would reach the app as a number, boolean or null"),
        ([{"nan": "a"}], "would reach the app as a number, boolean or null"),
        ([{"-1.5e3": "a"}], "would reach the app as a number, boolean or null"),
        ([{"1_000": "a"}], "would reach the app as a number, boolean or null"),
        ([{"it's": "a"}], "cannot be written in Hydra's override grammar"),
        ([{"é": "a"}], "cannot be written in Hydra's override grammar"),
        ([{"": "a"}], "cannot be written in Hydra's override grammar"),
        ([{"a\nb": "a"}], "cannot be written in Hydra's override grammar"),
        ([{1: "a"}], "cannot be written in Hydra's override grammar"),
    ],
)
def test_unrepresentable_values_are_config_errors(value: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        render_command("p", {"model": {"k": value}})
    assert err.value.key_path == "model.k"


@pytest.mark.parametrize(
    "values",
    [[-0.0, 0.0], [1, True, 1.0, "1"], [[1], [True], [1.0]], [math.nan, math.nan]],
)
def test_memoised_words_tell_equal_values_of_other_types_apart(
    values: list[Any],
) -> None:
    words = [render_command("p", {"x": value}) for value in values]
    assert words == [f"p {shlex.quote('++x=' + override_value(v))}" for v in values]
    assert len(set(words)) == len({canonical.dumps(v) for v in values})


@pytest.mark.parametrize("value", ["x" * 110_000, "é" * 60_000, ["ab"] * 40_000])
def test_commands_too_long_for_bash_c_are_config_errors(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"bytes long \(longest word: '\+\+big="):
        render_command("p", {"big": value, "small": 1})


def test_commands_up_to_the_limit_are_accepted() -> None:
    # "p ++big=" is 8 bytes; the x's need no quoting.
    command = render_command("p", {"big": "x" * (MAX_COMMAND_BYTES - 8)})
    assert len(command.encode()) == MAX_COMMAND_BYTES
    with pytest.raises(ConfigError, match=f"is {MAX_COMMAND_BYTES + 1} bytes long"):
        render_command("p", {"big": "x" * (MAX_COMMAND_BYTES - 7)})


def test_render_command_is_fast_enough_for_a_million_configs() -> None:
    # A 1M-config plan must take at most 60 s overall. Rendering these configs (9
    # overrides, one unique W&B name each) measured 11-15 µs of CPU per config; the
    # bound, 50 µs, is where rendering alone would eat most of that minute. CPU time,
    # not wall time, so that a busy machine does not fail the test.
    configs = [
        {
            "model": {"width": 64 * (i % 4), "act": "gelu"},
            "optim": {"lr": 0.1 / (1 + i % 3), "name": "adam w"},
            "seed": i % 10,
            "data": {"path": "/data/x y", "splits": ["train", "val"]},
            "wandb": {"name": f"base_{i:08x}", "tags": ["base", "m-small"]},
        }
        for i in range(20_000)
    ]
    started = time.process_time()
    for params in configs:
        render_command("python train.py", params)
    assert time.process_time() - started < 1.0


# Keys of mappings that get flattened: Hydra key grammar parts.
_PARAM_KEYS = st.from_regex(r"[A-Za-z_$][A-Za-z0-9_$-]{0,5}", fullmatch=True)
# Keys of mappings inside lists: every character Hydra's dictionary keys allow. The
# leading "k" keeps them from being one number/boolean token (tested above).
_LIST_DICT_KEYS = st.text(alphabet="aZ09_-/+.$%*@?|\\()[]{}:=, \t", max_size=6).map(
    lambda text: "k" + text
)
# NUL and lone surrogates cannot be on a command line (ConfigError, tested above).
_TEXT = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12
)
_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | _TEXT
_LIST_MEMBERS = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(_LIST_DICT_KEYS, inner, max_size=3)
    ),
    max_leaves=8,
)
_PARAM_VALUES = st.recursive(
    _SCALARS | st.lists(_LIST_MEMBERS, max_size=4),
    lambda inner: st.dictionaries(_PARAM_KEYS, inner, max_size=3),
    max_leaves=6,
)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(values=st.lists(_PARAM_VALUES, min_size=1, max_size=60))
def test_generated_values_round_trip_exactly(
    values: list[Any], hydra_apps_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    params = {f"h{i}": value for i, value in enumerate(values)}
    report = run_app(
        hydra_apps_dir / "hydra_echo.py", params, tmp_path_factory.mktemp("hypothesis")
    )
    assert report["resolve_error"] is None
    assert report["non_string_keys"] == []
    problems = []
    for key, expected in flatten_params(params):
        resolved = _select(report["resolved"], key)
        if not _same(resolved, expected):
            problems.append(f"{key}: sent {expected!r}, app read {resolved!r}")
        stored = _select(report["config"], key)
        escaped = "${" in canonical.dumps(expected) or '"???"' in canonical.dumps(
            expected
        )
        if not escaped and not _same(stored, expected):
            problems.append(f"{key}: sent {expected!r}, app stored {stored!r}")
    assert problems == []


# Nasty fragments for strings: quotes, backslashes, OmegaConf and Hydra syntax.
_FRAGMENTS = [
    "\\",
    "'",
    '"',
    "$",
    "{",
    "}",
    "${",
    "???",
    "a",
    " ",
    ",",
    "=",
    ":",
    "[",
    "1",
]
_HYDRA_PARSER = OverridesParser.create()
_NASTY_TEXT = st.lists(st.sampled_from(_FRAGMENTS), max_size=8).map("".join)


@settings(max_examples=200, deadline=None)
@given(text=_NASTY_TEXT | _TEXT, key=_LIST_DICT_KEYS | st.text(max_size=4))
def test_hydra_parser_and_omegaconf_read_back_every_string_and_dict_key(
    text: str, key: str
) -> None:
    # In-process companion of the app runs above: Hydra's own override parser and
    # OmegaConf's resolver, many more examples than subprocesses would allow.
    value = [text, {key: text}]
    try:
        word = override_word("x", value)
    except ConfigError as err:
        assert "mapping key" in err.problem
        assert not _dict_key_survives_hydra(key)
        return
    parsed = _HYDRA_PARSER.parse_override(word).value()
    config = OmegaConf.create({})
    OmegaConf.update(config, "x", parsed, merge=True, force_add=True)
    assert _same(OmegaConf.to_container(config, resolve=True)["x"], value)


def _dict_key_survives_hydra(key: str) -> bool:
    """Whether Hydra reads ``key``, written with its ESC escapes, back as that string."""
    escaped = "".join("\\" + char if char in "\\()[]{}:=, \t" else char for char in key)
    try:
        parsed = _HYDRA_PARSER.parse_override(f"++x=[{{{escaped}:1}}]").value()
    except Exception:  # Hydra's grammar error: the key cannot be written at all
        return False
    assert isinstance(parsed, list)
    return list(parsed[0]) == [key]


GROUP_PARAMS: dict[str, Any] = {
    "optimizer": "sgd.v2",
    "model": {"encoder": "vit large", "depth": 3},
    "seed": 1,
}


def test_config_group_keys_select_options(hydra_apps_dir: Path, tmp_path: Path) -> None:
    report = run_app(
        hydra_apps_dir / "hydra_groups.py",
        GROUP_PARAMS,
        tmp_path,
        group_keys=frozenset({"optimizer", "model.encoder"}),
    )
    assert report["config"] == {
        "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9},
        "model": {"encoder": {"kind": "vit", "patch": 16}, "depth": 3},
        "seed": 1,
    }


def test_hydra_refuses_plus_plus_for_config_groups(
    hydra_apps_dir: Path, tmp_path: Path
) -> None:
    # Why group_keys exist: the ++ form every other key uses fails for a group.
    result = run_planned(hydra_apps_dir / "hydra_groups.py", GROUP_PARAMS, tmp_path)
    assert result.returncode == 1
    assert "force-add of config groups is not supported" in result.stderr


def test_group_words() -> None:
    command = render_command(
        "p", GROUP_PARAMS, group_keys=frozenset({"optimizer", "model.encoder"})
    )
    assert command == (
        "p ++model.depth=3 'model/encoder=\"vit large\"' 'optimizer=\"sgd.v2\"' ++seed=1"
    )
    with pytest.raises(ConfigError, match="takes the name of one of its options"):
        group_word("optimizer", 1)
    with pytest.raises(ConfigError, match="config group key '\\$x' cannot be passed"):
        group_word("$x", "adam")
