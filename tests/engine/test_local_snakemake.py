"""The local Snakemake entry point: Snakemake's CLI without the executor plugins."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from geryon.engine import local_snakemake
sys.argv = ["snakemake", "--version"]
try:
    local_snakemake.main()
except SystemExit as stop:
    assert not stop.code, stop.code
loaded = [m for m in ("pandas", "snakemake_executor_plugin_slurm") if m in sys.modules]
print("loaded:", loaded)
"""


def test_local_entry_point_skips_the_slurm_plugin_and_pandas() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith("9.")  # Snakemake's own --version answer
    assert lines[-1] == "loaded: []"


def test_plain_snakemake_does_load_them() -> None:
    """The saving is real: Snakemake's own entry point imports both."""
    probe = PROBE.replace(
        "from geryon.engine import local_snakemake", "import snakemake.cli as cli"
    ).replace("local_snakemake.main()", "cli.main()")
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == (
        "loaded: ['pandas', 'snakemake_executor_plugin_slurm']"
    )
