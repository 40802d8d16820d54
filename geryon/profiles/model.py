"""The normalised shapes of a profiles file: :class:`Profile`, :class:`ProfilesFile`
(whose ``to_json`` is the ``list-profiles`` listing, spec F15)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geryon.errors import ConfigError, key_path
from geryon.profiles.keys import PROFILE_KEYS


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
