"""Each executor runs commands with the right cwd, environment, work dir, logs and
records, and derives the status by one rule (Q29, Q30)."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from tests.wrapper.conftest import (
    REPO,
    make_run,
    process_alive,
    results,
    run_wrapper,
    task_events,
    write_selection,
)

pytestmark = pytest.mark.usefixtures("no_slurm")

EXECUTORS = ["process", "tmux", "pylauncher"]


def py(code: str) -> str:
    """A planned command running Python code; extra words land in ``sys.argv``."""
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


REPORT = py(
    "import json, os, sys; json.dump({'cwd': os.getcwd(), 'argv': sys.argv[1:], "
    "'env': dict(os.environ), 'cores': sorted(os.sched_getaffinity(0))}, sys.stdout)"
)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_command_environment_and_record(tmp_path: Path, executor: str) -> None:
    experiment_dir = tmp_path / "exp dir"
    experiment_dir.mkdir()
    script = tmp_path / "boot strap.sh"
    script.write_text("export FROM_SCRIPT=sourced\n")
    layout = make_run(tmp_path / "run 'q' ü", [[REPORT]], experiment_dir=experiment_dir)
    selection = write_selection(
        layout,
        executor=executor,
        env={"ZED": "last one", "ALPHA": "a'b"},
        env_script=str(script),
        env_setup_cmds=["  export FROM_SETUP=yes  ", " "],
    )
    proc = run_wrapper(layout, selection, [0])
    assert proc.returncode == 0, proc.stderr

    (record,) = results(layout)
    report = json.loads(Path(record["stdout_path"]).read_text())
    workdir = layout.workdir(
        "local", "0", 0, 0, record["config_id"], record["attempt_id"]
    )
    assert report["cwd"] == str(experiment_dir)
    assert report["argv"] == [f'hydra.run.dir="{workdir}"']
    assert workdir.is_dir()
    env = report["env"]
    assert (env["ALPHA"], env["ZED"]) == ("a'b", "last one")
    assert (env["FROM_SCRIPT"], env["FROM_SETUP"]) == ("sourced", "yes")
    assert record["command"].startswith(
        "export ALPHA='a'\"'\"'b' && export ZED='last one' && source "
    )
    assert record["command"].endswith(
        f"export FROM_SETUP=yes && {REPORT} "
        + shlex.quote(f'hydra.run.dir="{workdir}"')
    )
    assert (record["status"], record["exit_code"], record["executor"]) == (
        "success",
        0,
        executor,
    )
    base = layout.cmd_log_base(
        "local", "0", 0, 0, record["config_id"], record["attempt_id"]
    )
    assert record["stdout_path"] == f"{base}.stdout.log"
    assert record["stderr_path"] == f"{base}.stderr.log"
    assert env["GERYON_ASSIGNED_CORE_COUNT"] == str(len(report["cores"]))
    assert env["GERYON_ASSIGNED_CORES"] == ",".join(map(str, report["cores"]))
    if executor == "tmux":
        assert record["tmux_session"].startswith("geryon_b0_l0_")
        assert record["pid"] is not None
    leftovers = {p.name for p in base.parent.iterdir()} - {
        f"{base.name}.stdout.log",
        f"{base.name}.stderr.log",
    }
    assert leftovers == set()
    events = task_events(layout, "task_local_0")
    summary = events[-1]["summary"]
    assert (summary["total"], summary["success"], summary["executor"]) == (
        1,
        1,
        executor,
    )
    assert summary["result_path"] == str(layout.result_file("local", "0"))
    kinds = [e["event"] for e in events]
    assert kinds == [
        "task_start",
        "batch_start",
        "batch_filter",
        "batch_launch",
        "command_start",
        "command_complete",
        "batch_end",
        "task_end",
    ]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_signal_death_is_terminated(tmp_path: Path, executor: str) -> None:
    layout = make_run(tmp_path / "run", [["sh -c 'kill -KILL $$'"]])
    proc = run_wrapper(layout, write_selection(layout, executor=executor), [0])
    assert proc.returncode == 1
    (record,) = results(layout)
    assert (record["status"], record["status_reason"], record["signal"]) == (
        "terminated",
        "signal",
        "SIGKILL",
    )
    assert record["exit_code"] == -9


@pytest.mark.parametrize("executor", EXECUTORS)
def test_exit_code_124_is_a_plain_failure(tmp_path: Path, executor: str) -> None:
    layout = make_run(tmp_path / "run", [["sh -c 'exit 124'"]])
    selection = write_selection(layout, executor=executor, command_timeout_sec=30)
    assert run_wrapper(layout, selection, [0]).returncode == 1
    (record,) = results(layout)
    assert (record["status"], record["status_reason"], record["exit_code"]) == (
        "failed",
        None,
        124,
    )


TRAP_AND_SPAWN = (
    'sh -c \'trap "exit 0" TERM; (trap "" TERM; sleep 60) & echo $! > child.pid; '
    "wait; exit 0'"
)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_timeout_kills_the_group_and_is_terminated(
    tmp_path: Path, executor: str
) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    layout = make_run(tmp_path / "run", [[TRAP_AND_SPAWN]], experiment_dir=exp)
    selection = write_selection(
        layout, executor=executor, command_timeout_sec=0.5, kill_grace_sec=0.3
    )
    proc = run_wrapper(layout, selection, [0])
    assert proc.returncode == 1
    (record,) = results(layout)
    assert (record["status"], record["status_reason"]) == ("terminated", "timeout_kill")
    grandchild = int((exp / "child.pid").read_text())
    assert not process_alive(grandchild)
    kinds = [e["event"] for e in task_events(layout, "task_local_0")]
    assert kinds.index("timeout_kill") == kinds.index("command_complete") + 1


def test_hydra_app_gets_its_run_dir(tmp_path: Path) -> None:
    app = REPO / "tests" / "apps" / "hydra_echo.py"
    if not app.exists():
        pytest.skip("the Hydra test apps are not there yet")
    out = tmp_path / "report.json"
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(app))} ++lr=0.1"
    layout = make_run(tmp_path / "run with space", [[command]])
    selection = write_selection(layout, env={"GERYON_ECHO_OUT": str(out)})
    proc = run_wrapper(layout, selection, [0])
    assert proc.returncode == 0, proc.stderr
    (record,) = results(layout)
    report = json.loads(out.read_text())
    workdir = layout.workdir(
        "local", "0", 0, 0, record["config_id"], record["attempt_id"]
    )
    assert report["output_dir"] == str(workdir)
    assert report["config"] == {"lr": 0.1}


@pytest.mark.parametrize("executor", EXECUTORS)
def test_background_programs_do_not_outlive_their_command(
    tmp_path: Path, executor: str
) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    command = "sh -c 'sleep 30 > /dev/null 2>&1 & echo $! > bg.pid'"
    layout = make_run(tmp_path / "run", [[command]], experiment_dir=exp)
    proc = run_wrapper(layout, write_selection(layout, executor=executor), [0])
    assert proc.returncode == 0, proc.stderr
    assert not process_alive(int((exp / "bg.pid").read_text()))


def test_pylauncher_in_an_unknown_slurm_cluster_runs_locally(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["true", "true"]])
    selection = write_selection(layout, executor="pylauncher")
    proc = run_wrapper(
        layout, selection, [0], SLURM_NODELIST="localhost", SLURM_CPUS_ON_NODE="2"
    )
    assert proc.returncode == 0, proc.stderr
    assert [r["status"] for r in results(layout)] == ["success", "success"]
    (log,) = (layout.exec_dir / "batch_logs" / "task_local_0").glob("pylauncher_*.log")
    assert (
        "PyLauncher does not know this cluster; using LocalLauncher" in log.read_text()
    )
