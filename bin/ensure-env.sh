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
