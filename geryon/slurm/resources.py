"""Profile -> Slurm: resolve a run's Slurm fields (spec F13) and map them onto the
resources and flags of snakemake-executor-plugin-slurm.

Resolution, field by field (F13.1): built-in -> ``defaults.run_slurm`` -> top-level
profile field -> CLI flag; every value remembers its source, and a warning is
recorded when a later layer changes a value an earlier non-built-in layer set, or
when the CLI changes any value. Setup lines (F13.3) and extra sbatch options
(F13.4) are merged in the same layer order.

How the fields reach ``sbatch`` (plugin 2.8, ``submit_string.py``):

========================  ================================================
profile field             Snakemake resource / flag -> sbatch
========================  ================================================
``partition``             ``slurm_partition`` -> ``-p``
``time_min``              ``runtime`` -> ``-t`` (minutes)
``cpus_per_task``         ``cpus_per_task`` -> ``--cpus-per-task``
``mem_gb``                ``mem_mb`` (x 1024) -> ``--mem``
``gpus_per_node``         ``gres: gpu:<n>`` -> ``--gres=gpu:<n>``
``job_name``              ``--slurm-jobname-prefix`` (name = prefix_uuid)
``mail_user/mail_type``   ``slurm_extra`` -> ``--mail-user= --mail-type=``
option ``account``        ``slurm_account`` -> ``-A``
option ``qos``            ``qos`` -> ``--qos``
option ``constraint``     ``constraint`` -> ``-C``
option ``nodes``          ``nodes`` -> ``--nodes``
option ``clusters``       ``slurm_cluster`` -> ``--clusters``
option ``gres``           ``gres`` -> ``--gres``
any other option          ``slurm_extra`` -> ``--<key-with-dashes>=<value>``
========================  ================================================

The plugin rejects ``slurm_extra`` strings that touch what it manages itself
(job name, output, memory, tasks, time ...): those options are refused here,
with a message naming the profile field to use instead, before anything runs.
Every check of this module happens before submission (upstream quirk Q24
checked some values only inside the job; spec section 12 recommends this).
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from geryon.errors import ConfigError, key_path
from geryon.profiles import Profile

BUILTIN = "builtin"
DEFAULTS_SOURCE = "profile.defaults"
PROFILE_SOURCE = "profile"
CLI_SOURCE = "cli"

SCALAR_BUILTINS: dict[str, Any] = {
    "partition": None,
    "time_min": None,
    "cpus_per_task": 1,
    "mem_gb": 16,
    "gpus_per_node": 0,
    "job_name": "geryon",
    "mail_user": None,
    "mail_type": None,
    "query_status": False,
}
POSITIVE_INTS = ("time_min", "cpus_per_task", "mem_gb")

# F13.4: option keys that duplicate a dedicated field.
DEDICATED_OPTION_KEYS = {
    "partition": "partition",
    "time": "time_min",
    "time_min": "time_min",
    "cpus_per_task": "cpus_per_task",
    "mem_gb": "mem_gb",
    "gpus_per_node": "gpus_per_node",
    "name": "job_name",
    "job_name": "job_name",
    "mail_user": "mail_user",
    "mail_type": "mail_type",
}
# Options the plugin (or geryon) sets on every job; sbatch must not get them twice.
MANAGED_OPTION_KEYS = {
    "output": "the plugin writes each job's log under exec/.snakemake/slurm_logs",
    "error": "the plugin writes each job's log under exec/.snakemake/slurm_logs",
    "parsable": "the plugin needs sbatch's parsable output",
    "export": "jobs inherit the submitting environment (--export=ALL)",
    "comment": "the plugin names the job's rules in its comment",
    "chdir": "jobs run in the run's exec directory",
    "workdir": "jobs run in the run's exec directory",
    "mem": "use mem_gb",
    "mem_per_cpu": "use mem_gb",
    "ntasks": "each job runs one task",
    "ntasks_per_node": "each job runs one task",
    "ntasks_per_gpu": "each job runs one task",
    "cpus_per_gpu": "use cpus_per_task",
    "gpus": "use gpus_per_node",
    "array": "geryon submits one job per batch (or batch group)",
    "wrap": "the plugin writes the job script",
}
# Options the plugin takes as resources of their own rather than in slurm_extra.
RESOURCE_OPTIONS = {
    "account": "slurm_account",
    "qos": "qos",
    "constraint": "constraint",
    "nodes": "nodes",
    "clusters": "slurm_cluster",
    "cluster": "slurm_cluster",
    "gres": "gres",
}
JOBNAME_PREFIX = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
GROUP_NAME = "geryon_slurm"


@dataclass(frozen=True)
class Sourced:
    """A resolved value and the layer it came from."""

    value: Any
    source: str


@dataclass(frozen=True)
class SlurmResolution:
    """The Slurm fields of one run-slurm invocation after F13, with sources."""

    scalars: dict[str, Sourced]
    setup_cmds: tuple[Sourced, ...]
    sbatch_options: dict[str, Sourced]
    batches_per_task: int
    warnings: tuple[str, ...] = ()
    profile_file: Path | None = None
    profile_name: str | None = None

    def value(self, name: str) -> Any:
        return self.scalars[name].value

    def to_json(self) -> dict[str, Any]:
        """``effective_config`` and ``source_of_truth`` of the run-slurm output (E47)."""
        return {
            "effective_config": {k: s.value for k, s in self.scalars.items()},
            "source_of_truth": {
                "scalars": {k: s.source for k, s in self.scalars.items()},
                "sbatch_option": {
                    k: {"value": s.value, "source": s.source}
                    for k, s in sorted(self.sbatch_options.items())
                },
                "slurm_setup_cmds": [
                    {"command": s.value, "source": s.source} for s in self.setup_cmds
                ],
            },
            "batches_per_task": self.batches_per_task,
            "resolution_warnings": list(self.warnings),
        }


@dataclass
class _Layers:
    """The three configurable layers of F13, in precedence order."""

    defaults: dict[str, Any]
    profile: dict[str, Any]
    cli: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def resolve_slurm(
    profile: Profile | None,
    cli: dict[str, Any] | None = None,
    *,
    batches_per_task: int = 1,
) -> SlurmResolution:
    """F13 for ``profile`` plus the run-slurm flags in ``cli``.

    ``cli`` keys: the scalar names of :data:`SCALAR_BUILTINS`, ``slurm_setup_cmds``
    (list of lines) and ``sbatch_options`` (mapping; value ``True`` for a bare
    ``--sbatch-option KEY``). ``None`` values are ignored. Raises
    :class:`ConfigError` for a missing partition / time limit, a value out of
    range or an option the plugin manages itself.
    """
    layers = _Layers(
        defaults=dict(profile.run_slurm) if profile else {},
        profile=dict(profile.fields) if profile else {},
        cli={k: v for k, v in (cli or {}).items() if v is not None},
    )
    where = _Where(profile)
    scalars = {name: _scalar(name, layers) for name in SCALAR_BUILTINS}
    _check_scalars(scalars, where)
    setup = _setup_lines(layers)
    options = _options(layers, where)
    return SlurmResolution(
        scalars=scalars,
        setup_cmds=setup,
        sbatch_options=options,
        batches_per_task=batches_per_task,
        warnings=tuple(layers.warnings),
        profile_file=profile.file if profile else None,
        profile_name=profile.name if profile else None,
    )


class _Where:
    """Where a value came from, for error messages."""

    def __init__(self, profile: Profile | None) -> None:
        self.profile = profile

    def error(self, name: str, source: str, problem: str, hint: str) -> ConfigError:
        if source == CLI_SOURCE:
            flag = "--" + name.replace("_", "-")
            return ConfigError(f"{flag}: {problem}", hint=hint)
        if self.profile is None or source == BUILTIN:
            return ConfigError(f"{name}: {problem}", hint=hint)
        parts: list[str | int] = ["profiles", self.profile.name]
        if source == DEFAULTS_SOURCE:
            parts += ["defaults", "run_slurm"]
        return ConfigError(
            problem,
            file=self.profile.file,
            key_path=key_path([*parts, name]),
            hint=hint,
        )


def _scalar(name: str, layers: _Layers) -> Sourced:
    current = Sourced(SCALAR_BUILTINS[name], BUILTIN)
    steps = (
        (layers.defaults, DEFAULTS_SOURCE),
        (layers.profile, PROFILE_SOURCE),
        (layers.cli, CLI_SOURCE),
    )
    for values, source in steps:
        new = values.get(name)
        if new is None:
            continue
        if source == CLI_SOURCE or (current.source != BUILTIN and new != current.value):
            layers.warnings.append(
                f"{name}: {source} value {new!r} replaces {current.value!r} "
                f"from {current.source}"
            )
        current = Sourced(new, source)
    return _normalised(name, current)


def _normalised(name: str, item: Sourced) -> Sourced:
    """F13.2: blank job name -> ``geryon``; blank mail fields -> none."""
    value = item.value
    if isinstance(value, str):
        value = value.strip()
    if name == "job_name" and not value:
        return Sourced("geryon", item.source)
    if name in ("mail_user", "mail_type", "partition") and value == "":
        return Sourced(None, item.source)
    return Sourced(value, item.source)


def _check_scalars(scalars: dict[str, Sourced], where: _Where) -> None:
    partition = scalars["partition"]
    if not partition.value:
        raise ConfigError(
            "Missing partition: no Slurm partition is set",
            file=where.profile.file if where.profile else None,
            key_path=_profile_key(where, "partition"),
            hint="Set 'partition' in the profile or pass --partition "
            "(sinfo lists the partitions)",
        )
    if scalars["time_min"].value is None:
        raise ConfigError(
            "Missing time_min: no Slurm time limit is set",
            file=where.profile.file if where.profile else None,
            key_path=_profile_key(where, "time_min"),
            hint="Set 'time_min' (minutes) in the profile or pass --time-min",
        )
    for name in (*POSITIVE_INTS, "gpus_per_node"):
        item = scalars[name]
        if isinstance(item.value, bool) or not isinstance(item.value, int):
            raise where.error(
                name, item.source, f"expected an integer, got {item.value!r}", ""
            )
        minimum = 0 if name == "gpus_per_node" else 1
        if item.value < minimum:
            raise where.error(
                name,
                item.source,
                f"must be >= {minimum}, got {item.value}",
                "Pass a value in range",
            )


def _profile_key(where: _Where, name: str) -> str | None:
    if where.profile is None:
        return None
    return key_path(["profiles", where.profile.name, name])


def _setup_lines(layers: _Layers) -> tuple[Sourced, ...]:
    """F13.3: defaults, profile, CLI; trimmed, blanks and exact repeats dropped."""
    kept: list[Sourced] = []
    seen: set[str] = set()
    steps = (
        (layers.defaults, DEFAULTS_SOURCE),
        (layers.profile, PROFILE_SOURCE),
        (layers.cli, CLI_SOURCE),
    )
    for values, source in steps:
        for line in values.get("slurm_setup_cmds") or ():
            text = str(line).strip()
            if not text:
                continue
            if text in seen:
                layers.warnings.append(
                    f"slurm_setup_cmds: {text!r} from {source} repeats an earlier "
                    "line and is dropped"
                )
                continue
            seen.add(text)
            kept.append(Sourced(text, source))
    return tuple(kept)


def _options(layers: _Layers, where: _Where) -> dict[str, Sourced]:
    """F13.4: ``sbatch_option`` < ``slurm_additional_parameters`` < CLI."""
    merged: dict[str, Sourced] = {}
    steps = (
        (layers.defaults.get("sbatch_option"), DEFAULTS_SOURCE, "sbatch_option"),
        (
            layers.profile.get("slurm_additional_parameters"),
            PROFILE_SOURCE,
            "slurm_additional_parameters",
        ),
        (layers.cli.get("sbatch_options"), CLI_SOURCE, "sbatch_option"),
    )
    for values, source, label in steps:
        for raw_key, raw_value in (values or {}).items():
            key = normalise_option_key(raw_key)
            value = _option_value(key, raw_value, source, label, where)
            old = merged.get(key)
            if old is not None and old.value != value:
                layers.warnings.append(
                    f"sbatch option {key}: {source} value {value!r} replaces "
                    f"{old.value!r} from {old.source}"
                )
            merged[key] = Sourced(value, source)
    return merged


def normalise_option_key(raw: Any) -> str:
    """Trimmed, ``-`` -> ``_``, lower-cased, leading dashes dropped (F13.4)."""
    return str(raw).strip().lstrip("-").replace("-", "_").lower()


def _option_value(key: str, value: Any, source: str, label: str, where: _Where) -> Any:
    name = f"{label}.{key}"
    if not key:
        raise where.error(label, source, "option names must not be empty", "")
    if key in DEDICATED_OPTION_KEYS:
        field_name = DEDICATED_OPTION_KEYS[key]
        raise where.error(
            name,
            source,
            f"'{key}' duplicates the dedicated field '{field_name}'",
            f"Set '{field_name}' (or --{field_name.replace('_', '-')}) instead",
        )
    if key in MANAGED_OPTION_KEYS:
        raise where.error(
            name,
            source,
            f"sbatch option '{key}' is set by geryon / the Snakemake Slurm plugin",
            f"Remove it ({MANAGED_OPTION_KEYS[key]})",
        )
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise where.error(
                name, source, "empty value", "Give a value or remove the option"
            )
    return value


# ------------------------------------------------------------------ the mapping


@dataclass(frozen=True)
class SlurmMapping:
    """What the resolution becomes for Snakemake: per-rule resources and flags."""

    resources: dict[str, int | str]
    flags: tuple[str, ...]
    jobname_prefix: str
    group: str | None
    setup_script: str
    threads: int
    cores_flag: int
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "resources": dict(self.resources),
            "snakemake_flags": list(self.flags),
            "jobname_prefix": self.jobname_prefix,
            "group": self.group,
            "setup_script": self.setup_script,
            "threads": self.threads,
            "notes": list(self.notes),
        }


def map_to_snakemake(resolution: SlurmResolution) -> SlurmMapping:
    """Per-rule resources and Snakemake flags for ``resolution``."""
    resources: dict[str, int | str] = {
        "slurm_partition": resolution.value("partition"),
        "runtime": resolution.value("time_min"),
        "cpus_per_task": resolution.value("cpus_per_task"),
        "mem_mb": resolution.value("mem_gb") * 1024,
    }
    gpus = resolution.value("gpus_per_node")
    if gpus:
        resources["gres"] = f"gpu:{gpus}"
    resources.update(_resource_options(resolution))
    extra = slurm_extra(resolution)
    if extra:
        resources["slurm_extra"] = extra
    _check_with_plugin(resources, resolution)
    prefix, notes = jobname_prefix(resolution.value("job_name"))
    group, group_flags = _grouping(resolution.batches_per_task)
    cpus = int(resolution.value("cpus_per_task"))
    return SlurmMapping(
        resources=resources,
        flags=("--slurm-jobname-prefix", prefix, *group_flags),
        jobname_prefix=prefix,
        group=group,
        setup_script=setup_script(resolution),
        threads=cpus,
        cores_flag=cpus,
        notes=notes,
    )


def _resource_options(resolution: SlurmResolution) -> dict[str, int | str]:
    found: dict[str, int | str] = {}
    for key, item in resolution.sbatch_options.items():
        resource = RESOURCE_OPTIONS.get(key)
        if resource is None:
            continue
        if resource == "gres" and resolution.value("gpus_per_node"):
            raise ConfigError(
                "both gpus_per_node and the sbatch option 'gres' are set",
                file=resolution.profile_file,
                hint="Keep one: gpus_per_node N becomes --gres=gpu:N",
            )
        if resource == "nodes":
            found[resource] = _positive_int(key, item)
        else:
            found[resource] = str(item.value)
    return found


def _positive_int(key: str, item: Sourced) -> int:
    try:
        number = int(str(item.value))
    except ValueError as err:
        raise ConfigError(
            f"sbatch option '{key}' must be a whole number, got {item.value!r}",
            hint="Write e.g. nodes: 1",
        ) from err
    if number < 1:
        raise ConfigError(f"sbatch option '{key}' must be >= 1, got {number}")
    return number


def slurm_extra(resolution: SlurmResolution) -> str:
    """The ``slurm_extra`` string: mail fields, then every other option, sorted.

    ``True`` becomes a bare flag (``--exclusive``), ``False`` leaves the flag out;
    every word is shell-quoted because the plugin pastes it into a shell command.
    """
    words = []
    for name in ("mail_user", "mail_type"):
        value = resolution.value(name)
        if value:
            words.append(shlex.quote(f"--{name.replace('_', '-')}={value}"))
    for key, item in sorted(resolution.sbatch_options.items()):
        if key in RESOURCE_OPTIONS or item.value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if item.value is True:
            words.append(shlex.quote(flag))
        else:
            words.append(shlex.quote(f"{flag}={item.value}"))
    return " ".join(words)


def _check_with_plugin(
    resources: dict[str, int | str], resolution: SlurmResolution
) -> None:
    """Run the plugin's own ``slurm_extra`` check now, not after submission."""
    extra = resources.get("slurm_extra")
    if not extra:
        return
    try:
        from snakemake_executor_plugin_slurm.validation import validate_slurm_extra
        from snakemake_interface_common.exceptions import WorkflowError
    except ImportError:
        return
    job = SimpleNamespace(resources=SimpleNamespace(slurm_extra=extra))
    try:
        validate_slurm_extra(job)
    except WorkflowError as err:
        raise ConfigError(
            f"the Snakemake Slurm plugin refuses the extra sbatch flags {extra!r}: "
            f"{err}",
            file=resolution.profile_file,
            hint="Check slurm_additional_parameters / sbatch_option values",
        ) from err


