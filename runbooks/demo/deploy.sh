#!/usr/bin/env bash
# A pretend deploy: records which version runs in which slot under the demo's target directory,
# and publishes the health page the pretend service serves. "previous" rolls the slot back.
set -euo pipefail
target="$1" slot="$2" version="$3"
mkdir -p "$target/slots" "$target/www"
current="$target/slots/$slot"
if [ "$version" = "previous" ] || [ -z "$version" ]; then
  if [ -f "$current.previous" ]; then
    mv "$current.previous" "$current"
  else
    rm -f "$current"
  fi
  echo "rolled $slot back to $(cat "$current" 2>/dev/null || echo 'nothing')"
  exit 0
fi
[ -f "$current" ] && cp "$current" "$current.previous"
echo "$version" > "$current"
echo "${SHIPBOOK_RUN_ID:-manual}" > "$current.run"
echo "ok $version" > "$target/www/health"
echo "deployed $version to $slot"
