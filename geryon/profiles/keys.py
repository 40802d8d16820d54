"""The keys a profiles file may hold, by kind (spec F4-F13), and the setting
keys whose source is reported (E1)."""

from __future__ import annotations

import re

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
