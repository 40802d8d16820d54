"""Slurm fields of a profile, layered per F13.1 (the Slurm backend finishes them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geryon.profiles.keys import SLURM_INT_KEYS, SLURM_STRING_KEYS
from geryon.profiles.model import Profile


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
