#!/usr/bin/env bash
# Pretend unit tests: a few checks that pass, printed as a test runner would.
set -euo pipefail
for test in parses_versions renders_pages keeps_sessions; do
  echo "test ${test} ... ok"
done
echo "test result: ok. 3 passed; 0 failed"
