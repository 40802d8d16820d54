"""``profiles.yaml``: loading, normalisation and precedence (spec section 10).

A profiles file maps names to presets of run settings (``defaults.run_local`` /
``defaults.run_slurm``), environment bootstrap (``env``, ``env_script``,
``env_setup_cmds``) and Slurm resources. Loading checks types and normalises
values (F1-F11); :func:`resolve_run_settings` layers built-ins, the profile and
CLI flags into a :class:`geryon.settings.RunSettings` and checks every range
before anything runs (E2, and E3 early: Q24).

Deliberate differences from upstream (spec section 12):

* Q37: the file is only read when a profile is requested (or by
  ``list-profiles``); a broken ``./profiles.yaml`` does not break other runs.
* Q38: boolean ``env`` values become ``true`` / ``false``.
* Q39: ``fail_fast_threshold`` is a fraction in (0, 1] or an explicit ``"N%"``;
  a bare number above 1 is an error instead of a silent percentage.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from geryon.errors import ConfigError, key_path
from geryon.settings import EXECUTORS, RETRYABLE_STATUSES, RunSettings

DEFAULT_PROFILES_FILE = "profiles.yaml"

PROFILE_KEYS = (
    "partition",
    "time_min",
    "cpus_per_task",
    "mem_gb",
    "gpus_per_node",
    "job_name",
    "mail_user",
    "mail_type",
    "env_script",
    "env_setup_cmds",
    "slurm_setup_cmds",
    "slurm_additional_parameters",
    "env",
    "defaults",
)
DEFAULTS_COMMANDS = ("run_local", "run_slurm")
RUN_INT_KEYS = (
    "max_concurrent_tasks",
    "cores_per_task",
    "batches_per_task",
    "max_retries",
)
RUN_NULLABLE_INT_KEYS = ("max_total_cores", "command_timeout_sec", "max_failures")
RUN_BOOL_KEYS = ("resume", "progress")
RUN_LOCAL_KEYS = (
    "executor",
    *RUN_INT_KEYS,
    *RUN_NULLABLE_INT_KEYS,
    "cores",
    "retry_on_status",
    "fail_fast_threshold",
    *RUN_BOOL_KEYS,
)
SLURM_STRING_KEYS = ("partition", "job_name", "mail_user")
SLURM_INT_KEYS = ("time_min", "cpus_per_task", "mem_gb", "gpus_per_node")
RUN_SLURM_EXTRA_KEYS = (
    "slurm_setup_cmds",
    "sbatch_option",
    *SLURM_STRING_KEYS,
    *SLURM_INT_KEYS,
    "mail_type",
    "query_status",
)
RUN_SLURM_KEYS = (
    tuple(k for k in RUN_LOCAL_KEYS if k != "progress") + RUN_SLURM_EXTRA_KEYS
)
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# The run-setting keys whose source is reported (spec E1).
SETTING_KEYS = (
    "executor",
    "max_concurrent_tasks",
    "cores_per_task",
    "max_total_cores",
    "cores",
    "batches_per_task",
    "command_timeout_sec",
    "max_retries",
    "retry_on_status",
    "max_failures",
    "fail_fast_threshold",
    "resume",
    "progress",
)


@dataclass(frozen=True)
class Profile:
    """One normalised profile (F5-F10). Absent keys are ``None`` / empty."""

    name: str
    file: Path
    fields: dict[str, Any]
    run_local: dict[str, Any] = field(default_factory=dict)
    run_slurm: dict[str, Any] = field(default_factory=dict)

    def defaults_for(self, command: str) -> dict[str, Any]:
        return self.run_local if command == "run_local" else self.run_slurm

    def to_json(self) -> dict[str, Any]:
        """The F15 shape of one profile."""
        data: dict[str, Any] = {"name": self.name}
        for key in PROFILE_KEYS:
            if key != "defaults":
                data[key] = self.fields.get(key)
        for key in ("env_setup_cmds", "slurm_setup_cmds"):
            data[key] = list(data[key] or [])
        for key in ("slurm_additional_parameters", "env"):
            data[key] = dict(data[key] or {})
        data["defaults"] = {"run_local": _jsonable(self.run_local)}
        data["defaults"]["run_slurm"] = _jsonable(self.run_slurm)
        return data


@dataclass(frozen=True)
class ProfilesFile:
    path: Path
    profiles: dict[str, Profile]

    def get(self, name: str) -> Profile:
        profile = self.profiles.get(name.strip())
        if profile is None:
            names = ", ".join(sorted(self.profiles)) or "<none>"
            raise ConfigError(
                f"unknown profile {name!r}; available profiles: {names}",
                file=self.path,
                key_path=key_path(["profiles"]),
                hint="Pick one of the listed names or add the profile to the file",
            )
        return profile

    def to_json(self) -> dict[str, Any]:
        """``list-profiles --format json`` (spec F15)."""
        return {
            "profiles_file": str(self.path),
            "count": len(self.profiles),
            "profiles": {n: self.profiles[n].to_json() for n in sorted(self.profiles)},
        }


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


# ---------------------------------------------------------------- loading (F1-F4)


def profiles_path(profiles_file: str | Path | None) -> Path:
    """F1: ``--profiles-file`` (``~`` expanded) or ``./profiles.yaml``, absolute."""
    raw = (
        Path(profiles_file).expanduser()
        if profiles_file
        else Path(DEFAULT_PROFILES_FILE)
    )
    return raw.resolve()


def load_profiles(profiles_file: str | Path | None) -> ProfilesFile:
    """Read and normalise a whole profiles file; it must exist (list-profiles, F2)."""
    path = profiles_path(profiles_file)
    if not path.is_file():
        raise ConfigError(
            "profiles file not found",
            file=path,
            hint="Create it (see profiles/profiles.yaml in the geryon repository) "
            "or pass --profiles-file",
        )
    document = _read_yaml(path)
    _check_schema(document, path)
    return ProfilesFile(path=path, profiles=_normalise_profiles(document, path))


def select_profile(
    name: str | None, profiles_file: str | Path | None
) -> Profile | None:
    """The requested profile, or ``None`` without reading any file (Q37)."""
    if name is None:
        return None
    return load_profiles(profiles_file).get(name)


def _read_yaml(path: Path) -> Any:
    """The project's YAML loader (``geryon.yamlio``) when present, else PyYAML's safe one."""
    try:
        from geryon import yamlio
    except ImportError:
        return _read_yaml_plain(path)
    return yamlio.load_yaml_file(path)


def _read_yaml_plain(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(
            f"not valid YAML: {err}", file=path, hint="Fix the YAML syntax"
        ) from err


def _schema() -> dict[str, Any]:
    text = (Path(__file__).parent / "schemas" / "profiles.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _check_schema(document: Any, path: Path) -> None:
    """Structural check against ``profiles.schema.json``; the best error is raised."""
    validator = jsonschema.Draft202012Validator(_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(document))
    if error is None:
        return
    where = key_path(list(error.absolute_path))
    hint = "See 'geryon schema profiles' for every key and its type"
    if error.validator == "additionalProperties" and error.absolute_path:
        parent = list(error.absolute_path)
        hint = f"Allowed keys here: {', '.join(_allowed_at(parent))}"
    raise ConfigError(
        _schema_message(error), file=path, key_path=where or None, hint=hint
    ) from None


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "type":
        expected = error.validator_value
        if isinstance(expected, list):
            expected = " or ".join(t for t in expected)
        return f"expected {expected}, got {error.instance!r}"
    return str(error.message)


def _allowed_at(parent: list[str | int]) -> tuple[str, ...]:
    if len(parent) == 2:
        return PROFILE_KEYS
    if len(parent) == 3:
        return DEFAULTS_COMMANDS
    return RUN_LOCAL_KEYS


def _normalise_profiles(document: Any, path: Path) -> dict[str, Profile]:
    """F3: the root is a mapping (or empty), ``profiles`` a mapping (or null)."""
    if not document or not document.get("profiles"):
        return {}
    profiles: dict[str, Profile] = {}
    for raw_name, raw in document["profiles"].items():
        name = str(raw_name).strip()
        where: list[str | int] = ["profiles", str(raw_name)]
        if not name:
            raise ConfigError(
                "profile names must not be empty",
                file=path,
                key_path=key_path(where),
                hint="Give the profile a name",
            )
        if name in profiles:
            raise ConfigError(
                f"profile name {name!r} appears twice (after trimming spaces)",
                file=path,
                key_path=key_path(where),
                hint="Rename or remove one of them",
            )
        profiles[name] = _normalise_profile(name, raw, path, where)
    return profiles


def _normalise_profile(
    name: str, raw: dict[str, Any], path: Path, where: list[str | int]
) -> Profile:
    check = _Checker(path, where)
    fields: dict[str, Any] = {}
    for key in SLURM_STRING_KEYS:
        fields[key] = check.string(raw, key)
    for key in SLURM_INT_KEYS:
        fields[key] = check.integer(raw, key, nullable=True)
    fields["mail_type"] = check.mail_type(raw, "mail_type")
    fields["env_script"] = _env_script(check.string(raw, "env_script"), path)
    fields["env_setup_cmds"] = check.string_list(raw, "env_setup_cmds")
    fields["slurm_setup_cmds"] = check.string_list(raw, "slurm_setup_cmds")
    fields["slurm_additional_parameters"] = check.options(
        raw, "slurm_additional_parameters"
    )
    fields["env"] = check.env(raw, "env")
    defaults = raw.get("defaults") or {}
    sub = _Checker(path, [*where, "defaults", "run_local"])
    run_local = sub.run_settings(defaults.get("run_local") or {}, RUN_LOCAL_KEYS)
    sub = _Checker(path, [*where, "defaults", "run_slurm"])
    run_slurm = sub.run_settings(defaults.get("run_slurm") or {}, RUN_SLURM_KEYS)
    return Profile(name, path, fields, run_local, run_slurm)


def _env_script(value: str | None, profiles_file: Path) -> str | None:
    """F6: ``~`` expanded, relative to the profiles file's directory, absolute."""
    if value is None:
        return None
    script = Path(value).expanduser()
    if not script.is_absolute():
        script = profiles_file.parent / script
    return str(script.resolve())


