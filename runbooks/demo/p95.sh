#!/usr/bin/env bash
# A pretend latency probe: the p95 of the admin pages in milliseconds. The version this run
# deployed is faster than whatever ran before it. Prints one number, as a metric command must.
set -euo pipefail
target="$1" slot="$2"
if [ "$(cat "$target/slots/$slot.run" 2>/dev/null)" = "${SHIPBOOK_RUN_ID:-}" ]; then
  echo 182
else
  echo 240
fi
