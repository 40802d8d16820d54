"""run-slurm on a real Slurm cluster (scripts/local-slurm.sh): job ids, batch
groups, Slurm-side ends (TIMEOUT, CANCELLED), recover, sacct and squeue status modes.

Each run takes 30-90 s (two Snakemake start-ups per job on a 2-core machine);
the whole file stays around five minutes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import defaultdict
from pathlib import Path

import pytest
from slurm_plans import GERYON, config_ids, geryon, records, sacct_rows, write_plan

from geryon.engine.snakefile import rule_prefix
from geryon.layout import RunLayout
from geryon.slurm.accounting import batch_job_ids, slurm_terminations

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

BASE_PROFILE = """
partition: debug
time_min: 2
mem_gb: 1
cpus_per_task: 1
defaults:
  run_slurm:
    executor: process
"""


def status_of(root: Path) -> dict:
    code, payload, err = geryon("status", "--run", str(root))
    assert code == 0, err
    return payload


@pytest.fixture(scope="module")
def grouped_sweep(tmp_path_factory, slurm_cluster) -> tuple[Path, dict, int]:
    """8 configs in 4 batches, two batches per Slurm job, run once for the module."""
    base = tmp_path_factory.mktemp("grouped")
    commands = [f"sh -c 'echo config {n} in $SLURM_JOB_ID' _" for n in range(8)]
    root = write_plan(base / "out" / "runs" / "sweep a", commands, batch_size=2)
    profiles = base / "profiles.yaml"
    body = BASE_PROFILE + "    batches_per_task: 2\n"
    indented = "".join(f"    {line}\n" for line in body.strip().splitlines())
    profiles.write_text(f"profiles:\n  p:\n{indented}")
    # sacct status mode here; the other runs use the default, squeue.
    code, payload, _err = geryon(
        "run-slurm",
        "--run",
        str(root),
        "--profile",
        "p",
        "--profiles-file",
        str(profiles),
        "--status-command",
        "sacct",
    )
    return root, payload, code


def test_sweep_records_every_config_under_real_job_ids(grouped_sweep) -> None:
    root, payload, code = grouped_sweep
    assert code == 0, payload
    assert payload["configs"] == {"selected": 8, "success": 8}
    found = records(root)
    assert sorted(r["config_id"] for r in found) == sorted(config_ids(root))
    job_ids = sorted({r["job_id"] for r in found})
    assert all(j.isdigit() for j in job_ids)
    rows = sacct_rows(job_ids)
    assert sorted(rows) == job_ids
    for row in rows.values():
        assert row["State"] == "COMPLETED"
        # The plugin's comment names this run's batch rules.
        assert rule_prefix("sweep a") in row["Comment"]
        assert row["JobName"].startswith("geryon_")
    # The command itself saw the same job id the record carries.
    for record in found:
        stdout = Path(record["stdout_path"]).read_text()
        assert stdout.strip().endswith(f"in {record['job_id']}")


def test_batches_per_task_two_puts_two_batches_in_one_job(grouped_sweep) -> None:
    root, payload, _ = grouped_sweep
    batches_by_job: dict[str, set[int]] = defaultdict(set)
    for record in records(root):
        batches_by_job[record["job_id"]].add(record["batch_index"])
    assert sorted(len(b) for b in batches_by_job.values()) == [2, 2]
    assert set().union(*batches_by_job.values()) == {0, 1, 2, 3}
    rows = sacct_rows(sorted(batches_by_job))
    for row in rows.values():
        # One batch's CPUs; the two batches' 2-minute budgets are summed.
        assert row["AllocCPUS"] == "1"
        assert row["Timelimit"] == "00:04:00"
    summary = {j["job_id"]: j for j in payload["slurm"]["jobs"]}
    assert {k: set(v["batch_indices"]) for k, v in summary.items()} == batches_by_job
    expected = {b: [j] for j, batches in batches_by_job.items() for b in batches}
    assert batch_job_ids(RunLayout.open(root)) == expected
    shown = status_of(root)["slurm_job_ids"]
    assert shown == {str(b): ids for b, ids in expected.items()}


def test_slurm_logs_and_job_list_are_kept(grouped_sweep) -> None:
    root, payload, _ = grouped_sweep
    job_ids = {j["job_id"] for j in payload["slurm"]["jobs"]}
    logs = root / "exec" / ".snakemake" / "slurm_logs"
    assert {p.stem for p in logs.rglob("*.log")} == job_ids
    saved = json.loads((root / "exec" / "slurm_jobs.json").read_text())
    assert set(saved["job_ids"]) == job_ids
    command = payload["snakemake"]["commands"][0]
    assert "--executor slurm" in command
    assert "--slurm-status-command sacct" in command
    assert "--group-components geryon_slurm=2" in command


def test_time_limit_kill_shows_terminated_timeout(
    slurm_cluster, slurm_plan, profiles_file
) -> None:
    """Also the squeue status mode (no accounting needed) and query_status."""
    root = slurm_plan(["sh -c 'sleep 240' _"], batch_size=1)
    profiles = profiles_file(BASE_PROFILE.replace("time_min: 2", "time_min: 1"))
    code, payload, err = geryon(
        "run-slurm",
        "--run",
        str(root),
        "--profile",
        "p",
        "--profiles-file",
        str(profiles),
        "--status-command",
        "squeue",
        "--query-status",
        timeout=400,
    )
    assert code == 1, err
    assert "--slurm-status-command squeue" in payload["snakemake"]["commands"][0]
    [job] = payload["slurm"]["jobs"]
    assert job["state"] == "TIMEOUT"
    queue = json.loads((root / "exec" / "queue_status.json").read_text())
    assert queue["available"] is True
    assert [(r["job_id"], r["state"]) for r in queue["jobs"]] == [
        (job["job_id"], "TIMEOUT")
    ]
    [config_id] = config_ids(root)
    ends = slurm_terminations(RunLayout.open(root))
    assert ends[config_id].reason == "TIMEOUT"
    assert ends[config_id].job_id == job["job_id"]
    status = status_of(root)
    assert status["configs"]["terminated_config_ids"] == [config_id]
    assert status["configs"]["terminated_reasons"] == {config_id: "TIMEOUT"}


def _wait_for_start(root: Path, config_id: str, timeout_sec: float = 180) -> str:
    """The Slurm job id once the command of ``config_id`` has started in it."""
    deadline = time.monotonic() + timeout_sec
    pattern = "task_*_*/task.events.jsonl"
    while time.monotonic() < deadline:
        for events in (root / "exec" / "batch_logs").glob(pattern):
            for line in events.read_text().splitlines():
                if '"command_start"' in line and config_id in line:
                    return events.parent.name.split("_")[1]
        time.sleep(1)
    raise AssertionError(f"{config_id} did not start in time")


def test_scancel_shows_cancelled_and_recover_completes(
    slurm_cluster, slurm_plan, profiles_file
) -> None:
    slow_once = "sh -c 'test -e ran_once && exit 0; touch ran_once; sleep 300' _"
    root = slurm_plan(["true", slow_once], batch_size=2)
    profiles = profiles_file(BASE_PROFILE)
    args = ["run-slurm", "--run", str(root), "--profile", "p"]
    args += ["--profiles-file", str(profiles), "--format", "json"]
    runner = subprocess.Popen(
        [GERYON, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        job_id = _wait_for_start(root, config_ids(root)[1])
        time.sleep(2)
        subprocess.run(["scancel", job_id], check=True, timeout=20)
        out, err = runner.communicate(timeout=240)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
            runner.wait()
    assert runner.returncode == 1, err
    assert json.loads(out)["slurm"]["jobs"][0]["state"] == "CANCELLED"
    slow_id = config_ids(root)[1]
    status = status_of(root)
    assert status["configs"]["terminated_reasons"] == {slow_id: "CANCELLED"}

    code, _payload, err = geryon(
        "recover",
        "--run",
        str(root),
        "--status",
        "terminated",
        "--backend",
        "slurm",
        "--profile",
        "p",
        "--profiles-file",
        str(profiles),
        timeout=400,
    )
    assert code == 0, err
    status = status_of(root)
    assert status["configs"]["latest_by_status"] == {"success": 2}
    assert status["configs"]["terminated_reasons"] == {}


def test_dry_run_submits_nothing_and_shows_sources(
    slurm_cluster, slurm_plan, profiles_file
) -> None:
    root = slurm_plan(["true"], batch_size=1)
    profiles = profiles_file(BASE_PROFILE)
    before = subprocess.run(
        ["squeue", "-h", "-o", "%i"], capture_output=True, text=True, check=True
    ).stdout
    code, payload, err = geryon(
        "run-slurm",
        "--run",
        str(root),
        "--profile",
        "p",
        "--profiles-file",
        str(profiles),
        "--dry-run",
        "--partition",
        "debug",
        "--sbatch-option",
        "requeue",
    )
    assert code == 0, err
    slurm = payload["slurm"]
    assert slurm["submitted"] is False
    assert slurm["source_of_truth"]["scalars"]["partition"] == "cli"
    assert slurm["mapping"]["resources"]["slurm_extra"] == "--requeue"
    assert payload["snakemake"]["commands"][0].count("--executor slurm") == 1
    assert not (root / "exec").exists()
    after = subprocess.run(
        ["squeue", "-h", "-o", "%i"], capture_output=True, text=True, check=True
    ).stdout
    assert after == before
