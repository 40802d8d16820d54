"""The one YAML reader of geryon: PyYAML's safe loader with YAML 1.1 typing.

Spec §0: experiment and profile files are read with a YAML 1.1 *safe* loader, so
``1e-3`` is a string, ``yes`` is ``True``, ``010`` is 8 and an unquoted
``2024-01-01`` is a date. The libyaml-backed ``CSafeLoader`` gives the same types
and is several times faster, so it is used whenever PyYAML was built with it.

Every problem becomes a :class:`~geryon.errors.ConfigError` naming the file and,
for syntax errors, the line and column (1-based, as editors show them).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml

from geryon.errors import ConfigError, key_path

_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Values JSON (and therefore canonical JSON, config ids and artifacts) can hold.
_JSON_SCALARS = (str, int, float, type(None))


def read_text(path: Path) -> str:
    """Read a UTF-8 text file, turning every OS or decoding failure into a ConfigError."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ConfigError("file not found", file=path) from err
    except IsADirectoryError as err:
        raise ConfigError("is a directory, expected a YAML file", file=path) from err
    except UnicodeDecodeError as err:
        raise ConfigError(
            f"not valid UTF-8 text (byte {err.start})",
            file=path,
            hint="Save the file as UTF-8",
        ) from err
    except OSError as err:
        raise ConfigError(f"cannot be read: {err.strerror}", file=path) from err


def parse_yaml_text(text: str, *, file: str | Path) -> Any:
    """Parse YAML text with the safe YAML 1.1 loader; ``file`` is used in errors."""
    try:
        return yaml.load(text, Loader=_SafeLoader)
    except yaml.MarkedYAMLError as err:
        raise ConfigError(_syntax_message(err), file=file) from err
    except yaml.YAMLError as err:
        raise ConfigError(f"YAML error: {err}", file=file) from err


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse one YAML file (safe loader, YAML 1.1 typing).

    An empty file gives ``None``; callers decide whether that is acceptable.
    """
    file = Path(path)
    return parse_yaml_text(read_text(file), file=file)


def _syntax_message(err: yaml.MarkedYAMLError) -> str:
    mark = err.problem_mark or err.context_mark
    where = ""
    if mark is not None:
        where = f" at line {mark.line + 1}, column {mark.column + 1}"
    parts = [part for part in (err.context, err.problem) if part]
    detail = "; ".join(parts) if parts else "invalid YAML"
    return f"YAML syntax error{where}: {detail}"


def find_non_json(value: Any) -> tuple[list[str | int], Any] | None:
    """Return the key path and value of the first value JSON cannot represent.

    The safe loader builds dates, timestamps, binary strings and sets, which have
    no place in an experiment (they cannot be hashed into a config id, spec Q17).
    Mapping keys are checked too. Shared containers (YAML aliases) are checked
    once, and a recursive alias is reported at the point where it loops.
    """
    return _Walker().walk(value, [])


class _Walker:
    def __init__(self) -> None:
        self.done: set[int] = set()
        self.active: set[int] = set()

    def walk(
        self, value: Any, path: list[str | int]
    ) -> tuple[list[str | int], Any] | None:
        if isinstance(value, _JSON_SCALARS):
            return None
        if not isinstance(value, dict | list):
            return path, value
        marker = id(value)
        if marker in self.active:
            return path, value
        if marker in self.done:
            return None
        self.active.add(marker)
        found = self._walk_children(value, path)
        self.active.discard(marker)
        self.done.add(marker)
        return found

    def _walk_children(
        self, value: dict[Any, Any] | list[Any], path: list[str | int]
    ) -> tuple[list[str | int], Any] | None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                found = self.walk(item, [*path, index])
                if found:
                    return found
            return None
        for key, item in value.items():
            if not isinstance(key, _JSON_SCALARS):
                return [*path, str(key)], key
            found = self.walk(item, [*path, str(key)])
            if found:
                return found
        return None


def reject_non_json(value: Any, *, file: str | Path) -> None:
    """Raise a ConfigError naming the first non-JSON value of a loaded document."""
    found = find_non_json(value)
    if found is None:
        return
    path, bad = found
    raise ConfigError(
        f"{describe_yaml_value(bad)} is not allowed here",
        file=file,
        key_path=key_path(path) or "(document root)",
        hint=_non_json_hint(bad),
    )


def describe_yaml_value(value: Any) -> str:
    """Name a loaded value the way a YAML author thinks of it (``a date 2024-01-01``)."""
    if isinstance(value, datetime.datetime):
        return f"a YAML timestamp ({value.isoformat()})"
    if isinstance(value, datetime.date):
        return f"a YAML date ({value.isoformat()})"
    if isinstance(value, bytes):
        return "a YAML binary value"
    if isinstance(value, set):
        return "a YAML set"
    if isinstance(value, list | dict):
        return "a recursive YAML alias"
    if isinstance(value, tuple):
        return "a YAML ordered mapping (!!omap/!!pairs)"
    return f"a value of type {type(value).__name__}"


def _non_json_hint(value: Any) -> str:
    if isinstance(value, datetime.date):
        return 'Quote it ("2024-01-01") to keep it as text'
    if isinstance(value, list | dict):
        return "Write the structure out instead of making an alias refer to itself"
    return "Use plain strings, numbers, booleans, null, lists and mappings"
