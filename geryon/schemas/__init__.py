"""JSON Schemas of geryon's input files and the one place that runs them.

``<name>.schema.json`` files live next to this module (``experiment``,
``profiles``). :func:`validate` checks a loaded document against one of them and
turns the most useful violation (``jsonschema.exceptions.best_match``) into one
:class:`~geryon.errors.ConfigError` with the key path, what was expected and a
hint taken from the schema's ``description`` texts.

Two conventions of our schemas:

* ``"integer"`` means a real integer: ``1.0`` and ``true`` are rejected (the
  stock JSON Schema type accepts ``1.0``; YAML authors rarely mean it).
* ``"x-expected"`` on a subschema is a short phrase ("a non-empty string") used
  in messages instead of the raw JSON Schema wording.
* ``"x-no-dotted-keys": true`` rejects mapping keys containing ``.`` at any depth
  of the value (spec S10). It is one Python walk instead of a recursive subschema,
  which made validating a 60-option experiment four times slower.
"""

from __future__ import annotations

import functools
import json
from collections import deque
from collections.abc import Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match

from geryon.errors import ConfigError, GeryonError, key_path

SCHEMA_NAMES = ("experiment", "profiles")

_NESTING_HINT = "Nest mappings instead: write {a: {b: 1}} rather than {a.b: 1}"
_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _is_strict_integer(_checker: Any, instance: Any) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


_TYPE_CHECKER = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
    "integer", _is_strict_integer
)


def _no_dotted_keys(
    _validator: Any, enabled: Any, instance: Any, _schema: Any
) -> Iterator[ValidationError]:
    found = _first_dotted_key(instance, []) if enabled else None
    if found is not None:
        path, key = found
        yield ValidationError(
            f"key {_show(key)} contains '.'", path=deque(path), instance=key
        )


def _first_dotted_key(value: Any, path: list[Any]) -> tuple[list[Any], Any] | None:
    if isinstance(value, dict):
        for key, item in value.items():
            if "." in str(key):
                return path, key
            found = _first_dotted_key(item, [*path, key])
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_dotted_key(item, [*path, index])
            if found is not None:
                return found
    return None


_Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    validators={"x-no-dotted-keys": _no_dotted_keys},
    type_checker=_TYPE_CHECKER,
)


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """Return the parsed ``<name>.schema.json`` shipped with geryon.

    The result is cached and shared: do not modify it.
    """
    try:
        text = (
            resources.files(__name__)
            .joinpath(f"{name}.schema.json")
            .read_text(encoding="utf-8")
        )
    except FileNotFoundError as err:
        known = ", ".join(SCHEMA_NAMES)
        raise GeryonError(f"no JSON Schema named '{name}' (known: {known})") from err
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _validator(name: str) -> Any:
    return _Validator(load_schema(name))


def validate(instance: Any, name: str, *, file: str | Path | None) -> None:
    """Check ``instance`` against schema ``name``; raise one ConfigError if invalid."""
    error = best_match(_validator(name).iter_errors(instance))
    if error is None:
        return
    raise _to_config_error(error, load_schema(name), file=file)


def _to_config_error(
    error: ValidationError, root: dict[str, Any], *, file: str | Path | None
) -> ConfigError:
    path: list[str | int] = [_path_part(part) for part in error.absolute_path]
    description = _description(root, error.absolute_schema_path)
    keyword = str(error.validator)
    if "propertyNames" in error.absolute_schema_path:
        problem = (
            f"key {_show(error.instance)} is not allowed: expected {_expected(error)}"
        )
        return ConfigError(
            problem, file=file, key_path=key_path(path), hint=description
        )
    if keyword == "x-no-dotted-keys":
        problem = f"{error.message}: dotted keys are not allowed"
        return ConfigError(
            problem, file=file, key_path=key_path(path), hint=_NESTING_HINT
        )
    if keyword == "additionalProperties":
        return _unknown_keys_error(error, path, description, file=file)
    if keyword == "required":
        instance: Any = error.instance
        required: Any = error.validator_value
        missing = [key for key in required if key not in instance]
        problem = f"missing required key {_names(missing)}"
        expected = _schema_of(error).get("x-expected", description)
        return ConfigError(problem, file=file, key_path=key_path(path), hint=expected)
    problem = f"expected {_expected(error)}, found {describe(error.instance)}"
    return ConfigError(problem, file=file, key_path=key_path(path), hint=description)


def _unknown_keys_error(
    error: ValidationError,
    path: list[str | int],
    description: str | None,
    *,
    file: str | Path | None,
) -> ConfigError:
    allowed = list(_schema_of(error).get("properties", {}))
    instance: Any = error.instance
    extras = [key for key in instance if key not in allowed]
    hint = f"Allowed keys here: {', '.join(allowed)}"
    if description:
        hint = f"{hint}. {description}"
    where = key_path([*path, str(extras[0])]) if extras else key_path(path)
    return ConfigError(
        f"unknown key {_names(extras)}", file=file, key_path=where, hint=hint
    )


def _expected(error: ValidationError) -> str:
    expected = _schema_of(error).get("x-expected")
    if expected:
        return str(expected)
    keyword = error.validator
    value: Any = error.validator_value
    if keyword == "type":
        kinds = value if isinstance(value, list) else [value]
        return " or ".join(_TYPE_WORDS.get(str(kind), str(kind)) for kind in kinds)
    if keyword == "enum":
        return "one of " + ", ".join(_show(item) for item in value)
    if keyword == "const":
        return _show(value)
    if keyword == "minItems":
        return f"a list with at least {value} item(s)"
    if keyword == "maxItems":
        return f"a list with at most {value} item(s)"
    if keyword == "minProperties":
        return f"a mapping with at least {value} key(s)"
    if keyword == "pattern":
        return f"a string matching {value!r}"
    return error.message


def _schema_of(error: ValidationError) -> dict[str, Any]:
    schema: Any = error.schema
    return schema if isinstance(schema, dict) else {}


def _description(root: dict[str, Any], schema_path: Iterable[Any]) -> str | None:
    """The description of the most specific schema on the path of the failure.

    A description written next to a ``$ref`` (``imports[].path``) is more useful
    than the generic one of the referenced definition (``non_empty_string``), so
    a referenced definition only supplies one when the referencing node has none.
    """
    node: Any = root
    best: str | None = None
    for step in schema_path:
        while isinstance(node, dict) and step not in node and "$ref" in node:
            target = _resolve_local_ref(root, node["$ref"])
            if "description" not in node and isinstance(target, dict):
                best = target.get("description", best)
            node = target
        node = node.get(step) if isinstance(node, dict) else None
        if isinstance(node, dict) and "description" in node:
            best = node["description"]
    return best


def _resolve_local_ref(root: dict[str, Any], ref: str) -> Any:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _path_part(part: Any) -> str | int:
    return part if isinstance(part, int) else str(part)


def _names(keys: list[Any]) -> str:
    return ", ".join(_show(key) for key in keys)


def _show(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value, default=str)


def describe(value: Any) -> str:
    """Describe a loaded YAML value for an error message: ``the string 'x'``."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string '{shown}'"
    if isinstance(value, list):
        return f"a list of {len(value)} item(s)"
    if isinstance(value, dict):
        keys = ", ".join(str(key) for key in list(value)[:5])
        return f"a mapping with keys {keys}" if value else "an empty mapping"
    return f"a value of type {type(value).__name__}"
