"""One way to ask Slurm's command-line tools a question.

Every query is bounded in time and never raises: a missing tool, a non-zero exit or
a hang all answer ``None``, and the caller decides what an unknown answer means.
"""

from __future__ import annotations

import logging
import subprocess

log = logging.getLogger("geryon.slurm.query")

QUERY_TIMEOUT_SEC = 10


def run_query(command: list[str]) -> str | None:
    """Run ``command`` and return its stdout, or ``None`` when it did not answer."""
    log.debug("querying Slurm: %s", " ".join(command))
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=QUERY_TIMEOUT_SEC,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as err:
        log.debug("%s failed: %s", command[0], err)
        return None
    if done.returncode != 0:
        log.debug("%s exited %s: %s", command[0], done.returncode, done.stderr)
        return None
    return done.stdout
