"""Profile -> Slurm mapping (spec F13): resolution, sources, errors, sbatch flags.

No cluster needed: these tests load real profiles files and check what would
reach sbatch through the Snakemake Slurm plugin.
"""

from __future__ import annotations

import re
import shlex
import textwrap
from pathlib import Path

import pytest

from geryon.errors import ConfigError
from geryon.profiles import select_profile
from geryon.slurm.backend import shell_prefix
from geryon.slurm.limits import SiteLimits, limit_warnings, parse_time_limit_min
from geryon.slurm.resources import (
    GROUP_NAME,
    check_group_log_dir,
    group_runtime_min,
    jobname_prefix,
    map_to_snakemake,
    resolve_slurm,
)

A100 = """
profiles:
  a100_short:
    partition: gpu
    time_min: 240
    cpus_per_task: 8
    mem_gb: 64
    gpus_per_node: 1
    mail_user: you@example.org
    mail_type: END,FAIL
    slurm_setup_cmds:
      - module load cuda/12.2
    slurm_additional_parameters:
      account: my_project
      qos: normal
      constraint: a100
      exclusive: true
    defaults:
      run_slurm:
        executor: tmux
        max_concurrent_tasks: 2
        cores_per_task: 4
        batches_per_task: 2
        partition: cpu
        time_min: 60
        slurm_setup_cmds: ["module purge", "module load cuda/12.2"]
        sbatch_option:
          qos: low
          begin-time: now
"""


def profile_from(tmp_path: Path, text: str, name: str):
    path = tmp_path / "profiles.yaml"
    path.write_text(textwrap.dedent(text))
    return select_profile(name, path)


@pytest.fixture
def a100(tmp_path: Path):
    return profile_from(tmp_path, A100, "a100_short")


def test_readme_profile_resolves_with_sources(a100) -> None:
    res = resolve_slurm(a100, batches_per_task=2)
    assert {k: s.value for k, s in res.scalars.items()} == {
        "partition": "gpu",
        "time_min": 240,
        "cpus_per_task": 8,
        "mem_gb": 64,
        "gpus_per_node": 1,
        "job_name": "geryon",
        "mail_user": "you@example.org",
        "mail_type": "END,FAIL",
        "query_status": False,
    }
    assert res.scalars["partition"].source == "profile"
    assert res.scalars["job_name"].source == "builtin"
    # Top-level profile fields beat defaults.run_slurm, with a warning each.
    assert "partition: profile value 'gpu' replaces 'cpu' from profile.defaults" in (
        res.warnings
    )
    assert [(s.value, s.source) for s in res.setup_cmds] == [
        ("module purge", "profile.defaults"),
        ("module load cuda/12.2", "profile.defaults"),
    ]
    assert any("repeats an earlier line" in w for w in res.warnings)


def test_sbatch_options_merge_profile_wins_and_keys_normalised(a100) -> None:
    res = resolve_slurm(a100)
    options = {k: (s.value, s.source) for k, s in res.sbatch_options.items()}
    assert options == {
        "qos": ("normal", "profile"),
        "begin_time": ("now", "profile.defaults"),
        "account": ("my_project", "profile"),
        "constraint": ("a100", "profile"),
        "exclusive": (True, "profile"),
    }
    assert (
        "sbatch option qos: profile value 'normal' replaces 'low' from profile.defaults"
    ) in res.warnings


def test_readme_profile_maps_to_plugin_resources(a100) -> None:
    mapping = map_to_snakemake(resolve_slurm(a100, batches_per_task=2))
    assert mapping.resources == {
        "slurm_partition": "gpu",
        "runtime": 240,
        "cpus_per_task": 8,
        "mem_mb": 64 * 1024,
        "gres": "gpu:1",
        "slurm_account": "my_project",
        "qos": "normal",
        "constraint": "a100",
        "slurm_extra": "--mail-user=you@example.org --mail-type=END,FAIL "
        "--begin-time=now --exclusive",
    }
    assert mapping.group == GROUP_NAME
    assert mapping.flags == (
        "--slurm-jobname-prefix",
        "geryon",
        "--group-components",
        f"{GROUP_NAME}=2",
    )
    assert mapping.threads == mapping.cores_flag == 8
    assert mapping.setup_script == "module purge\nmodule load cuda/12.2"


