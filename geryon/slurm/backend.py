"""The Slurm backend of the engine: Snakemake's flags and the batch rules' values
for snakemake-executor-plugin-slurm (plugged in at ``engine.invoke.backend_spec``).

Flags and why:

* ``--executor slurm``: one ``sbatch`` per batch rule (or per group of
  ``batches_per_task`` rules, see :mod:`geryon.slurm.resources`);
* ``--jobs``: Slurm jobs in flight; ``--max-jobs`` or the site's queue limit,
  else unlimited (Slurm schedules; ``max_concurrent_tasks`` keeps its spec
  meaning, commands run at once *inside* one job);
* ``--cores <cpus_per_task>``: the width Snakemake packs grouped batches into, so
  a group job asks for one batch's CPUs and memory and runs its batches one
  after another (their ``runtime`` is summed);
* ``--slurm-status-command``: ``squeue`` when ``MinJobAge`` keeps ended jobs
  visible long enough, else ``sacct`` when accounting answers (see
  :func:`geryon.slurm.accounting.choose_status_command`: the plugin never sees
  an ``scancel`` through ``sacct``, and its default hangs without accounting);
* ``--slurm-init-seconds-before-status-checks``: 3 s for small runs instead of 40;
* ``--slurm-keep-successful-logs`` and an absolute ``--slurm-logdir`` under
  ``exec/.snakemake/slurm_logs``: every job's log stays for ``status`` and for
  people (failed jobs' logs are kept by the plugin anyway);
* ``--slurm-jobname-prefix <job_name>``;
* ``--slurm-no-account`` unless an ``account`` option is given.
"""

from __future__ import annotations

import logging
import shlex
from typing import Any

from geryon.engine.invoke import BackendSpec
from geryon.engine.snakefile import RuleSpec
from geryon.profiles import Profile
from geryon.settings import RunSettings
from geryon.slurm.accounting import choose_status_command
from geryon.slurm.limits import SiteLimits, effective_max_jobs, read_site_limits
from geryon.slurm.resources import (
    SlurmMapping,
    SlurmResolution,
    map_to_snakemake,
    resolve_slurm,
)

log = logging.getLogger("geryon.slurm.backend")

SMALL_RUN_JOBS = 100
SMALL_RUN_INIT_SEC = 3
LARGE_RUN_INIT_SEC = 20
LOG_DIR_NAME = ".snakemake/slurm_logs"


def slurm_backend_spec(
    settings: RunSettings,
    *,
    profile: Profile | None,
    options: dict[str, Any],
) -> BackendSpec:
    """The engine's backend spec for ``backend="slurm"``.

    ``options`` (all optional): ``slurm`` — the run-slurm flags for
    :func:`resolve_slurm`; ``max_jobs``; ``status_command`` (``sacct`` /
    ``squeue``); ``expected_jobs`` (sizes the status interval); ``exec_dir``
    (where the plugin's logs go; default: Snakemake's working directory);
    ``site_limits`` (a :class:`SiteLimits`, to skip querying the cluster).
    """
    resolution = resolve_slurm(
        profile, options.get("slurm"), batches_per_task=settings.batches_per_task
    )
    mapping = map_to_snakemake(resolution)
    limits = options.get("site_limits") or read_site_limits(
        resolution.value("partition")
    )
    status_command = choose_status_command(
        options.get("status_command"), limits.min_job_age_sec
    )
    flags = snakemake_flags(mapping, limits, status_command, options)
    rule = RuleSpec(
        threads=mapping.threads,
        resources=mapping.resources,
        log_job_id="slurm",
        group=mapping.group,
        shell_prefix=shell_prefix(mapping.setup_script),
    )
    details = backend_details(resolution, mapping, limits, status_command, flags)
    return BackendSpec(
        flags=flags, rule=rule, cores=mapping.cores_flag, details=details
    )


def snakemake_flags(
    mapping: SlurmMapping,
    limits: SiteLimits,
    status_command: str,
    options: dict[str, Any],
) -> tuple[str, ...]:
    jobs = effective_max_jobs(limits, options.get("max_jobs"))
    expected = options.get("expected_jobs")
    small = expected is None or expected <= SMALL_RUN_JOBS
    init_sec = SMALL_RUN_INIT_SEC if small else LARGE_RUN_INIT_SEC
    flags = [
        "--executor",
        "slurm",
        "--jobs",
        str(jobs) if jobs else "unlimited",
        "--cores",
        str(mapping.cores_flag),
        "--slurm-status-command",
        status_command,
        "--slurm-init-seconds-before-status-checks",
        str(init_sec),
        "--slurm-keep-successful-logs",
        *mapping.flags,
    ]
    if "slurm_account" not in mapping.resources:
        # sbatch then uses the user's default account; the plugin's own guess
        # calls sacct with options Slurm 22.05 rejects (shared/notes).
        flags.append("--slurm-no-account")
    exec_dir = options.get("exec_dir")
    if exec_dir:
        flags += ["--slurm-logdir", f"{exec_dir}/{LOG_DIR_NAME}"]
    return tuple(flags)


def shell_prefix(setup_script: str) -> str:
    """Setup lines before the wrapper, inside the job (F14).

    Like the preamble of an sbatch script, a failing line does not stop the job;
    ``set +eu`` lifts Snakemake's strict shell mode for them (module systems
    often read unset variables) and ``set -eu`` restores it for the wrapper.
    """
    if not setup_script:
        return ""
    return f"set +eu\n{setup_script}\nset -eu\n"


def backend_details(
    resolution: SlurmResolution,
    mapping: SlurmMapping,
    limits: SiteLimits,
    status_command: str,
    flags: tuple[str, ...],
) -> dict[str, Any]:
    """What run-slurm prints: resolved fields with sources, the mapping, limits."""
    return {
        "slurm": {
            **resolution.to_json(),
            "profile_name": resolution.profile_name,
            "profiles_file": (
                str(resolution.profile_file) if resolution.profile_file else None
            ),
            "mapping": mapping.to_json(),
            "status_command": status_command,
            "site_limits": limits.to_json(),
            "snakemake_flags": shlex.join(flags),
        }
    }