def jobname_prefix(job_name: str) -> tuple[str, tuple[str, ...]]:
    """The plugin's job-name prefix: letters, digits, ``_`` and ``-``, at most 50.

    Other characters become ``_`` (with a note); Slurm job names are then
    ``<prefix>_<uuid of the Snakemake invocation>``.
    """
    if JOBNAME_PREFIX.match(job_name):
        return job_name, ()
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "_", job_name)[:50] or "geryon"
    note = (
        f"job_name {job_name!r} is used as {cleaned!r}: the Slurm plugin accepts "
        "only letters, digits, '_' and '-' (at most 50)"
    )
    return cleaned, (note,)


def _grouping(batches_per_task: int) -> tuple[str | None, tuple[str, ...]]:
    """``batches_per_task > 1``: every batch rule joins one Snakemake group and
    ``--group-components`` packs that many batches into one Slurm job."""
    if batches_per_task <= 1:
        return None, ()
    return GROUP_NAME, ("--group-components", f"{GROUP_NAME}={batches_per_task}")


def setup_script(resolution: SlurmResolution) -> str:
    """The preamble a job runs before the wrapper (F14: only the setup lines; the
    environment bootstrap is applied per command by the wrapper, as locally)."""
    return "\n".join(item.value for item in resolution.setup_cmds)


