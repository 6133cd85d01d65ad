"""Start Ralph's LRS API with its fs backend appending instead of creating.

Ralph 5.1.0's fs data backend has `default_operation_type = CREATE` as a class attribute (no
setting or environment variable changes it), and its LRS backend always writes the same
`fs_lrs.jsonl`, so every POST after the first fails with a 500 ("already exists"). This launcher
sets the class attribute to APPEND, then runs what `ralph runserver -b fs` runs: uvicorn on
`ralph.api:app`. Configure it with Ralph's own RALPH_* environment variables.

    python -P tests/peers/ralph_launcher.py --host 127.0.0.1 --port 8100

(`-P` keeps this folder off sys.path: its `ralph.py` would shadow the real `ralph` package.)
"""

from __future__ import annotations

import argparse
import os

import uvicorn
from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    os.environ.setdefault("RALPH_RUNSERVER_BACKEND", "fs")
    FSLRSBackend.default_operation_type = BaseOperationType.APPEND
    uvicorn.run("ralph.api:app", host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
