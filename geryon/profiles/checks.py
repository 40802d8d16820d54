"""Per-value type checks and normalisation of profile fields (F5-F11, Q38, Q39)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from geryon.errors import ConfigError, key_path
from geryon.profiles.keys import (
    ENV_NAME,
    RUN_BOOL_KEYS,
    RUN_INT_KEYS,
    RUN_NULLABLE_INT_KEYS,
    SLURM_INT_KEYS,
    SLURM_STRING_KEYS,
)
from geryon.settings import EXECUTORS, RETRYABLE_STATUSES


class Checker:
    """Type checks with error messages that name the file and the key path."""

    def __init__(self, path: Path, where: list[str | int]) -> None:
        self.path = path
        self.where = where

    def fail(self, key: str, problem: str, hint: str) -> ConfigError:
        return ConfigError(
            problem, file=self.path, key_path=key_path([*self.where, key]), hint=hint
        )

    def string(self, raw: dict[str, Any], key: str) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {value!r}", "Quote the value")
        return value.strip() or None

    def integer(self, raw: dict[str, Any], key: str, *, nullable: bool) -> int | None:
        value = raw.get(key)
        if value is None and nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            expected = "an integer or null" if nullable else "an integer"
            raise self.fail(
                key, f"expected {expected}, got {value!r}", "Write a whole number"
            )
        return value

    def boolean(self, raw: dict[str, Any], key: str) -> bool | None:
        value = raw.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self.fail(key, f"expected true or false, got {value!r}", "Use true/false")

    def string_list(self, raw: dict[str, Any], key: str) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(
                key, f"expected a list of strings, got {value!r}", "Quote each line"
            )
        return tuple(item.strip() for item in value if item.strip())

    def mail_type(self, raw: dict[str, Any], key: str) -> str | None:
        value = raw.get(key)
        if value is None:
            return None
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
            raise self.fail(
                key,
                f"expected a string or a list of strings, got {value!r}",
                "Write e.g. END,FAIL",
            )
        kept = [p.strip() for p in parts if p.strip()]
        return ",".join(kept) or None

    def options(self, raw: dict[str, Any], key: str) -> dict[str, Any]:
        """``slurm_additional_parameters`` / ``sbatch_option``: ``-`` becomes ``_``."""
        value = raw.get(key) or {}
        options: dict[str, Any] = {}
        for name, item in value.items():
            clean = str(name).strip().replace("-", "_")
            if not clean:
                raise self.fail(
                    key, "option names must not be empty", "Name the option"
                )
            options[clean] = item
        return options

    def env(self, raw: dict[str, Any], key: str) -> dict[str, str]:
        value = raw.get(key) or {}
        env: dict[str, str] = {}
        for name, item in value.items():
            if not ENV_NAME.match(str(name)):
                raise self.fail(
                    key,
                    f"{name!r} is not a valid environment variable name",
                    "Use letters, digits and '_', not starting with a digit",
                )
            env[str(name)] = _env_text(item)
        return env

    def run_settings(
        self, raw: dict[str, Any], allowed: tuple[str, ...]
    ) -> dict[str, Any]:
        """F7/F8: normalised ``defaults.<command>`` keys that are set."""
        unknown = sorted(set(raw) - set(allowed))
        if unknown:
            raise self.fail(
                str(unknown[0]),
                f"unknown key {unknown[0]!r}",
                f"Allowed keys: {', '.join(allowed)}",
            )
        values: dict[str, Any] = {}
        for key in raw:
            values[key] = self._run_value(raw, key)
        return values

    def _run_value(self, raw: dict[str, Any], key: str) -> Any:
        if key == "executor":
            return self.executor(raw, key)
        if key in RUN_INT_KEYS:
            return self.integer(raw, key, nullable=False)
        if key in RUN_NULLABLE_INT_KEYS or key in SLURM_INT_KEYS:
            return self.integer(raw, key, nullable=True)
        if key in (*RUN_BOOL_KEYS, "query_status"):
            return self.boolean(raw, key)
        if key in ("cores", *SLURM_STRING_KEYS):
            return self.string(raw, key)
        if key == "retry_on_status":
            return self.statuses(raw, key)
        if key == "fail_fast_threshold":
            return self.threshold(raw, key)
        if key == "mail_type":
            return self.mail_type(raw, key)
        if key == "slurm_setup_cmds":
            return self.string_list(raw, key)
        return self.options(raw, key)

    def executor(self, raw: dict[str, Any], key: str) -> str:
        value = raw.get(key)
        text = value.strip() if isinstance(value, str) else value
        if text not in EXECUTORS:
            raise self.fail(
                key,
                f"unknown executor {value!r}",
                f"Valid executors: {', '.join(EXECUTORS)}",
            )
        return str(text)

    def statuses(self, raw: dict[str, Any], key: str) -> tuple[str, ...]:
        """F9: a string or list, each item possibly comma-separated."""
        value = raw.get(key)
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise self.fail(
                key,
                f"expected a string or list, got {value!r}",
                "Write failed,terminated",
            )
        statuses = _parse_statuses(items)
        bad = [s for s in statuses if s not in RETRYABLE_STATUSES]
        if bad or not statuses:
            problem = f"invalid status {bad[0]!r}" if bad else "no status given"
            raise self.fail(
                key, problem, f"Valid statuses: {', '.join(RETRYABLE_STATUSES)}"
            )
        return statuses

    def threshold(self, raw: dict[str, Any], key: str) -> float | None:
        value = raw.get(key)
        if value is None:
            return None
        try:
            return parse_threshold(value)
        except ValueError as err:
            raise self.fail(
                key,
                str(err),
                "Write a fraction such as 0.25 or a percentage such as '25%'",
            ) from err


def _parse_statuses(items: list[str]) -> tuple[str, ...]:
    statuses: list[str] = []
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if part and part not in statuses:
                statuses.append(part)
    return tuple(statuses)


def _env_text(value: Any) -> str:
    """Q38: booleans are written ``true`` / ``false`` (shell and YAML spelling)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parse_threshold(value: Any) -> float:
    """Q39: a fraction in (0, 1], or a string ``"N%"``; nothing is guessed."""
    if isinstance(value, bool):
        raise ValueError(f"expected a fraction or a percentage, got {value!r}")
    if isinstance(value, str) and value.strip().endswith("%"):
        number = _number(value.strip()[:-1], value) / 100.0
    elif isinstance(value, str):
        number = _number(value, value)
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise ValueError(f"expected a fraction or a percentage, got {value!r}")
    if not 0.0 < number <= 1.0:
        raise ValueError(
            f"{value!r} is not a failure rate in (0, 1] "
            "(a bare number above 1 is not read as a percentage)"
        )
    return number


def _number(text: str, original: Any) -> float:
    try:
        return float(text.strip())
    except ValueError as err:
        raise ValueError(f"{original!r} is not a number or percentage") from err


# ------------------------------------------------------------ precedence (F12, E1)