def group_runtime_min(time_min: int, batches: int) -> int:
    """The time limit Snakemake asks for a job of ``batches`` batches.

    The batches of a group run one after another inside the job (the plugin's job
    step runs them with ``--jobs 1``); Snakemake sums their runtimes, so each batch
    keeps its ``time_min`` budget.
    """
    return math.ceil(time_min) * max(1, batches)


NAME_MAX = 255


def check_group_log_dir(
    rule_prefix: str, batches_per_task: int, max_batch: int
) -> None:
    """Refuse a grouping whose Slurm log directory name would be too long.

    The plugin names a group job's log directory ``group_<group>_<rule>_...``
    after up to five of its rule names; longer than the file system's 255-byte
    limit, sbatch could not write the log and the job would fail.
    """
    if batches_per_task <= 1:
        return
    rule = f"{rule_prefix}_batch_{max_batch}"
    shown = min(batches_per_task, 5)
    length = len(f"group_{GROUP_NAME}_") + shown * (len(rule) + 1) - 1
    length += 4 if batches_per_task > 5 else 0
    if length > NAME_MAX:
        raise ConfigError(
            f"with batches_per_task {batches_per_task} the Slurm plugin's log "
            f"directory names would be {length} characters long (limit {NAME_MAX}), "
            "because they repeat the batch rule names, which contain the run id",
            hint="Plan the run with a shorter --run-id, or use batches_per_task 1",
        )
