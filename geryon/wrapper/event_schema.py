"""JSON Schemas of the task and batch event streams (spec E36), and a small validator.

The schemas are ordinary JSON Schema (draft 2020-12) documents; the tests check
them with the ``jsonschema`` library. The wrapper validates with the tiny
interpreter below instead, because importing ``jsonschema`` costs about 170 ms and
the wrapper starts once per batch. It understands exactly the keywords used here:
``type``, ``required``, ``properties``, ``enum`` and ``const``.
"""

from __future__ import annotations

from typing import Any

from geryon.errors import ConfigError

SCHEMA_VERSION = 1

_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM = {"type": "number"}
_BOOL = {"type": "boolean"}
_OBJ = {"type": "object"}
_LIST = {"type": "array"}
_OPT_STR = {"type": ["string", "null"]}
_OPT_INT = {"type": ["integer", "null"]}
_OPT_NUM = {"type": ["number", "null"]}

COMMON: dict[str, Any] = {
    "schema_version": {"const": SCHEMA_VERSION},
    "event": _STR,
    "time": {"type": "string", "minLength": 1},
    "run_id": {"type": "string", "minLength": 1},
    "job_id": {"type": "string", "minLength": 1},
    "array_task_id": {"type": "string", "minLength": 1},
    "submission_id": _OPT_STR,
}

_COMMAND_START = {
    "batch_index": _INT,
    "line_index": _INT,
    "config_id": _STR,
    "attempt_id": _STR,
    "wave_index": _INT,
    "executor": _STR,
}
_COMMAND_COMPLETE = {
    "batch_index": _INT,
    "line_index": _INT,
    "config_id": _STR,
    "status": {"enum": ["success", "failed", "terminated"]},
    "attempt_id": _STR,
    "attempt_index": _INT,
    "duration_sec": _NUM,
}
_OPTIONAL_COMPLETE = {
    "status_reason": _OPT_STR,
    "exit_code": _OPT_INT,
    "parent_attempt_id": _OPT_STR,
    "pid": _OPT_INT,
    "tmux_session": _OPT_STR,
    "assigned_cores": _LIST,
    "signal": _OPT_STR,
}
_DROP = {
    "reason": _STR,
    "dropped_commands": _INT,
    "wave_index": _INT,
    "batch_index": _INT,
}
_FAIL_FAST = {
    "reason": _STR,
    "batch_index": _INT,
    "line_index": _INT,
    "config_id": _STR,
    "terminal_total": _INT,
    "terminal_failed": _INT,
    "failure_rate": _NUM,
}
_FILTER = {
    "batch_index": _INT,
    "planned_commands": _INT,
    "selected_commands": _INT,
    "skipped_not_selected": _INT,
    "skipped_resume": _INT,
}

TASK_EVENTS: dict[str, dict[str, Any]] = {
    "task_start": {
        "executor": _STR,
        "batches": _LIST,
        "resume": _BOOL,
        "selected_config_ids": _LIST,
        "policy": _OBJ,
    },
    "batch_start": {"batch_index": _INT, "num_commands": _INT, "executor": _STR},
    "batch_filter": _FILTER,
    "batch_launch": {"batch_index": _INT, "wave_index": _INT, "num_commands": _INT},
    "command_start": _COMMAND_START,
    "command_complete": _COMMAND_COMPLETE,
    "timeout_kill": {
        "batch_index": _INT,
        "line_index": _INT,
        "config_id": _STR,
        "attempt_id": _STR,
        "attempt_index": _INT,
    },
    "retry_scheduled": {
        "batch_index": _INT,
        "line_index": _INT,
        "config_id": _STR,
        "previous_attempt_id": _STR,
        "next_attempt_index": _INT,
        "retry_count": _INT,
        "max_retries": _INT,
        "status": _STR,
    },
    "fail_fast_stop": _FAIL_FAST,
    "fail_fast_drop_pending": _DROP,
    "batch_end": {
        "batch_index": _INT,
        "status": {"enum": ["completed", "fail_fast_stop", "interrupted"]},
    },
    "batch_skipped": {
        "batch_index": _INT,
        "skipped_not_selected": _INT,
        "skipped_resume": _INT,
    },
    "batch_skipped_fail_fast": {
        "batch_index": _INT,
        "num_commands": _INT,
        "reason": _STR,
    },
    "executor_error": {"error": _STR},
    "task_end": {"summary": _OBJ},
}

