#!/usr/bin/env bash
# Create bench/.erb-venv: event-routing-backends (ERB) 9.3.8 from PyPI, runnable outside the LMS
# (erb_transform.py configures Django itself and stubs the LMS lookups). Idempotent: does nothing
# when the venv already has ERB 9.3.8. Prints the venv path on stdout.
# Usage: bench/erb/setup.sh   (PYTHON=python3.11 to choose the interpreter)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$(dirname "$here")/.erb-venv"
python="${PYTHON:-python3}"
erb_version="9.3.8"

installed() {
  "$venv/bin/python" - "$erb_version" <<'PY' 2>/dev/null
import sys
from importlib.metadata import version
sys.exit(version("edx-event-routing-backends") != sys.argv[1])
PY
}

[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
if ! installed; then
  echo "installing edx-event-routing-backends==$erb_version into $venv" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip 2>/dev/null
  "$venv/bin/python" -m pip install -q -c "$here/constraints.txt" \
    "edx-event-routing-backends==$erb_version" 2> >(grep -v "is ignored: it is neither" >&2)
  installed || { echo "error: ERB $erb_version did not install into $venv" >&2; exit 1; }
fi
echo "$venv"
