"""profiles.yaml loading, normalisation and precedence (spec section 10, E1-E3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from geryon.cli.main import cli
from geryon.errors import ConfigError
from geryon.profiles import (
    load_profiles,
    parse_threshold,
    resolve_run_settings,
    resolve_slurm_settings,
    select_profile,
)

FULL = """
profiles:
  " fast ":
    env_script: ./env/boot.sh
    env: {DATA_ROOT: /data, DEBUG: true, LEVEL: 3}
    env_setup_cmds: ["  export A=1 ", ""]
    partition: gpu
    mail_type: [" END", "FAIL ", ""]
    slurm_additional_parameters: {qos-level: normal, exclusive: true}
    defaults:
      run_local:
        executor: " tmux "
        max_concurrent_tasks: 4
        cores_per_task: 2
        max_total_cores: 6
        retry_on_status: "failed, terminated,failed"
        fail_fast_threshold: "25%"
        resume: true
        progress: null
      run_slurm:
        partition: cpu
        time_min: 30
        sbatch_option: {qos_level: low, account: proj}
        slurm_setup_cmds: ["module load x"]
"""


def write(tmp_path: Path, text: str, name: str = "profiles.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    (tmp_path / "env").mkdir(exist_ok=True)
    (tmp_path / "env" / "boot.sh").write_text("true\n")
    return path


def test_load_normalises_every_field(tmp_path: Path) -> None:
    profile = load_profiles(write(tmp_path, FULL)).get("fast")
    assert profile.fields["env"] == {
        "DATA_ROOT": "/data",
        "DEBUG": "true",
        "LEVEL": "3",
    }
    assert profile.fields["env_script"] == str(tmp_path / "env" / "boot.sh")
    assert profile.fields["env_setup_cmds"] == ("export A=1",)
    assert profile.fields["mail_type"] == "END,FAIL"
    assert profile.fields["slurm_additional_parameters"] == {
        "qos_level": "normal",
        "exclusive": True,
    }
    assert profile.run_local["executor"] == "tmux"
    assert profile.run_local["retry_on_status"] == ("failed", "terminated")
    assert profile.run_local["fail_fast_threshold"] == 0.25


def test_precedence_builtin_profile_cli_with_sources(tmp_path: Path) -> None:
    profile = select_profile("fast", write(tmp_path, FULL))
    resolved = resolve_run_settings(
        profile, cli_overrides={"max_retries": 2, "executor": "process"}
    )
    settings, sources = resolved.settings, resolved.sources
    assert (settings.executor, sources["executor"]) == ("process", "cli")
    assert (settings.max_retries, sources["max_retries"]) == (2, "cli")
    assert (settings.cores_per_task, sources["cores_per_task"]) == (
        2,
        "profile.defaults",
    )
    # E2.7: max_concurrent_tasks capped by max_total_cores // cores_per_task.
    assert settings.max_concurrent_tasks == 3
    assert (settings.progress, sources["progress"]) == (False, "builtin")
    assert settings.env == {"DATA_ROOT": "/data", "DEBUG": "true", "LEVEL": "3"}
    assert sources["env_script"] == "profile"


def test_retry_file_forces_resume_with_its_source() -> None:
    resolved = resolve_run_settings(None, force_resume="retry_file")
    assert resolved.settings.resume is True
    assert resolved.sources["resume"] == "retry_file"


def test_broken_default_file_is_ignored_without_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Q37: ./profiles.yaml is only read when a profile is requested."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "profiles: [this is: broken")
    assert select_profile(None, None) is None
    with pytest.raises(ConfigError):
        select_profile("fast", None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.2, 0.2), (1, 1.0), ("20%", 0.2), (" 100 % ", 1.0), ("0.5", 0.5)],
)
def test_threshold_fractions_and_percentages(value: object, expected: float) -> None:
    assert parse_threshold(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", [20, 1.5, 0, "0%", "abc", True, "150%"])
def test_threshold_rejects_bare_numbers_above_one(value: object) -> None:
    """Q39: no silent percentage for bare numbers."""
    with pytest.raises(ValueError):
        parse_threshold(value)


BAD = [
    ("profiles:\n  p:\n    colour: red\n", "profiles.p", "Allowed keys here"),
    ("profiles:\n  p:\n    time_min: ten\n", "profiles.p.time_min", "expected integer"),
    (
        "profiles:\n  p:\n    time_min: 1.0\n",
        "profiles.p.time_min",
        "expected an integer",
    ),
    (
        "profiles:\n  p:\n    defaults:\n      run_local:\n        executor: docker\n",
        "profiles.p.defaults.run_local.executor",
        "Valid executors: process, tmux, pylauncher",
    ),
    (
        "profiles:\n  p:\n    defaults:\n      run_local:\n        cores_per_task: true\n",
        "profiles.p.defaults.run_local.cores_per_task",
        "expected integer",
    ),
    (
        "profiles:\n  p:\n    defaults:\n      run_local:\n        retry_on_status: [lost]\n",
        "profiles.p.defaults.run_local.retry_on_status",
        "Valid statuses: failed, terminated",
    ),
    (
        "profiles:\n  p:\n    defaults:\n      run_local:\n        fail_fast_threshold: 20\n",
        "profiles.p.defaults.run_local.fail_fast_threshold",
        "not a failure rate",
    ),
    (
        "profiles:\n  p:\n    defaults:\n      run_local:\n        wave: 3\n",
        "profiles.p.defaults.run_local.wave",
        "Allowed keys: executor",
    ),
    (
        "profiles:\n  p:\n    defaults:\n      run_local:\n        max_concurrent_tasks: null\n",
        "profiles.p.defaults.run_local.max_concurrent_tasks",
        "expected integer",
    ),
    ("profiles:\n  p:\n    env: {1BAD: x}\n", "profiles.p.env", "1BAD"),
    ("profiles:\n  p: {}\n  ' p ': {}\n", "profiles. p ", "appears twice"),
    ("profiles: [a, b]\n", "profiles", "expected object or null"),
]


@pytest.mark.parametrize(("text", "where", "message"), BAD)
def test_bad_profiles_exit_2_naming_file_and_key(
    tmp_path: Path, text: str, where: str, message: str
) -> None:
    path = write(tmp_path, text)
    result = CliRunner().invoke(cli, ["list-profiles", "--profiles-file", str(path)])
    assert result.exit_code != 0
    error = result.exception
    assert isinstance(error, ConfigError), result.output
    assert error.file == str(path)
    assert error.key_path == where
    assert message in str(error)


@pytest.mark.parametrize(
    ("defaults", "key", "problem"),
    [
        ("max_concurrent_tasks: 0", "max_concurrent_tasks", "must be >= 1"),
        ("max_retries: -1", "max_retries", "must be >= 0"),
        ("command_timeout_sec: 0", "command_timeout_sec", "must be >= 1"),
        ("max_failures: 0", "max_failures", "must be >= 1"),
        ("{cores_per_task: 4, max_total_cores: 2}", "max_total_cores", "smaller than"),
        ("cores: 'x-y'", "cores", "not a CPU list"),
    ],
)
def test_ranges_checked_before_anything_runs(
    tmp_path: Path, defaults: str, key: str, problem: str
) -> None:
    """E2 and Q24: range errors name the profile key before any run starts."""
    body = defaults if defaults.startswith("{") else "{" + defaults + "}"
    path = write(tmp_path, f"profiles:\n  p:\n    defaults:\n      run_local: {body}\n")
    profile = select_profile("p", path)
    with pytest.raises(ConfigError) as caught:
        resolve_run_settings(profile)
    assert caught.value.key_path == f"profiles.p.defaults.run_local.{key}"
    assert problem in str(caught.value)


def test_missing_env_script_is_an_error_when_used(tmp_path: Path) -> None:
    path = write(tmp_path, "profiles:\n  p:\n    env_script: nowhere.sh\n")
    with pytest.raises(ConfigError, match=r"nowhere\.sh does not exist"):
        resolve_run_settings(select_profile("p", path))


def test_unknown_profile_lists_available_names(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    with pytest.raises(ConfigError, match="available profiles: fast"):
        select_profile("slow", path)


def test_slurm_fields_top_level_beats_defaults(tmp_path: Path) -> None:
    slurm = resolve_slurm_settings(select_profile("fast", write(tmp_path, FULL)))
    assert slurm.partition == "gpu"
    assert slurm.time_min == 30
    assert slurm.mem_gb == 16
    assert slurm.sbatch_options == {
        "qos_level": "normal",
        "account": "proj",
        "exclusive": True,
    }
    assert slurm.slurm_setup_cmds == ("module load x",)


def test_list_profiles_json(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    result = CliRunner().invoke(
        cli, ["list-profiles", "--profiles-file", str(path), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["profiles_file"] == str(path)
    assert data["count"] == 1
    fast = data["profiles"]["fast"]
    assert fast["env_script"] == str(tmp_path / "env" / "boot.sh")
    assert fast["defaults"]["run_local"]["retry_on_status"] == ["failed", "terminated"]
    assert fast["defaults"]["run_slurm"]["time_min"] == 30


def test_list_profiles_table_and_missing_file(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    result = CliRunner().invoke(cli, ["list-profiles", "--profiles-file", str(path)])
    assert result.exit_code == 0
    assert "fast" in result.output
    from geryon.cli.main import main

    assert main(["list-profiles", "--profiles-file", str(tmp_path / "none.yaml")]) == 2


def test_shipped_example_covers_every_key() -> None:
    from geryon.profiles import PROFILE_KEYS, RUN_LOCAL_KEYS, RUN_SLURM_KEYS

    example = Path(__file__).resolve().parents[2] / "profiles" / "profiles.yaml"
    loaded = load_profiles(example)
    assert sorted(loaded.profiles) == ["everything", "local_fast"]
    raw = __import__("yaml").safe_load(example.read_text())["profiles"]["everything"]
    assert set(raw) == set(PROFILE_KEYS)
    assert set(raw["defaults"]["run_local"]) == set(RUN_LOCAL_KEYS)
    assert set(raw["defaults"]["run_slurm"]) <= set(RUN_SLURM_KEYS)