def test_cli_layer_wins_and_warns(a100) -> None:
    cli = {
        "partition": "debug",
        "time_min": 5,
        "gpus_per_node": 0,
        "job_name": "my sweep!",
        "slurm_setup_cmds": ["echo hi", "module purge"],
        "sbatch_options": {"qos": "high", "Requeue": True, "exclusive": False},
    }
    res = resolve_slurm(a100, cli)
    assert res.scalars["partition"].value == "debug"
    assert res.scalars["partition"].source == "cli"
    assert res.sbatch_options["qos"].value == "high"
    assert res.setup_cmds[-1].value == "echo hi"
    assert res.setup_cmds[-1].source == "cli"
    mapping = map_to_snakemake(res)
    assert "gres" not in mapping.resources
    extra = shlex.split(str(mapping.resources["slurm_extra"]))
    assert "--requeue" in extra and "--exclusive" not in extra
    assert mapping.jobname_prefix == "my_sweep_"
    assert any("accepts only letters" in note for note in mapping.notes)
    assert any(w.startswith("gpus_per_node: cli value 0") for w in res.warnings)


def test_missing_partition_is_a_config_error_naming_the_profile(tmp_path) -> None:
    profile = profile_from(tmp_path, "profiles:\n  p:\n    time_min: 10\n", "p")
    with pytest.raises(ConfigError) as caught:
        resolve_slurm(profile)
    text = str(caught.value)
    assert "Missing partition" in text
    assert str(tmp_path / "profiles.yaml") in text
    assert "profiles.p.partition" in text
    assert "--partition" in text


def test_missing_time_min_without_profile() -> None:
    with pytest.raises(ConfigError, match="Missing time_min"):
        resolve_slurm(None, {"partition": "debug"})


@pytest.mark.parametrize(
    ("cli", "message"),
    [
        ({"time_min": 0}, "--time-min: must be >= 1, got 0"),
        ({"cpus_per_task": -2}, "--cpus-per-task: must be >= 1, got -2"),
        ({"mem_gb": 0}, "--mem-gb: must be >= 1, got 0"),
        ({"gpus_per_node": -1}, "--gpus-per-node: must be >= 0, got -1"),
    ],
)
def test_ranges_checked(cli, message) -> None:
    values = {"partition": "debug", "time_min": 3, **cli}
    with pytest.raises(ConfigError, match=message):
        resolve_slurm(None, values)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("time", "duplicates the dedicated field 'time_min'"),
        ("job-name", "duplicates the dedicated field 'job_name'"),
        ("Mail_Type", "duplicates the dedicated field 'mail_type'"),
        ("mem", "is set by geryon / the Snakemake Slurm plugin"),
        ("output", "is set by geryon / the Snakemake Slurm plugin"),
        ("ntasks", "is set by geryon / the Snakemake Slurm plugin"),
    ],
)
def test_managed_or_dedicated_options_rejected(tmp_path, key, expected) -> None:
    text = f"""
    profiles:
      p:
        partition: debug
        time_min: 5
        slurm_additional_parameters:
          {key}: x
    """
    profile = profile_from(tmp_path, text, "p")
    with pytest.raises(ConfigError) as caught:
        resolve_slurm(profile)
    assert expected in str(caught.value)
    assert "profiles.p.slurm_additional_parameters." in str(caught.value)


def test_empty_option_value_rejected_from_cli() -> None:
    values = {"partition": "d", "time_min": 1, "sbatch_options": {"qos": "  "}}
    with pytest.raises(
        ConfigError, match=re.escape("--sbatch-option.qos: empty value")
    ):
        resolve_slurm(None, values)


