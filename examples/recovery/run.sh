#!/usr/bin/env bash
# launch -> status -> recover -> status, on a sweep where two configs fail once.
# Run from the repository root: bash examples/recovery/run.sh [output folder]
set -uo pipefail
out="${1:-outputs}"
run="$out/runs/recovery"
geryon() { if command -v geryon >/dev/null; then command geryon "$@"; else uv run geryon "$@"; fi; }

echo "== launch: the flaky configs fail (exit code 1 expected)"
geryon launch --experiment examples/recovery/experiment.yaml --out "$out" \
    --batch-size 2 --run-id recovery
code=$?
if [ "$code" -ne 1 ]; then
    echo "expected exit code 1 from launch, got $code" >&2
    exit 1
fi

echo "== status: which configs failed, and their logs"
geryon status --run "$run" || exit 1

echo "== recover: run only the failed configs again (resume on)"
geryon recover --run "$run" --status failed || exit 1

echo "== status: everything succeeded"
geryon status --run "$run" || exit 1
