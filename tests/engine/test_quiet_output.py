"""What run-local shows: Snakemake's output only in its log (unless asked for),
the plan summary before the run, a progress line on a terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

from geryon.cli.main import main

GERYON = str(Path(sys.executable).parent / "geryon")
SNAKEMAKE_SAYS = "localrule geryon_"


def test_table_output_hides_snakemake_and_prints_the_plan_first(
    make_plan, capsys
) -> None:
    root = make_plan(["true", "true", "exit 4"], batch_size=2)
    assert main(["run-local", "--run", str(root)]) == 1
    captured = capsys.readouterr()
    out, err = captured.out, captured.err
    assert SNAKEMAKE_SAYS not in out + err
    assert out.index("settings") < out.index("snakemake: ") < out.index("selected")
    assert out.count("snakemake: ") == 1
    # stderr is not a terminal here: a few plain lines instead of a live line.
    lines = [line for line in err.splitlines() if line.startswith("geryon: ")]
    assert lines[0].startswith("geryon: running 2 batch(es) with Snakemake")
    assert "snakemake command (saved in " in lines[1]
    assert lines[2].startswith("geryon: Snakemake finished with exit code 1 after")
    [log_file] = (root / "exec" / "snakemake_logs").iterdir()
    assert SNAKEMAKE_SAYS in log_file.read_text()


def test_snakemake_output_flag_shows_it_live(make_plan, capsys) -> None:
    root = make_plan(["true"], batch_size=1)
    assert main(["run-local", "--snakemake-output", "--run", str(root)]) == 0
    err = capsys.readouterr().err
    assert SNAKEMAKE_SAYS in err
    assert "geryon: running" not in err


def test_verbose_flag_shows_snakemake_output(make_plan, capsys) -> None:
    root = make_plan(["true"], batch_size=1)
    assert main(["-v", "run-local", "--run", str(root)]) == 0
    assert SNAKEMAKE_SAYS in capsys.readouterr().err


def test_terminal_gets_a_progress_line_not_snakemake(make_plan) -> None:
    root = make_plan(["true", "true", "exit 4"], batch_size=1)
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm"}
    process = subprocess.Popen(
        [GERYON, "run-local", "--run", str(root)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert process.wait(timeout=120) == 1
    text = b"".join(chunks).decode("utf-8", "replace")
    assert SNAKEMAKE_SAYS not in text
    assert "batches 3/3 · configs 2 ok, 1 failed" in text
    assert "NOT all succeeded" in text
