#!/usr/bin/env bash
# A pretend deploy: records which version runs in which slot under the demo's target directory.
# "previous" rolls the slot back to the version it ran before.
set -euo pipefail
target="$1" slot="$2" version="$3"
mkdir -p "$target/slots"
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
echo "deployed $version to $slot"
