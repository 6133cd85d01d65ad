#!/usr/bin/env bash
# Set up .venv with the test extra, make sure the services the tests need are up, run the whole suite
# (what CI runs). Usage: scripts/test.sh [--fast] [PYTEST ARGS...], e.g. scripts/test.sh tests/web -x
#   --fast  the unit tier only (pytest --fast, see tests/tiers.py): no router process, browser,
#           peers, Redis or PostgreSQL, no lint; for a quick check while working.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/setup.sh --test
case " $* " in *" --fast "*) exec .venv/bin/pytest "$@" ;; esac
scripts/services.sh
# Debian packages the tests drive: Chromium through Playwright (never a downloaded browser
# build) and promtool (package prometheus) for the shipped alert rules.
need_deb() {  # need_deb COMMAND PACKAGE
  command -v "$1" >/dev/null && return 0
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2"; } >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ]; then echo "error: cannot install $2 (apt-get install $2)" >&2; exit 1; fi
    echo "warning: $2 is not installed; the tests that need $1 will be skipped" >&2
  fi
}
need_deb chromium chromium
need_deb promtool prometheus
scripts/check-commits.py
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy  # the package and the tests ([tool.mypy] in pyproject.toml)
exec .venv/bin/pytest "$@"
