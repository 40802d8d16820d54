"""Slurm specifics the Snakemake plugin does not do (docs/slurm.md).

* :mod:`geryon.slurm.resources` — profile fields -> plugin resources and flags (F13);
* :mod:`geryon.slurm.backend` — the engine's ``backend="slurm"`` spec;
* :mod:`geryon.slurm.limits` — site limits read before submitting;
* :mod:`geryon.slurm.accounting` — job ids per batch, job states, Slurm-side ends;
* :mod:`geryon.slurm.queue` — ``query_status`` / ``queue`` rows from ``squeue``.
"""
