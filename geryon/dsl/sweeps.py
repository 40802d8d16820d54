"""Helpers that build a whole pack from a list of values (spec Y14–Y17)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from geryon.dsl import _values as v
from geryon.dsl.specs import Option, Pack


@dataclass(frozen=True, kw_only=True)
class TaggedParams:
    """An explicit ``{params, tag}`` entry for :func:`pack_map`.

    Upstream ``pack_map`` guessed: a spec mapping with a ``params`` key was read as
    the ``{params, tag}`` form, so parameters whose top-level key is literally
    ``params`` were misread (Q42). Here a plain mapping is always the parameters,
    and an option that needs its own tag says so with this wrapper.
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    tag: str | None = None


def pack_param_values(
    *,
    pack_name: str,
    param_path: str,
    values: Sequence[Any],
    id_prefix: str | None = None,
    tag_prefix: str | None = None,
    value_to_id: Callable[[Any], str] | None = None,
) -> Pack:
    """A pack with one option per value, each setting ``param_path`` (spec Y14).

    The option id is a token of the value (floats with 6 significant digits,
    ``1e+08`` → ``1e_08``), prefixed by ``<id_prefix>_``; a token already produced
    by an earlier value gets ``_<NN>`` (the value's position) appended. With
    ``tag_prefix`` each option is tagged ``<tag_prefix>:<token>``.
    """
    call = "pack_param_values"
    items = v.sequence(call, "values", values)
    if not items:
        v.fail(call, "values", "must not be empty")
    return _values_pack(
        call, pack_name, param_path, items, id_prefix, tag_prefix, value_to_id
    )


def pack_param_linspace(
    *,
    pack_name: str,
    param_path: str,
    start: float,
    stop: float,
    num: int,
    id_prefix: str | None = None,
    tag_prefix: str | None = None,
) -> Pack:
    """``num`` evenly spaced floats from ``start`` to ``stop``, both included (Y15).

    Ids show 6 significant digits while the parameters keep the exact floats.
    """
    call = "pack_param_linspace"
    values = _spaced(
        call, v.number(call, "start", start), v.number(call, "stop", stop), num
    )
    return _values_pack(
        call, pack_name, param_path, values, id_prefix, tag_prefix, None
    )


def pack_param_logspace(
    *,
    pack_name: str,
    param_path: str,
    start_exp: float,
    stop_exp: float,
    num: int,
    base: float = 10.0,
    id_prefix: str | None = None,
    tag_prefix: str | None = None,
) -> Pack:
    """``base ** e`` for ``num`` exponents spaced from ``start_exp`` to ``stop_exp`` (Y16)."""
    call = "pack_param_logspace"
    base_value = v.number(call, "base", base)
    if base_value <= 0 or math.isclose(base_value, 1.0):
        v.fail(call, "base", f"must be positive and not 1; got {base!r}")
    exponents = _spaced(
        call,
        v.number(call, "start_exp", start_exp),
        v.number(call, "stop_exp", stop_exp),
        num,
    )
    values = [base_value**exponent for exponent in exponents]
    return _values_pack(
        call, pack_name, param_path, values, id_prefix, tag_prefix, None
    )


def pack_map(
    *,
    pack_name: str,
    options: Mapping[str, Mapping[str, Any] | TaggedParams],
    tag_prefix: str | None = None,
) -> Pack:
    """A pack from an ordered mapping ``option id → params`` (spec Y17, Q42).

    A mapping value is the option's parameters and, with ``tag_prefix``, gets the
    tag ``<tag_prefix>:<sanitised id>``. A :class:`TaggedParams` value carries its
    own tag (or none); ``tag_prefix`` is not applied to it.
    """
    call = "pack_map"
    entries = v.mapping(call, "options", options)
    if not entries:
        v.fail(call, "options", "must not be empty")
    prefix = _tag_prefix(call, tag_prefix)
    built = [_map_option(call, key, spec, prefix) for key, spec in entries.items()]
    seen: set[str] = set()
    for option in built:
        if option.id in seen:
            v.fail(
                call,
                "options",
                f"names the option id {option.id!r} twice (after trimming)",
            )
        seen.add(option.id)
    return Pack(name=v.text(call, "pack_name", pack_name), options=built)


def _map_option(call: str, key: object, spec: object, prefix: str | None) -> Option:
    option_id = v.text(call, "options", key)
    argument = f"options[{option_id!r}]"
    if isinstance(spec, TaggedParams):
        return Option(
            id=option_id, params=v.params(call, argument, spec.params), tag=spec.tag
        )
    tag = None if prefix is None else f"{prefix}:{v.token(option_id)}"
    return Option(id=option_id, params=v.params(call, argument, spec), tag=tag)


def _spaced(call: str, start: float, stop: float, num: int) -> list[float]:
    if v.integer(call, "num", num) <= 0:
        v.fail(call, "num", f"must be positive; got {num}")
    if num == 1:
        return [start]
    step = (stop - start) / (num - 1)
    return [start + index * step for index in range(num)]


def _values_pack(
    call: str,
    pack_name: str,
    param_path: str,
    values: list[Any],
    id_prefix: str | None,
    tag_prefix: str | None,
    value_to_id: Callable[[Any], str] | None,
) -> Pack:
    name = v.text(call, "pack_name", pack_name)
    segments = _segments(call, param_path)
    prefix = _id_prefix(call, id_prefix)
    tags = _tag_prefix(call, tag_prefix)
    seen: set[str] = set()
    options = []
    for index, value in enumerate(values):
        plain_value = v.plain(call, f"values[{index}]", value)
        tok = v.token(_raw_token(call, index, value, value_to_id))
        option_id = _unique_id(call, f"{prefix}_{tok}" if prefix else tok, index, seen)
        tag = None if tags is None else f"{tags}:{tok}"
        options.append(
            Option(id=option_id, params=_nest(segments, plain_value), tag=tag)
        )
    return Pack(name=name, options=options)


def _segments(call: str, param_path: object) -> list[str]:
    if not isinstance(param_path, str):
        v.fail(call, "param_path", f"must be a string, got {param_path!r}")
    segments = [segment for segment in param_path.split(".") if segment]
    if not segments:
        v.fail(call, "param_path", f"must name a parameter (got {param_path!r})")
    return segments


def _id_prefix(call: str, id_prefix: object) -> str:
    """A blank prefix means no prefix (spec Y14)."""
    if id_prefix is None:
        return ""
    if not isinstance(id_prefix, str):
        v.fail(call, "id_prefix", f"must be a string, got {id_prefix!r}")
    return id_prefix.strip()


def _tag_prefix(call: str, tag_prefix: object) -> str | None:
    return v.optional_text(call, "tag_prefix", tag_prefix)


def _raw_token(
    call: str, index: int, value: Any, value_to_id: Callable[[Any], str] | None
) -> str:
    if value_to_id is not None:
        raw = value_to_id(value)
        if not isinstance(raw, str):
            v.fail(
                call,
                "value_to_id",
                f"returned {raw!r} for values[{index}]; need a string",
            )
        return raw
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)


def _unique_id(call: str, option_id: str, index: int, seen: set[str]) -> str:
    if option_id in seen:
        option_id = f"{option_id}_{index:02d}"
    if option_id in seen:
        v.fail(
            call,
            "values",
            f"give the option id {option_id!r} twice, even with the position suffix",
            hint="Pass value_to_id= to choose distinct ids.",
        )
    seen.add(option_id)
    return option_id


def _nest(segments: list[str], value: Any) -> dict[str, Any]:
    nested: Any = value
    for segment in reversed(segments):
        nested = {segment: nested}
    return dict(nested)
