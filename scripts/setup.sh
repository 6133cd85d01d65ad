#!/usr/bin/env bash
# Create .venv at the repository root with the router installed editable.
# Usage: scripts/setup.sh [--test]   (--test also installs the test extra; nothing to do: no pip run)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: Python >= 3.11 is required (found $("$python" --version 2>&1))" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
quiet() { grep -v "is ignored: it is neither a file nor a directory" || true; }  # local index noise
extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
# Installing takes minutes: skip it when pyproject.toml, the extra and Python are what the last
# install in this .venv used (a test install also serves a plain run). Delete the stamp to force it.
stamp=.venv/setup-stamp
state() { { cat pyproject.toml; echo "extra=$1"; .venv/bin/python --version; } | sha256sum | cut -d' ' -f1; }
if [ -f "$stamp" ] && { [ "$(cat "$stamp")" = "$(state "$extra")" ] \
    || { [ -z "$extra" ] && [ "$(cat "$stamp")" = "$(state "[test]")" ]; }; }; then
  echo "ready (up to date): $root/.venv/bin/event-router" >&2
  exit 0
fi
rm -f "$stamp"
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | quiet
.venv/bin/python -m pip install -q -e ".${extra}" 2>&1 | quiet
state "$extra" >"$stamp"
echo "ready: $root/.venv/bin/event-router" >&2
