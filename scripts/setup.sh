#!/usr/bin/env bash
# Create .venv at the repository root with the router installed editable.
# Usage: scripts/setup.sh [--test]   (--test also installs the test extra)
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
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | quiet
extra=""
[ "${1:-}" = "--test" ] && extra="[test]"
.venv/bin/python -m pip install -q -e ".${extra}" 2>&1 | quiet
echo "ready: $root/.venv/bin/event-router" >&2
