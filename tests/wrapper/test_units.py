"""Fast checks of the wrapper's building blocks: CPU lists and core claims, event
schemas, the status rule."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from geryon.errors import ConfigError, GeryonError
from geryon.layout import RunLayout
from geryon.wrapper.cores import (
    CoreClaims,
    core_pool,
    parse_cpu_list,
    thread_environment,
)
from geryon.wrapper.event_schema import (
    BATCH_EVENTS,
    TASK_EVENTS,
    event_schema,
    validate_event,
)
from geryon.wrapper.launch import Launch, Outcome


@pytest.mark.parametrize(
    ("text", "cpus"),
    [("0-3", [0, 1, 2, 3]), (" 2, 0-1 ,,2 ", [2, 0, 1]), ("5", [5]), ("1-1,0", [1, 0])],
)
def test_cpu_list_syntax(text: str, cpus: list[int]) -> None:
    assert parse_cpu_list(text, source="settings.cores") == cpus


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("3-1", "'3-1' is not an ascending range"),
        ("a", "'a' is not N or N-M"),
        (" , ", "it names no CPU"),
    ],
)
def test_bad_cpu_list_is_a_config_error(text: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why) as caught:
        parse_cpu_list(text, source="settings.cores")
    assert caught.value.key_path == "settings.cores"


def test_pool_prefers_setting_then_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORES", "1")
    assert core_pool("0,1", None) == [0, 1]
    assert core_pool(None, None) == [1]
    assert core_pool("0-7", 3) == [0, 1, 2]


def test_claims_are_exclusive_across_holders(tmp_path: Path) -> None:
    layout = RunLayout(tmp_path)
    first = CoreClaims(layout, [0, 1, 2], 2)
    second = CoreClaims(layout, [0, 1, 2], 1)
    try:
        assert first.try_claim() == [0, 1]
        assert second.try_claim() == [2]
        assert second.try_claim() is None
        first.release([0, 1])
        assert second.try_claim() == [0]
    finally:
        first.close()
        second.close()


def test_pool_smaller_than_cores_per_task_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GeryonError, match="cores_per_task is 3 but only 2 CPU"):
        CoreClaims(RunLayout(tmp_path), [0, 1], 3)


def test_thread_environment_respects_callers_values() -> None:
    env = thread_environment([4, 5], {"OMP_NUM_THREADS": "8"})
    assert "OMP_NUM_THREADS" not in env
    assert env["MKL_NUM_THREADS"] == "2"
    assert env["OMP_PROC_BIND"] == "true"
    assert (env["GERYON_ASSIGNED_CORES"], env["GERYON_ASSIGNED_CORE_COUNT"]) == (
        "4,5",
        "2",
    )


@pytest.mark.parametrize(
    ("stream", "event"),
    [("task", name) for name in TASK_EVENTS]
    + [("batch", name) for name in BATCH_EVENTS],
)
def test_event_schemas_are_valid_json_schema(stream: str, event: str) -> None:
    jsonschema.Draft202012Validator.check_schema(event_schema(stream, event))


COMMON = {
    "schema_version": 1,
    "time": "2026-01-01T00:00:00Z",
    "run_id": "r",
    "job_id": "local",
    "array_task_id": "0",
    "submission_id": None,
}

SAMPLES = [
    (
        {"event": "batch_launch", "batch_index": 0, "wave_index": 1, "num_commands": 3},
        None,
    ),
    ({"event": "batch_launch", "batch_index": 0, "wave_index": 1}, "missing field"),
    (
        {
            "event": "batch_launch",
            "batch_index": True,
            "wave_index": 1,
            "num_commands": 3,
        },
        "batch_index must be of type integer",
    ),
    (
        {"event": "batch_end", "batch_index": 0, "status": "weird"},
        "status must be one of",
    ),
    ({"event": "executor_error", "error": "x", "schema_version": 2}, "schema_version"),
    ({"event": "task_end", "summary": {}, "job_id": ""}, "job_id must not be empty"),
]


@pytest.mark.parametrize(("fields", "problem"), SAMPLES)
def test_validator_agrees_with_jsonschema(fields: dict, problem: str | None) -> None:
    record = {**COMMON, **fields}
    schema = event_schema("task", record["event"])
    library_ok = jsonschema.Draft202012Validator(schema).is_valid(record)
    assert library_ok == (problem is None)
    if problem is None:
        validate_event("task", record)
    else:
        with pytest.raises(ConfigError, match=problem):
            validate_event("task", record)


def test_unknown_event_is_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown batch event 'batch_launch'"):
        validate_event("batch", {**COMMON, "event": "batch_launch"})


def _outcome(exit_code: int | None, **flags: bool) -> Outcome:
    launch = Launch({}, "a" * 32, Path("x"), Path("y"), "true", 1)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return Outcome(launch, moment, moment, exit_code, **flags)


@pytest.mark.parametrize(
    ("exit_code", "flags", "expected"),
    [
        (0, {}, ("success", None)),
        (3, {}, ("failed", None)),
        (-15, {}, ("terminated", "signal")),
        (None, {}, ("terminated", None)),
        (0, {"timed_out": True}, ("terminated", "timeout_kill")),
        (0, {"interrupted": True}, ("terminated", "interrupted")),
    ],
)
def test_one_status_rule(exit_code: int | None, flags: dict, expected: tuple) -> None:
    assert _outcome(exit_code, **flags).status() == expected


def test_history_reads_only_our_configs_and_skips_torn_lines(tmp_path: Path) -> None:
    from geryon.storage import append_jsonl
    from geryon.wrapper.history import AttemptHistory

    layout = RunLayout(tmp_path)
    layout.results_dir.mkdir(parents=True)
    path = layout.results_dir / "task_local_0.jsonl"
    ours, other = "a" * 40, "b" * 40
    append_jsonl(
        path,
        {
            "config_id": ours,
            "status": "failed",
            "attempt_id": "1",
            "end_time": "2026-01-01T00:00:01.000000Z",
        },
    )
    append_jsonl(path, {"config_id": other, "status": "success", "attempt_id": "2"})
    append_jsonl(
        path,
        {
            "config_id": ours,
            "status": "success",
            "attempt_id": "3",
            "end_time": "2026-01-01T00:00:02.000000Z",
        },
    )
    with path.open("ab") as handle:
        handle.write(b'{"config_id":"' + ours.encode() + b'","status":"fai')
    history = AttemptHistory.load(layout, [ours])
    assert history.count(ours) == 2
    assert history.count(other) == 0
    assert history.succeeded(ours)
