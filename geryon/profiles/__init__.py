"""``profiles.yaml``: loading, normalisation and precedence (spec section 10).

A profiles file maps names to presets of run settings (``defaults.run_local`` /
``defaults.run_slurm``), environment bootstrap (``env``, ``env_script``,
``env_setup_cmds``) and Slurm resources. Loading checks types and normalises
values (F1-F11, :mod:`.loading`, :mod:`.checks`); :func:`resolve_run_settings`
(:mod:`.resolve`) layers built-ins, the profile and CLI flags into a
:class:`geryon.settings.RunSettings` and checks every range before anything
runs (E2, and E3 early: Q24); :func:`resolve_slurm_settings` (:mod:`.slurm`)
layers the Slurm fields (F13). Every public name is importable from here.

Deliberate differences from upstream (spec section 12):

* Q37: the file is only read when a profile is requested (or by
  ``list-profiles``); a broken ``./profiles.yaml`` does not break other runs.
* Q38: boolean ``env`` values become ``true`` / ``false``.
* Q39: ``fail_fast_threshold`` is a fraction in (0, 1] or an explicit ``"N%"``;
  a bare number above 1 is an error instead of a silent percentage.
"""

from __future__ import annotations

from geryon.profiles.checks import parse_threshold
from geryon.profiles.keys import (
    DEFAULT_PROFILES_FILE,
    DEFAULTS_COMMANDS,
    ENV_NAME,
    PROFILE_KEYS,
    RUN_BOOL_KEYS,
    RUN_INT_KEYS,
    RUN_LOCAL_KEYS,
    RUN_NULLABLE_INT_KEYS,
    RUN_SLURM_EXTRA_KEYS,
    RUN_SLURM_KEYS,
    SETTING_KEYS,
    SLURM_INT_KEYS,
    SLURM_STRING_KEYS,
)
from geryon.profiles.loading import load_profiles, profiles_path, select_profile
from geryon.profiles.model import Profile, ProfilesFile
from geryon.profiles.resolve import (
    BUILTIN_EXECUTOR,
    CPU_LIST,
    ResolvedSettings,
    resolve_run_settings,
)
from geryon.profiles.slurm import SlurmSettings, resolve_slurm_settings

__all__ = [
    "BUILTIN_EXECUTOR",
    "CPU_LIST",
    "DEFAULTS_COMMANDS",
    "DEFAULT_PROFILES_FILE",
    "ENV_NAME",
    "PROFILE_KEYS",
    "RUN_BOOL_KEYS",
    "RUN_INT_KEYS",
    "RUN_LOCAL_KEYS",
    "RUN_NULLABLE_INT_KEYS",
    "RUN_SLURM_EXTRA_KEYS",
    "RUN_SLURM_KEYS",
    "SETTING_KEYS",
    "SLURM_INT_KEYS",
    "SLURM_STRING_KEYS",
    "Profile",
    "ProfilesFile",
    "ResolvedSettings",
    "SlurmSettings",
    "load_profiles",
    "parse_threshold",
    "profiles_path",
    "resolve_run_settings",
    "resolve_slurm_settings",
    "select_profile",
]
