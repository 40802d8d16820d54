#!/usr/bin/env bash
# Makes a fresh machine ready for geryon: uv, the project's virtual environment and
# tmux. Sourced by bin/geryon and bin/test; safe to run again.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.local/bin:$PATH"
if ! command -v uv >/dev/null 2>&1; then
  echo "geryon: installing uv" >&2
  python3 -m pip install --quiet --user uv >&2 || python3 -m pip install --quiet uv >&2
fi
if ! command -v tmux >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "geryon: installing tmux" >&2
  (apt-get update -qq && apt-get install -y -qq --no-install-recommends tmux) >&2
fi
(cd "$repo" && uv sync --quiet --all-extras --frozen) >&2
# Byte-compile the environment once per lock file. Where PYTHONDONTWRITEBYTECODE is
# set, nothing else would, and every Snakemake start then recompiles its imports
# (measured here: `import snakemake.cli` 3.1 s without .pyc files, 1.5 s with them).
stamp="$repo/.venv/.geryon-bytecode"
want="$(sha1sum "$repo/uv.lock" | cut -c1-40)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$repo/.venv/bin/python" -m compileall -q -j 0 "$repo"/.venv/lib/python3*/site-packages \
    >/dev/null 2>&1 || true
  echo "$want" > "$stamp"
fi
"$repo/.venv/bin/python" -m compileall -q -j 0 "$repo/geryon" >/dev/null 2>&1 || true
