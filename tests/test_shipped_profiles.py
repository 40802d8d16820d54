"""The profile files the package ships (seed README) load and resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from geryon.cli import main
from geryon.profiles import load_profiles, resolve_run_settings, resolve_slurm_settings

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "geryon" / "profiles.example.yaml"
SITES = REPO / "geryon" / "examples" / "configs" / "profiles.yaml"


def test_package_template_is_the_repository_example() -> None:
    assert TEMPLATE.read_text() == (REPO / "profiles" / "profiles.yaml").read_text()


@pytest.mark.parametrize("source", [TEMPLATE, SITES], ids=["template", "sites"])
def test_every_shipped_profile_resolves(source: Path, tmp_path: Path) -> None:
    # The template names ./env/bootstrap.sh, which a user creates next to it.
    path = tmp_path / "profiles.yaml"
    path.write_text(source.read_text())
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "bootstrap.sh").write_text("set -e\n")
    profiles = load_profiles(path)
    assert profiles.profiles
    for profile in profiles.profiles.values():
        local = resolve_run_settings(profile, command="run_local")
        assert local.settings.max_concurrent_tasks >= 1
        partition = profile.fields.get("partition")
        if partition:
            assert resolve_slurm_settings(profile).partition == partition


def test_site_presets_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["list-profiles", "--profiles-file", str(SITES), "--format", "json"]) == 0
    )
    out = capsys.readouterr().out
    for name in ("laptop", "workstation", "local_slurm", "gpu_cluster"):
        assert f'"{name}"' in out
