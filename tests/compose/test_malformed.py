"""No malformed experiment ends in a traceback: every failure is one ConfigError.

A valid experiment using every feature is mutated at a random key path (a value
replaced by a hostile one, or a key deleted) and composed; the only allowed
outcomes are a composition or a ConfigError naming a file. (All 2,184 single
mutations were run once by hand without a crash; the test samples them.)
"""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geryon.compose import compose, run_set_names
from geryon.compose.tree import clone
from geryon.errors import ConfigError

LIBRARY = {
    "option_sets": {
        "seeds": [{"id": "s1", "params": {"seed": 1}}, {"id": "s2", "params": {}}]
    },
    "packs": {"seed_pack": {"name": "seed", "options_from": [{"ref": "seeds"}]}},
    "groups": {
        "core": [{"ref": "seed_pack"}, {"group": "inner"}],
        "inner": [{"ref": "/top"}],
    },
}

ROOT = {
    "schema": {"version": 4},
    "imports": [{"path": "lib.yaml", "package": "lib"}],
    "packs": {
        "top": {
            "name": "top",
            "options": [{"id": "t", "tag": "x", "params": {"a": {"b": 1}}}],
        }
    },
    "command": {"program": "python", "args": ["train.py"]},
    "defaults": {"params": {"lr": 0.1}, "tags": ["base"]},
    "merge": {"mode": "merge", "strategies": {"a.b": "replace"}},
    "constraints": {
        "exclude": [{"when": {"seed": ["s1"]}}],
        "predicates": [
            {"id": "p", "args": {"x": {"param": "lr"}}, "expr": {"gt": ["$x", 0]}}
        ],
    },
    "select": {
        "groups": ["lib.core"],
        "packs": [
            {"name": "opt", "options": [{"id": "sgd", "params": {"opt": "sgd"}}]},
            {
                "ref": "lib.seed_pack",
                "name": "again",
                "filter": {"exclude_ids": ["s2"]},
            },
        ],
    },
    "run_sets": {
        "base": {"append": {"defaults": {"tags": ["b"]}}},
        "fast": {
            "extends": ["base"],
            "replace": {"select": {"groups": []}},
            "patch_packs": {"opt": {"options": [{"id": "adam", "params": {}}]}},
        },
    },
}

HOSTILE: list[Any] = [
    None,
    0,
    -1,
    True,
    1.5,
    "",
    "  ",
    "x",
    "a.b",
    "/",
    "ünï cødé",
    [],
    [None],
    ["x"],
    {},
    {"x": 1},
    {"group": "lib.core"},
    {"ref": "nope"},
    [{"id": 1}],
    datetime.date(2024, 1, 1),
]


def key_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    paths = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            paths.extend(key_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths.extend(key_paths(item, (*prefix, index)))
    return paths


def mutate(
    document: dict[str, Any], path: tuple[Any, ...], action: Any
) -> dict[str, Any]:
    mutated = clone(document)
    parent = mutated
    for part in path[:-1]:
        parent = parent[part]
    if action == "delete":
        del parent[path[-1]]
    else:
        parent[path[-1]] = (
            clone(action) if not isinstance(action, datetime.date) else action
        )
    return mutated


def attempt(root: dict[str, Any], library: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "lib.yaml").write_text(yaml.safe_dump(library))
        (base / "exp.yaml").write_text(yaml.safe_dump(root))
        for run_set in (None, "fast"):
            try:
                compose(base / "exp.yaml", run_set=run_set)
            except ConfigError as err:
                assert err.file is not None
                assert str(err).strip()
        try:
            run_set_names(base / "exp.yaml")
        except ConfigError as err:
            assert err.file is not None


def test_the_base_documents_compose() -> None:
    attempt(ROOT, LIBRARY)


ROOT_PATHS = key_paths(ROOT)
LIBRARY_PATHS = key_paths(LIBRARY)
ACTIONS = st.sampled_from(["delete", *HOSTILE])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(ROOT_PATHS), action=ACTIONS)
def test_mutated_root_never_crashes(path: tuple[Any, ...], action: Any) -> None:
    attempt(mutate(ROOT, path, action), LIBRARY)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(LIBRARY_PATHS), action=ACTIONS)
def test_mutated_import_never_crashes(path: tuple[Any, ...], action: Any) -> None:
    attempt(ROOT, mutate(LIBRARY, path, action))