class _Checker:
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


@dataclass(frozen=True)
class SlurmSettings:
    """Slurm resources of a profile, resolved per F13.1 without the required checks.

    Kept deliberately plain: the Slurm backend finishes the mapping (required
    fields, the CLI layer, option rejection rules) when it submits.
    """

    partition: str | None = None
    time_min: int | None = None
    cpus_per_task: int = 1
    mem_gb: int = 16
    gpus_per_node: int = 0
    job_name: str = "geryon"
    mail_user: str | None = None
    mail_type: str | None = None
    query_status: bool = False
    batches_per_task: int = 1
    slurm_setup_cmds: tuple[str, ...] = ()
    sbatch_options: dict[str, Any] = field(default_factory=dict)


def resolve_slurm_settings(profile: Profile | None) -> SlurmSettings:
    """Built-in -> ``defaults.run_slurm`` -> top-level profile fields (F13.1, 3, 4)."""
    if profile is None:
        return SlurmSettings()
    layers = (profile.run_slurm, profile.fields)
    values: dict[str, Any] = {}
    scalars = (*SLURM_STRING_KEYS, *SLURM_INT_KEYS, "mail_type", "query_status")
    for layer in layers:
        values.update({k: layer[k] for k in scalars if layer.get(k) is not None})
    setup: list[str] = []
    for layer in layers:
        setup += [c for c in layer.get("slurm_setup_cmds") or () if c not in setup]
    options = {
        k.lower(): v for k, v in (profile.run_slurm.get("sbatch_option") or {}).items()
    }
    extra = profile.fields.get("slurm_additional_parameters") or {}
    options.update({k.lower(): v for k, v in extra.items()})
    batches = profile.run_slurm.get("batches_per_task") or 1
    return SlurmSettings(
        **values,
        batches_per_task=batches,
        slurm_setup_cmds=tuple(setup),
        sbatch_options=options,
    )
