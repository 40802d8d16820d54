"""clean (O17) with geryon's safety rules."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

from geryon.cli.main import main


def test_clean_exec_and_plan(run4, cli_json) -> None:
    code, result = cli_json("clean", "--run", str(run4.root), "--exec", "--plan")
    assert code == 0
    assert result == {
        "removed": [str(run4.layout.plan_dir), str(run4.layout.exec_dir)],
        "not_present": [],
        "tmux_sessions_killed": [],
    }
    assert run4.layout.run_json.is_file()
    code, again = cli_json("clean", "--run", str(run4.root), "--exec")
    assert code == 0
    assert again["removed"] == [] and again["not_present"] == [
        str(run4.layout.exec_dir)
    ]


def test_clean_all_removes_the_run_root(run4, cli_json) -> None:
    code, result = cli_json("clean", "--run", str(run4.root), "--all", "--plan")
    assert code == 0
    assert result["removed"] == [str(run4.root)]
    assert not run4.root.exists()
    assert run4.root.parent.is_dir()


def test_clean_needs_a_flag(run4, capsys) -> None:
    assert main(["clean", "--run", str(run4.root)]) == 2
    assert "at least one of --plan, --exec, --all" in capsys.readouterr().err
    assert run4.layout.plan_dir.is_dir()


def test_clean_refuses_a_directory_that_is_not_a_run(tmp_path: Path, capsys) -> None:
    victim = tmp_path / "important"
    (victim / "exec").mkdir(parents=True)
    (victim / "exec" / "keep.txt").write_text("x")
    assert main(["clean", "--run", str(victim), "--all"]) == 2
    assert "not a geryon run root" in capsys.readouterr().err
    assert (victim / "exec" / "keep.txt").is_file()


def test_clean_never_follows_symlinks_out_of_the_run(
    run4, tmp_path: Path, cli_json
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "data.txt").write_text("precious")
    run_link = tmp_path / "link-to-run"
    run_link.symlink_to(run4.root)

    shutil.rmtree(run4.layout.exec_dir)
    run4.layout.exec_dir.symlink_to(outside)
    code, result = cli_json("clean", "--run", str(run_link), "--exec")
    assert code == 0
    assert result["removed"] == [str(run4.layout.exec_dir)]
    assert (outside / "data.txt").read_text() == "precious"
    assert not run4.layout.exec_dir.exists()


def test_clean_refuses_while_the_run_lock_is_held(run4, capsys) -> None:
    lock = run4.layout.state_dir / "run.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert main(["clean", "--run", str(run4.root), "--all"]) == 1
        assert "the run is active" in capsys.readouterr().err
        assert run4.root.is_dir()
    finally:
        os.close(fd)
    assert main(["clean", "--run", str(run4.root), "--exec"]) == 0