def test_hostile_values_are_shell_quoted_for_the_plugin() -> None:
    values = {
        "partition": "debug",
        "time_min": 2,
        "mail_user": "o'brien <ü@example.org>",
        "sbatch_options": {"licenses": "a b;rm -rf /"},
    }
    mapping = map_to_snakemake(resolve_slurm(None, values))
    words = shlex.split(str(mapping.resources["slurm_extra"]))
    assert words == ["--mail-user=o'brien <ü@example.org>", "--licenses=a b;rm -rf /"]


def test_plugin_validator_runs_before_submission() -> None:
    # "-J" anywhere looks like a job-name flag to the plugin's own check.
    values = {"partition": "d", "time_min": 1, "sbatch_options": {"licenses": "a-J"}}
    with pytest.raises(ConfigError, match="plugin refuses the extra sbatch flags"):
        map_to_snakemake(resolve_slurm(None, values))


def test_gres_option_and_gpus_per_node_conflict() -> None:
    values = {
        "partition": "d",
        "time_min": 1,
        "gpus_per_node": 2,
        "sbatch_options": {"gres": "gpu:a100:2"},
    }
    with pytest.raises(ConfigError, match="both gpus_per_node and the sbatch option"):
        map_to_snakemake(resolve_slurm(None, values))


def test_single_batch_jobs_have_no_group() -> None:
    mapping = map_to_snakemake(resolve_slurm(None, {"partition": "d", "time_min": 1}))
    assert mapping.group is None
    assert "--group-components" not in mapping.flags
    assert mapping.resources == {
        "slurm_partition": "d",
        "runtime": 1,
        "cpus_per_task": 1,
        "mem_mb": 16 * 1024,
    }


def test_setup_lines_run_before_the_wrapper_outside_strict_mode() -> None:
    assert shell_prefix("") == ""
    assert shell_prefix("module load x\nexport A={b}") == (
        "set +eu\nmodule load x\nexport A={b}\nset -eu\n"
    )


def test_jobname_prefix_kept_when_valid() -> None:
    assert jobname_prefix("sweep-01_a") == ("sweep-01_a", ())


def test_group_runtime_sums_batches() -> None:
    assert group_runtime_min(30, 3) == 90
    assert group_runtime_min(30, 1) == 30


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("UNLIMITED", None),
        ("1-00:00:00", 1440),
        ("04:00:00", 240),
        ("30", 30),
        ("2-12", 3600),
        ("00:01:30", 2),
    ],
)
def test_partition_time_limits(text, minutes) -> None:
    assert parse_time_limit_min(text) == minutes


def test_limit_warnings_suggest_batches_per_task() -> None:
    limits = SiteLimits(max_submit_jobs=100, partition_max_time_min=60)
    warnings = limit_warnings(
        limits, num_batches=450, batches_per_task=1, max_jobs=500, job_time_min=90
    )
    assert len(warnings) == 3
    assert "needs 450 Slurm job(s)" in warnings[0]
    assert "batches_per_task >= 5" in warnings[0]
    assert "--max-jobs 500 exceeds the site's queue limit 100" in warnings[1]
    assert "asks for 90 min but the partition allows 60 min" in warnings[2]
    assert (
        limit_warnings(
            SiteLimits(),
            num_batches=10,
            batches_per_task=1,
            max_jobs=None,
            job_time_min=5,
        )
        == []
    )


def test_group_log_directory_names_must_fit() -> None:
    check_group_log_dir("geryon_run_20260102T030405_123456Z", 4, 999)
    check_group_log_dir("geryon_" + "x" * 300, 1, 5)
    with pytest.raises(ConfigError, match="shorter --run-id"):
        check_group_log_dir("geryon_" + "x" * 60, 8, 12)
