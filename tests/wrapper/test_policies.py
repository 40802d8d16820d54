"""Retries, run-wide fail-fast (Q31, Q32), core pinning across wrappers, and no
orphans after timeouts, SIGTERM or ``kill -9`` of the wrapper."""

from __future__ import annotations

import itertools
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.wrapper.conftest import (
    REPO,
    make_run,
    process_alive,
    results,
    run_wrapper,
    task_events,
    wrapper_argv,
    write_selection,
)

pytestmark = pytest.mark.usefixtures("no_slurm")


def start_wrapper(
    layout, selection, batches, *, new_session: bool = False
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        wrapper_argv(layout, selection, batches),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=new_session,
    )


def wait_for(path: Path, timeout_sec: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_sec
    while not (path.exists() and path.read_text().strip()):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def all_task_events(layout) -> list[dict]:
    events: list[dict] = []
    for task_dir in sorted((layout.exec_dir / "batch_logs").iterdir()):
        events.extend(task_events(layout, task_dir.name))
    return events


def test_retries_only_for_listed_statuses_up_to_the_limit(tmp_path: Path) -> None:
    layout = make_run(tmp_path / "run", [["false", "sh -c 'kill -TERM $$'", "true"]])
    selection = write_selection(layout, max_retries=2, retry_on_status=["terminated"])
    assert run_wrapper(layout, selection, [0]).returncode == 1
    by_line: dict[int, list[dict]] = {}
    for record in results(layout):
        by_line.setdefault(record["line_index"], []).append(record)
    assert [r["status"] for r in by_line[0]] == ["failed"]
    assert [r["status"] for r in by_line[1]] == ["terminated"] * 3
    assert [r["attempt_index"] for r in by_line[1]] == [0, 1, 2]
    chain = [None] + [r["attempt_id"] for r in by_line[1][:2]]
    assert [r["parent_attempt_id"] for r in by_line[1]] == chain
    retries = [
        e
        for e in task_events(layout, "task_local_0")
        if e["event"] == "retry_scheduled"
    ]
    assert [(e["retry_count"], e["next_attempt_index"]) for e in retries] == [
        (1, 1),
        (2, 2),
    ]


def test_fail_fast_is_run_wide_across_concurrent_wrappers(tmp_path: Path) -> None:
    slow_fail = "sh -c 'sleep 0.15; exit 1'"
    layout = make_run(tmp_path / "run", [[slow_fail] * 8, [slow_fail] * 8, ["true"]])
    selection = write_selection(layout, max_failures=3, cores="0-1")
    procs = [start_wrapper(layout, selection, [b]) for b in (0, 1)]
    assert [p.wait(timeout=30) for p in procs] == [1, 1]
    failed = [r for r in results(layout) if r["status"] == "failed"]
    # Three failures trip the rule; the other wrapper may finish the one it runs.
    assert 3 <= len(failed) <= 4
    events = all_task_events(layout)
    stops = [e for e in events if e["event"] == "fail_fast_stop"]
    assert len(stops) == 1 and stops[0]["reason"] == "max_failures"
    dropped = sum(
        e["dropped_commands"] for e in events if e["event"] == "fail_fast_drop_pending"
    )
    assert dropped == 16 - len(failed)
    # A later batch of the same selection is not started at all.
    later = run_wrapper(layout, selection, [2])
    assert later.returncode == 1
    assert [e["event"] for e in task_events(layout, "task_local_2")].count(
        "batch_skipped_fail_fast"
    ) == 1
    assert len(results(layout)) == len(failed)
    # A new execution (the engine rewrites the selection file) starts afresh.
    selection = write_selection(layout, max_failures=3, cores="0-1", resume=True)
    assert run_wrapper(layout, selection, [2]).returncode == 0


@pytest.mark.parametrize(("min_finished", "expected_runs"), [(4, 6), (1, 1)])
def test_failure_rate_needs_a_minimum_sample(
    tmp_path: Path, min_finished: int, expected_runs: int
) -> None:
    layout = make_run(tmp_path / "run", [["false"] + ["true"] * 5])
    selection = write_selection(
        layout, fail_fast_threshold=0.5, fail_fast_min_finished=min_finished
    )
    run_wrapper(layout, selection, [0])
    assert len(results(layout)) == expected_runs


AFFINITY = (
    "import json, os, sys, time; s = time.time(); time.sleep(0.15); "
    "json.dump({'start': s, 'end': time.time(), "
    "'cores': sorted(os.sched_getaffinity(0))}, sys.stdout)"
)


@pytest.mark.parametrize(("cores_per_task", "max_concurrent"), [(1, 2), (2, 1)])
def test_concurrent_wrappers_never_share_a_core(
    tmp_path: Path, cores_per_task: int, max_concurrent: int
) -> None:
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(AFFINITY)}"
    layout = make_run(tmp_path / "run", [[command] * 5, [command] * 5])
    selection = write_selection(
        layout,
        cores="0-1",
        cores_per_task=cores_per_task,
        max_concurrent_tasks=max_concurrent,
    )
    procs = [start_wrapper(layout, selection, [b]) for b in (0, 1)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    spans = []
    for record in results(layout):
        report = json.loads(Path(record["stdout_path"]).read_text())
        assert report["cores"] == record["assigned_cores"]
        assert len(report["cores"]) == cores_per_task
        spans.append(report)
    overlapping = [
        (a, b)
        for a, b in itertools.combinations(spans, 2)
        if a["start"] < b["end"] and b["start"] < a["end"]
    ]
    for a, b in overlapping:
        assert not set(a["cores"]) & set(b["cores"])
    # With one CPU per command the two wrappers do run side by side.
    assert bool(overlapping) == (cores_per_task == 1)


SLEEPER = "sh -c 'test -e done.flag && exit 0; sleep 30 & echo $! > sleeper.pid; wait'"


@pytest.mark.parametrize("whole_group", [False, True])
def test_kill_9_leaves_no_orphan_and_resume_finishes(
    tmp_path: Path, whole_group: bool
) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    layout = make_run(tmp_path / "run", [["true", SLEEPER]], experiment_dir=exp)
    selection = write_selection(layout, resume=True, kill_grace_sec=0.2)
    wrapper = start_wrapper(layout, selection, [0], new_session=whole_group)
    wait_for(exp / "sleeper.pid")
    sleeper = int((exp / "sleeper.pid").read_text())
    if whole_group:
        os.killpg(wrapper.pid, signal.SIGKILL)
    else:
        wrapper.send_signal(signal.SIGKILL)
    wrapper.wait(timeout=10)
    assert not process_alive(sleeper, within_sec=5)

    (exp / "done.flag").touch()
    rerun = run_wrapper(layout, selection, [0])
    assert rerun.returncode == 0, rerun.stderr
    lines = sorted(r["line_index"] for r in results(layout))
    assert lines == [0, 1]


@pytest.mark.parametrize("executor", ["process", "tmux", "pylauncher"])
def test_sigterm_kills_commands_and_records_them_interrupted(
    tmp_path: Path, executor: str
) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    layout = make_run(tmp_path / "run", [[SLEEPER, "true"]], experiment_dir=exp)
    selection = write_selection(layout, executor=executor, kill_grace_sec=0.2)
    wrapper = start_wrapper(layout, selection, [0])
    wait_for(exp / "sleeper.pid")
    sleeper = int((exp / "sleeper.pid").read_text())
    os.kill(wrapper.pid, signal.SIGTERM)
    assert wrapper.wait(timeout=30) == 128 + signal.SIGTERM
    assert not process_alive(sleeper, within_sec=5)
    records = results(layout)
    sleeper_records = [r for r in records if r["line_index"] == 0]
    assert [(r["status"], r["status_reason"]) for r in sleeper_records] == [
        ("terminated", "interrupted")
    ]
    # PyLauncher may have run the quick second command before the signal.
    assert all(r["status"] == "success" for r in records if r["line_index"] == 1)
    ends = [e for e in task_events(layout, "task_local_0") if e["event"] == "batch_end"]
    assert ends[-1]["status"] == "interrupted"


def tmux_sessions() -> set[str]:
    listed = subprocess.run(
        ["tmux", "list-sessions", "-F", "#{session_name}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return set(listed.stdout.split()) if listed.returncode == 0 else set()


def test_kill_9_of_a_tmux_wrapper_kills_its_session(tmp_path: Path) -> None:
    exp = tmp_path / "exp"
    exp.mkdir()
    layout = make_run(tmp_path / "run", [[SLEEPER]], experiment_dir=exp)
    selection = write_selection(
        layout, executor="tmux", resume=True, kill_grace_sec=0.2
    )
    wrapper = start_wrapper(layout, selection, [0])
    wait_for(exp / "sleeper.pid")
    sleeper = int((exp / "sleeper.pid").read_text())
    (registered,) = (layout.state_dir / "tmux_sessions").glob("*.json")
    session = json.loads(registered.read_text())["session"]
    assert session in tmux_sessions()
    wrapper.send_signal(signal.SIGKILL)
    wrapper.wait(timeout=10)
    assert not process_alive(sleeper, within_sec=5)
    assert session not in tmux_sessions()

    (exp / "done.flag").touch()
    assert run_wrapper(layout, selection, [0]).returncode == 0
    assert not list((layout.state_dir / "tmux_sessions").glob("*.json"))


def test_stale_tmux_sessions_of_dead_wrappers_are_killed(tmp_path: Path) -> None:
    from geryon.layout import RunLayout
    from geryon.wrapper.executors.tmux import kill_stale_sessions, sessions_dir

    layout = RunLayout(tmp_path)
    name = f"geryon_test_stale_{os.getpid()}"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "sleep", "60"], check=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    sessions_dir(layout).mkdir(parents=True)
    (sessions_dir(layout) / f"{name}.json").write_text(
        json.dumps({"session": name, "pid": dead.pid, "hostname": os.uname().nodename})
    )
    try:
        assert kill_stale_sessions(layout) == [name]
        assert name not in tmux_sessions()
    finally:
        subprocess.run(
            ["tmux", "kill-session", "-t", f"={name}"],
            check=False,
            stderr=subprocess.DEVNULL,
        )


@pytest.mark.parametrize("executor", ["process", "tmux"])
def test_cores_per_task_pins_that_many_cpus(tmp_path: Path, executor: str) -> None:
    command = f"{shlex.quote(sys.executable)} -c {shlex.quote(AFFINITY)}"
    layout = make_run(tmp_path / "run", [[command, command]])
    selection = write_selection(
        layout, executor=executor, cores="0-1", cores_per_task=2, max_concurrent_tasks=4
    )
    assert run_wrapper(layout, selection, [0]).returncode == 0
    for record in results(layout):
        report = json.loads(Path(record["stdout_path"]).read_text())
        assert report["cores"] == [0, 1] == record["assigned_cores"]
