"""Finding, reading, schema-checking and normalising a profiles file (F1-F11)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from geryon.errors import ConfigError, key_path
from geryon.profiles.checks import Checker
from geryon.profiles.keys import (
    DEFAULT_PROFILES_FILE,
    DEFAULTS_COMMANDS,
    PROFILE_KEYS,
    RUN_LOCAL_KEYS,
    RUN_SLURM_KEYS,
    SLURM_INT_KEYS,
    SLURM_STRING_KEYS,
)
from geryon.profiles.model import Profile, ProfilesFile


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
    text = (Path(__file__).parents[1] / "schemas" / "profiles.schema.json").read_text()
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
    check = Checker(path, where)
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
    sub = Checker(path, [*where, "defaults", "run_local"])
    run_local = sub.run_settings(defaults.get("run_local") or {}, RUN_LOCAL_KEYS)
    sub = Checker(path, [*where, "defaults", "run_slurm"])
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