BATCH_EVENTS: dict[str, dict[str, Any]] = {
    "batch_start": TASK_EVENTS["batch_start"],
    "batch_filter": _FILTER,
    "command_start": _COMMAND_START,
    "command_complete": {
        k: v for k, v in _COMMAND_COMPLETE.items() if k != "duration_sec"
    },
    "retry_scheduled": {
        "batch_index": _INT,
        "line_index": _INT,
        "config_id": _STR,
        "retry_count": _INT,
        "max_retries": _INT,
        "status": _STR,
    },
    "fail_fast_stop": {"reason": _STR, "terminal_total": _INT, "terminal_failed": _INT},
    "fail_fast_drop_pending": _DROP,
    "batch_end": {
        "batch_index": _INT,
        "status": {
            "enum": [
                "completed",
                "fail_fast_stop",
                "skipped",
                "skipped_fail_fast",
                "dry_run",
                "interrupted",
            ]
        },
    },
}

# Fields some events carry besides their required ones, with their types.
OPTIONAL_FIELDS: dict[str, dict[str, Any]] = {
    "command_start": {
        "pid": _OPT_INT,
        "tmux_session": _OPT_STR,
        "assigned_cores": _LIST,
    },
    "command_complete": _OPTIONAL_COMPLETE,
    "fail_fast_stop": {"max_failures": _OPT_INT, "max_failure_rate": _OPT_NUM},
    "task_end": {"executor_error": _STR},
    "batch_end": {"reason": _STR},
}


def event_schema(stream: str, event: str) -> dict[str, Any]:
    """The JSON Schema of one event of the ``task`` or ``batch`` stream."""
    table = TASK_EVENTS if stream == "task" else BATCH_EVENTS
    specific = table[event]
    properties = {**COMMON, **OPTIONAL_FIELDS.get(event, {}), **specific}
    properties["event"] = {"const": event}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": sorted({*COMMON, *specific}),
        "properties": properties,
    }


def validate_event(stream: str, record: dict[str, Any]) -> None:
    """Raise :class:`ConfigError` when ``record`` does not match its schema."""
    table = TASK_EVENTS if stream == "task" else BATCH_EVENTS
    event = record.get("event")
    if event not in table:
        raise ConfigError(f"unknown {stream} event {event!r}", key_path="event")
    problem = _first_problem(event_schema(stream, str(event)), record, "")
    if problem:
        raise ConfigError(f"invalid {event} event: {problem}", key_path="event")


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}


def _first_problem(schema: dict[str, Any], value: Any, where: str) -> str | None:
    if "const" in schema and value != schema["const"]:
        return f"{where or 'value'} must be {schema['const']!r}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where or 'value'} must be one of {schema['enum']}"
    if "type" in schema and not _has_type(value, schema["type"]):
        return f"{where or 'value'} must be of type {schema['type']}"
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        return f"{where} must not be empty"
    for name in schema.get("required", ()):
        if name not in value:
            return f"missing field {name!r}"
    for name, sub in schema.get("properties", {}).items():
        if isinstance(value, dict) and name in value:
            problem = _first_problem(sub, value[name], name)
            if problem:
                return problem
    return None


def _has_type(value: Any, wanted: str | list[str]) -> bool:
    names = [wanted] if isinstance(wanted, str) else wanted
    for name in names:
        if isinstance(value, bool) and name in ("integer", "number"):
            continue
        if isinstance(value, _TYPES[name]):
            return True
    return False
