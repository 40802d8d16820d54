"""Pretty JSON for huge status and report payloads, byte-identical to ``emit_json``.

``json.dumps`` with ``indent`` runs the pure-Python encoder, about 0.8 s for the
30 MB status of a million configs. The payload is mostly long lists of config
ids, so this encoder writes a list of strings with one C-level
``encode_basestring_ascii`` per item and one ``join``, and walks only the small
dicts and lists around them in Python. Anything outside plain JSON types (a
tuple, a path, a non-string key, a subclass) makes it hand the whole value to
``json.dumps`` instead, so the text is always exactly what
:func:`geryon.cli.output.emit_json` would print.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable
from json.encoder import (  # type: ignore[attr-defined]
    c_make_encoder,
    encode_basestring_ascii,
)
from typing import Any

_INDENT = "  "
_SCALARS = frozenset({str, int, float, bool, type(None)})
_INT = frozenset({int})
_STR = frozenset({str})
# What the ASCII JSON encoder writes differently from the text itself.
_NEEDS_ESCAPE = re.compile(r"[^ !#-\[\]-~]")
# C encoders whose item separator carries the indent of one nesting depth.
_FLAT_ENCODERS: dict[str, Callable[[Any], str]] = {}


class _Unsupported(Exception):
    """A value this encoder does not write itself."""


def pretty_json(value: Any) -> str:
    """``json.dumps(value, indent=2, sort_keys=True, default=str)``, faster."""
    parts: list[str] = []
    try:
        _value(value, "\n", parts)
    except _Unsupported:
        return json.dumps(value, indent=2, sort_keys=True, default=str)
    return "".join(parts)


def emit_pretty_json(payload: Any) -> None:
    """Print ``payload`` on stdout exactly as :func:`geryon.cli.output.emit_json`."""
    sys.stdout.write(pretty_json(payload) + "\n")
    sys.stdout.flush()


def _value(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is dict or kind is list:
        if not value:
            out.append("{}" if kind is dict else "[]")
        elif _SCALARS.issuperset(map(type, value.values() if kind is dict else value)):
            out.append(_flat(value, newline))
        elif kind is dict:
            _dict(value, newline, out)
        else:
            _list(value, newline, out)
    elif kind in _SCALARS:
        out.append(_scalar(value))
    else:
        raise _Unsupported


def _flat(value: dict[Any, Any] | list[Any], newline: str) -> str:
    """A non-empty container of scalars, through the C encoder.

    With an item separator of ``",\n" + indent`` the C encoder writes what the
    indenting encoder writes, except the line breaks after the opening and before
    the closing bracket, which are added around its text here.
    """
    inner = newline + _INDENT
    plain = _plain_strings(value, inner, newline)
    if plain is not None:
        return plain
    encode = _FLAT_ENCODERS.get(inner)
    if encode is None:
        encode = _FLAT_ENCODERS[inner] = _flat_encoder("," + inner)
    try:
        text = encode(value)
    except (TypeError, ValueError) as err:
        raise _Unsupported from err
    return text[0] + inner + text[1:-1] + newline + text[-1]


def _plain_strings(
    value: dict[Any, Any] | list[Any], inner: str, newline: str
) -> str | None:
    """A list of strings or a dict of string values (config ids, terminated
    reasons) whose every string JSON writes as it is (printable ASCII without
    quotes or backslashes), quoted and joined in one pass; else None."""
    separator = '",' + inner + '"'
    if isinstance(value, list):
        if _STR.issuperset(map(type, value)) and _plain("".join(value)):
            return "[" + inner + '"' + separator.join(value) + '"' + newline + "]"
        return None
    if (
        _STR.issuperset(map(type, value))
        and _STR.issuperset(map(type, value.values()))
        and _plain("".join(value) + "".join(value.values()))
    ):
        items = [f'{key}": "{text}' for key, text in sorted(value.items())]
        return "{" + inner + '"' + separator.join(items) + '"' + newline + "}"
    return None


def _plain(text: str) -> bool:
    return _NEEDS_ESCAPE.search(text) is None


def _flat_encoder(item_separator: str) -> Callable[[Any], str]:
    """The C encoder itself, made once: ``JSONEncoder.encode`` builds a new one
    per call, which costs more than encoding a small dict."""
    if c_make_encoder is None:
        encoder = json.JSONEncoder(sort_keys=True, separators=(item_separator, ": "))
        return encoder.encode
    make = c_make_encoder(
        None,  # no circular check: the values are scalars
        _no_default,
        encode_basestring_ascii,
        None,  # no indent: the separator carries it
        ": ",
        item_separator,
        True,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )
    return lambda value: "".join(make(value, 0))


def _no_default(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is str:
        return encode_basestring_ascii(value)
    if kind is int:
        return int.__repr__(value)
    if math.isfinite(value):
        return float.__repr__(value)
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _dict(value: dict[Any, Any], newline: str, out: list[str]) -> None:
    if any(type(key) is not str for key in value):
        raise _Unsupported
    inner = newline + _INDENT
    items = sorted(value.items())
    counters = _counter_texts([item for _key, item in items], inner)
    out.append("{")
    separator = inner
    for place, (key, item) in enumerate(items):
        out.append(separator)
        out.append(encode_basestring_ascii(key))
        out.append(": ")
        if counters is None:
            _value(item, inner, out)
        else:
            out.append(counters[place])
        separator = "," + inner
    out.append(newline)
    out.append("}")


def _counter_texts(values: list[Any], newline: str) -> list[str] | None:
    """The text of each value when every one is a non-empty dict of str -> int
    (status's per-batch counters: 60,000 small dicts for a million configs),
    else None. Dicts with the same keys share one ``%`` template, so each costs
    one formatting call instead of a pass through the encoder."""
    if not all(type(v) is dict and v for v in values):
        return None
    inner = newline + _INDENT
    # Key order as inserted -> (keys sorted, template).
    templates: dict[tuple[Any, ...], tuple[tuple[str, ...], str]] = {}
    texts = []
    for value in values:
        known = templates.get(tuple(value))
        if known is None:
            keys = tuple(value)
            if any(type(key) is not str for key in keys):
                return None
            ordered = tuple(sorted(keys))
            fields = [
                inner + encode_basestring_ascii(k).replace("%", "%%") + ": %d"
                for k in ordered
            ]
            known = templates[keys] = (ordered, "{" + ",".join(fields) + newline + "}")
        ordered, template = known
        numbers = tuple(map(value.__getitem__, ordered))
        if not _INT.issuperset(map(type, numbers)):
            return None
        texts.append(template % numbers)
    return texts


def _list(value: list[Any], newline: str, out: list[str]) -> None:
    inner = newline + _INDENT
    out.append("[")
    separator = inner
    for item in value:
        out.append(separator)
        _value(item, inner, out)
        separator = "," + inner
    out.append(newline)
    out.append("]")
