#!/usr/bin/env bash
# Set up .venv and run the router on the embedded default (SQLite in ./event-router-data).
# With no arguments it runs the demo (`run --demo`: the shipped sample log delivered to a local
# archive consumer, the UI's address and how to sign in); arguments go to `event-router run`
# instead (e.g. --tracking-log /edx/var/log/tracking/tracking.log).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh
if [ "$#" -eq 0 ]; then
  exec .venv/bin/event-router run --demo
fi
exec .venv/bin/event-router run "$@"
