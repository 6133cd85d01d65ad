#!/usr/bin/env bash
# Set up .venv with the test extra, make sure the services the tests need are up, run the whole suite.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh --test
scripts/services.sh
# The UI tests drive Debian's Chromium through Playwright (never a downloaded browser build).
if [ ! -x /usr/bin/chromium ]; then
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then echo "error: cannot install chromium (apt-get install chromium)" >&2; exit 1; fi
    echo "warning: chromium is not installed; the browser tests will be skipped" >&2
  fi
fi
scripts/check-commits.py
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
exec .venv/bin/pytest "$@"
