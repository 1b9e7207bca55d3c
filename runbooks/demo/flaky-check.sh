#!/usr/bin/env bash
# A pretend integration check that fails on its first attempt of each run and passes on the
# next, to show retries. The attempt count is kept per run under the demo's target directory.
set -euo pipefail
target="$1"
mkdir -p "$target/attempts"
counter="$target/attempts/${SHIPBOOK_RUN_ID:-manual}"
attempts=$(( $(cat "$counter" 2>/dev/null || echo 0) + 1 ))
echo "$attempts" > "$counter"
echo "checking the pretend service (attempt $attempts)"
if [ "$attempts" -lt 2 ]; then
  echo "connection reset by peer (this failure is part of the demo)" >&2
  exit 1
fi
echo "integration check passed"
