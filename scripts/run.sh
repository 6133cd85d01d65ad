#!/usr/bin/env bash
# Set up .venv and run the router on the embedded default (SQLite in ./event-router-data).
# Extra arguments go to `event-router run` (e.g. --tracking-log /edx/var/log/tracking/tracking.log).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh
exec .venv/bin/event-router run "$@"
