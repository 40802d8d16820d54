"""The live dashboard, drawn on a real pseudo-terminal while Snakemake runs."""

from __future__ import annotations

import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

from engine_plans import config_ids

GERYON = str(Path(sys.executable).parent / "geryon")
PROFILES = """
profiles:
  live:
    defaults:
      run_local:
        progress: true
        max_concurrent_tasks: 1
"""


def _read_screen(command: list[str], timeout: float = 120.0) -> tuple[int, str]:
    """Run ``command`` with stdout on a 200x50 pty; return its exit code and output."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "200", "LINES": "50"}
    process = subprocess.Popen(
        command, stdout=slave, stderr=subprocess.DEVNULL, stdin=slave, env=env
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(master)
    return process.returncode, b"".join(chunks).decode("utf-8", "replace")


def test_dashboard_shows_running_command_ids(make_plan, tmp_path: Path) -> None:
    root = make_plan(["sleep 3 && echo a", "sleep 3 && echo b"], batch_size=1)
    profiles = tmp_path / "profiles.yaml"
    profiles.write_text(PROFILES)
    code, screen = _read_screen(
        [
            GERYON,
            "run-local",
            "--run",
            str(root),
            "--profile",
            "live",
            "--profiles-file",
            str(profiles),
        ]
    )
    assert code == 0, screen[-2000:]
    assert "Running commands" in screen
    first = config_ids(root)[0][:12]
    assert first in screen
    assert "running 1" in screen or "running 2" in screen
    assert "success: 2" in screen
