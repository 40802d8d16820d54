"""Argument checks shared by every builder of :mod:`geryon.dsl`.

Each check raises :class:`~geryon.errors.ConfigError` whose message starts with the
builder call and the argument that was wrong (``Option(params): ...``), so a user
can find the offending line of their Python script without a traceback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from geryon.errors import ConfigError, key_path

# Spec K11: predicate argument names.
ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Spec Y14: characters an option id token may keep.
_TOKEN_RUN = re.compile(r"[^A-Za-z0-9_.-]+")


def fail(call: str, argument: str, problem: str, hint: str | None = None) -> NoReturn:
    """Raise the one error type of the DSL, naming the call and its argument."""
    raise ConfigError(f"{call}: argument '{argument}' {problem}", hint=hint)


def text(call: str, argument: str, value: object) -> str:
    """A non-empty string, trimmed."""
    if not isinstance(value, str):
        fail(call, argument, f"must be a string, got {type(value).__name__} {value!r}")
    trimmed = value.strip()
    if not trimmed:
        fail(call, argument, "must be a non-empty string")
    return trimmed


def optional_text(call: str, argument: str, value: object) -> str | None:
    """``None`` stays unset; anything else must be a non-empty string (trimmed)."""
    return None if value is None else text(call, argument, value)


def integer(call: str, argument: str, value: object) -> int:
    """An integer; booleans are rejected although Python counts them as ints (Q3)."""
    if isinstance(value, bool) or not isinstance(value, int):
        fail(
            call, argument, f"must be an integer, got {type(value).__name__} {value!r}"
        )
    return value


def number(call: str, argument: str, value: object) -> float:
    """A finite int or float (not a boolean), as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(call, argument, f"must be a number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        fail(call, argument, f"must be finite, got {value!r}")
    return float(value)


def sequence(call: str, argument: str, value: object) -> list[Any]:
    """A list or tuple; a bare string is refused because it would be read per letter."""
    if isinstance(value, str | bytes) or not isinstance(value, list | tuple):
        fail(
            call,
            argument,
            f"must be a list or tuple, got {type(value).__name__} {value!r}",
            hint="Wrap a single value in a list: ['x'].",
        )
    return list(value)


def id_list(call: str, argument: str, value: object) -> list[str]:
    """Spec Y1: strings, trimmed, blanks and repeats dropped, order kept."""
    items: list[str] = []
    for index, item in enumerate(sequence(call, argument, value)):
        if not isinstance(item, str):
            fail(call, f"{argument}[{index}]", f"must be a string, got {item!r}")
        trimmed = item.strip()
        if trimmed and trimmed not in items:
            items.append(trimmed)
    return items


def mapping(call: str, argument: str, value: object) -> Mapping[Any, Any]:
    if not isinstance(value, Mapping):
        fail(call, argument, f"must be a mapping, got {type(value).__name__} {value!r}")
    return value


def params(call: str, argument: str, value: object) -> dict[str, Any]:
    """A parameter mapping (spec S10): string keys without dots, at any depth."""
    converted: dict[str, Any] = plain(call, argument, mapping(call, argument, value))
    _reject_dotted_keys(call, argument, converted, [])
    return converted


def _reject_dotted_keys(
    call: str, argument: str, value: Any, path: list[str | int]
) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if "." in key:
                where = key_path([argument, *path, key])
                fail(
                    call,
                    argument,
                    f"has a dotted key at {where}; dotted keys are not allowed",
                    hint="Nest mappings instead: {'train': {'lr': 0.1}}.",
                )
            _reject_dotted_keys(call, argument, item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _reject_dotted_keys(call, argument, item, [*path, index])


def plain(
    call: str, argument: str, value: Any, path: tuple[str | int, ...] = ()
) -> Any:
    """A deep copy of ``value`` made only of YAML/JSON data.

    Spec objects (anything with ``to_dict``) become their mappings, tuples become
    lists; other types (dates, sets, objects) are refused here rather than breaking
    config ids later (Q17).
    """
    # Specs live in modules that import this one, so they are recognised by their
    # rendering method rather than by class.
    to_dict: Callable[[], Any] | None = getattr(value, "to_dict", None)
    if to_dict is not None and not isinstance(value, type):
        return to_dict()
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, Mapping):
        return _plain_mapping(call, argument, value, path)
    if isinstance(value, list | tuple):
        return [plain(call, argument, item, (*path, i)) for i, item in enumerate(value)]
    where = key_path([argument, *path])
    fail(
        call,
        argument,
        f"holds {type(value).__name__} {value!r} at {where}; only strings, numbers, "
        "booleans, null, lists and mappings can be written to an experiment",
    )


def _plain_mapping(
    call: str, argument: str, value: Mapping[Any, Any], path: tuple[str | int, ...]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            where = key_path([argument, *path])
            fail(call, argument, f"has the non-string key {key!r} at {where}")
        result[key] = plain(call, argument, item, (*path, key))
    return result


def token(raw: str) -> str:
    """Spec Y14 sanitiser: keep ``[A-Za-z0-9_.-]``, other runs become ``_``."""
    cleaned = _TOKEN_RUN.sub("_", raw.strip()).strip("_")
    return cleaned or "v"


def all_of(items: Iterable[Any], kind: type | tuple[type, ...]) -> bool:
    return all(isinstance(item, kind) for item in items)
