"""Observe and recover: status, report, collect, rerun, recover, clean (spec §9).

Reads the plan, the attempt records and cheap Snakemake state; writes only
``exec/results/summary.json`` (collect) and ``exec/retries/`` (rerun, recover).
"""
