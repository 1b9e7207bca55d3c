#!/usr/bin/env bash
# Starts or stops the demo's pretend service: a tiny HTTP server on a loopback port that serves
# the health page the deploy writes. `setsid` detaches it from the step that starts it.
set -euo pipefail
action="$1" target="$2" port="${3:-}" fail_after="${4:-0}"
mkdir -p "$target/www"
pid_file="$target/server.pid"
case "$action" in
  start)
    if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      kill "$(cat "$pid_file")" || true
    fi
    rm -f "$pid_file" "$target/www/health"
    setsid python3 runbooks/demo/serve.py "$target/www" "$port" "$pid_file" "$fail_after" \
      > "$target/server.log" 2>&1 < /dev/null &
    for _ in $(seq 1 50); do
      [ -s "$pid_file" ] && { echo "pretend service listening on 127.0.0.1:$port"; exit 0; }
      sleep 0.1
    done
    echo "the pretend service did not start:" >&2
    cat "$target/server.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$pid_file" ]; then
      kill "$(cat "$pid_file")" 2>/dev/null || true
      rm -f "$pid_file"
    fi
    echo "pretend service stopped"
    ;;
esac
