"""Run-setting precedence: built-ins, ``profile.defaults.<command>``, CLI flags
(F12, E1), with every range checked before anything runs (E2, E3 early: Q24)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geryon.errors import ConfigError, key_path
from geryon.profiles.keys import SETTING_KEYS
from geryon.profiles.model import Profile
from geryon.settings import RunSettings

BUILTIN_EXECUTOR = {"run_local": "process", "run_slurm": "tmux"}
CPU_LIST = re.compile(r"^\s*\d+(\s*-\s*\d+)?\s*(,\s*(\d+(\s*-\s*\d+)?)?\s*)*$")


@dataclass(frozen=True)
class ResolvedSettings:
    """The settings of one execution and where each value came from (E1)."""

    settings: RunSettings
    sources: dict[str, str]
    profile: str | None = None
    profiles_file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "profiles_file": self.profiles_file,
            "settings": self.settings.to_json(),
            "resolved_defaults_sources": dict(self.sources),
        }


def resolve_run_settings(
    profile: Profile | None,
    *,
    command: str = "run_local",
    cli_overrides: dict[str, Any] | None = None,
    force_resume: str | None = None,
) -> ResolvedSettings:
    """Built-in -> ``profile.defaults.<command>`` -> CLI (F12), all ranges checked.

    ``force_resume`` names the reason resume is forced on (``"retry_file"``, spec
    E7, or ``"recover"``); it is reported as that key's source. Every check of E2
    and E3 runs here, before anything is started (Q24).
    """
    values: dict[str, Any] = {"executor": BUILTIN_EXECUTOR[command]}
    sources = {key: "builtin" for key in SETTING_KEYS}
    if command != "run_local":
        sources.pop("progress")
    defaults = profile.defaults_for(command) if profile else {}
    for key in SETTING_KEYS:
        if defaults.get(key) is not None and key in sources:
            values[key] = defaults[key]
            sources[key] = "profile.defaults"
    for key, value in (cli_overrides or {}).items():
        if value is not None:
            values[key] = value
            sources[key] = "cli"
    if force_resume:
        values["resume"] = True
        sources["resume"] = force_resume
    values.update(_environment(profile, sources))
    where = _where(profile, command)
    _check_ranges(values, sources, where)
    settings = _build(values)
    name = profile.name if profile else None
    file = str(profile.file) if profile else None
    return ResolvedSettings(settings, sources, name, file)


def _environment(profile: Profile | None, sources: dict[str, str]) -> dict[str, Any]:
    """F12: ``env_script``, ``env_setup_cmds`` and ``env`` come from the profile."""
    if profile is None:
        return {}
    values: dict[str, Any] = {}
    for key in ("env_script", "env_setup_cmds", "env"):
        if profile.fields.get(key):
            values[key] = profile.fields[key]
            sources[key] = "profile"
    script = values.get("env_script")
    if script is not None and not Path(script).is_file():
        raise ConfigError(
            f"env_script {script} does not exist or is not a file",
            file=profile.file,
            key_path=key_path(["profiles", profile.name, "env_script"]),
            hint="Relative paths are resolved against the profiles file's folder",
        )
    return values


def _where(profile: Profile | None, command: str) -> tuple[Path | None, str]:
    if profile is None:
        return None, ""
    return profile.file, key_path(["profiles", profile.name, "defaults", command])


def _check_ranges(
    values: dict[str, Any], sources: dict[str, str], where: tuple[Path | None, str]
) -> None:
    """E2.5-E2.8 and the task-start checks of E3, moved before the run (Q24)."""
    minimums = {
        "max_concurrent_tasks": 1,
        "cores_per_task": 1,
        "batches_per_task": 1,
        "max_retries": 0,
        "max_total_cores": 1,
        "command_timeout_sec": 1,
        "max_failures": 1,
    }
    for key, minimum in minimums.items():
        value = values.get(key)
        if value is not None and value < minimum:
            _range_error(key, f"must be >= {minimum}, got {value}", sources, where)
    total = values.get("max_total_cores")
    per_task = values.get("cores_per_task", 1)
    if total is not None and total < per_task:
        _range_error(
            "max_total_cores",
            f"({total}) is smaller than cores_per_task ({per_task})",
            sources,
            where,
        )
    cores = values.get("cores")
    if cores is not None and not CPU_LIST.match(cores):
        _range_error(
            "cores", f"{cores!r} is not a CPU list like '0-3,8'", sources, where
        )


def _range_error(
    key: str, problem: str, sources: dict[str, str], where: tuple[Path | None, str]
) -> None:
    source = sources.get(key, "builtin")
    if source == "cli":
        flag = "--" + key.replace("_", "-")
        raise ConfigError(f"{flag} {problem}", hint="Pass a value in range")
    file, path = where
    raise ConfigError(
        f"{key} {problem}",
        file=file,
        key_path=f"{path}.{key}" if path else key,
        hint="Fix the profile value",
    )


def _build(values: dict[str, Any]) -> RunSettings:
    """E2.7: ``max_concurrent_tasks`` is capped by ``max_total_cores``."""
    total = values.get("max_total_cores")
    if total is not None:
        cap = total // values.get("cores_per_task", 1)
        values["max_concurrent_tasks"] = min(values.get("max_concurrent_tasks", 1), cap)
    if values.get("command_timeout_sec") is not None:
        values["command_timeout_sec"] = float(values["command_timeout_sec"])
    for key in ("retry_on_status", "env_setup_cmds"):
        if key in values:
            values[key] = tuple(values[key])
    if "env" in values:
        values["env"] = dict(values["env"])
    return RunSettings(**values)


# ------------------------------------------------------------------- Slurm (F13)
