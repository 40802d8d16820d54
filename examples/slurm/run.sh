#!/usr/bin/env bash
# Plan the sweep and show what run-slurm would submit, without a cluster.
# Run from the repository root: bash examples/slurm/run.sh [output folder]
set -euo pipefail
out="${1:-outputs}"
geryon() { if command -v geryon >/dev/null; then command geryon "$@"; else uv run geryon "$@"; fi; }

geryon plan --experiment examples/slurm/experiment.yaml --out "$out" \
    --batch-size 3 --run-id slurm
geryon run-slurm --run "$out/runs/slurm" --profile cluster \
    --profiles-file examples/slurm/profiles.yaml --dry-run
