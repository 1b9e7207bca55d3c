#!/usr/bin/env bash
# A throwaway git repository under the demo's target directory for the tag step, so that the
# demo never tags the project's own repository. Made anew on every run.
set -euo pipefail
repo="$1/repo"
rm -rf "$repo"
mkdir -p "$repo"
cd "$repo"
git init -q -b main
git config user.name "shipbook demo"
git config user.email "demo@shipbook.invalid"
git config commit.gpgsign false
echo "pretend service" > README.md
git add README.md
git commit -q -m "pretend service"
echo "throwaway repository ready at $repo"
