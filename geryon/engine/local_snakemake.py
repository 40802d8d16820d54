"""``python -m geryon.engine.local_snakemake``: Snakemake's own command line for
local runs, without loading the installed executor plugins.

Snakemake imports every installed ``snakemake_executor_plugin_*`` package when
it starts, only to offer their command-line flags; the Slurm plugin pulls in
pandas, about a third of Snakemake's start-up (0.36 s of 1.0 s measured here).
A local run needs only the built-in executors, so this entry point registers
those and then hands over to Snakemake's ``main`` unchanged: every Snakemake
flag except the plugins' own works as with ``python -m snakemake``.
"""

from __future__ import annotations

from typing import Any


def _builtin_executors_only(registry: Any) -> None:
    """Stands in for ``ExecutorPluginRegistry.collect_plugins``."""
    from snakemake.executors import dryrun, local, touch

    registry.plugins = {}
    registry.register_plugin("local", local)
    registry.register_plugin("dryrun", dryrun)
    registry.register_plugin("touch", touch)


def main() -> None:
    from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry

    # Patched before Snakemake creates its registry (when its scheduler module
    # is imported by snakemake.cli below).
    ExecutorPluginRegistry.collect_plugins = _builtin_executors_only
    from snakemake.cli import main as snakemake_main

    snakemake_main()


if __name__ == "__main__":
    main()
